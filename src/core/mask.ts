/** Soft masks for paste-back. Values are floats in 0..1 (1 = the new face shows fully). Pure. */
import { GrayImage, createGray } from './image';
// Local aliases: a global lookup per call is slow inside VM contexts (jest), and these run per pixel.
const { abs, hypot, max, min, round } = Math;

export interface FaceMaskOptions {
  /** Width of the smooth falloff, in mask pixels. Default featherForFace(size): a tenth of the side. */
  feather?: number;
  /** Margin, in mask pixels, between the crop's edge and where the mask reaches 0. Default max(1, size/64). */
  inset?: number;
}

/** Hermite smoothstep: C1 at both ends, so the seam has no visible kink in brightness. */
function smoothstep(e0: number, e1: number, x: number): number {
  const t = min(1, max(0, (x - e0) / (e1 - e0)));
  return t * t * (3 - 2 * t);
}

/**
 * Soft mask for an aligned face crop (size x size), row-major.
 *
 * Shape: a rounded box (a "squircle") centred on the crop. Its outer contour, where the mask
 * reaches 0, is the crop inset by `inset` pixels with corners of radius a quarter of the side;
 * the mask rises with a smoothstep over `feather` pixels inward from that contour and is 1
 * inside. With the defaults at size 512 (feather 51, inset 8) the fully shown area spans
 * about 0.12..0.88 of the side in x and y, which covers the face of a UTKFace-framed crop
 * (eyes ~0.45, mouth ~0.72, face x 0.15..0.85, y 0.2..0.95) except the very bottom of the
 * chin, which is blended partially. Why fall off inward instead of around the face: the
 * crop's border is warp padding (edge-replicated pixels), so it must never show, and the chin
 * sits too close to the bottom edge for an outward falloff to reach 0 in time. The rounded
 * corners keep the hair and shoulder corners, which are background rather than face, faded.
 *
 * The value is a smoothstep of the signed distance to a convex shape, so it is 1 at the
 * centre and never increases along any ray from the centre outward.
 */
export function faceMask(size: number, opts: FaceMaskOptions = {}): Float32Array {
  if (!Number.isInteger(size) || size < 4) throw new Error(`faceMask: size must be an integer of at least 4, got ${size}.`);
  const inset = opts.inset ?? max(1, size / 64);
  const half = size / 2 - inset;
  if (!(inset >= 0) || half <= 1) throw new Error(`faceMask: inset ${inset} leaves no room in a ${size} px crop.`);
  // A feather wider than the half-extent would lower the centre below 1; cap it just under.
  const feather = min(max(opts.feather ?? featherForFace(size), 1e-3), half - 0.5);
  const radius = min(half, size / 4);
  const core = half - radius; // half-extent of the box before rounding
  const c = size / 2;
  const out = new Float32Array(size * size);
  for (let y = 0; y < size; y++) {
    const qy = abs(y + 0.5 - c) - core;
    for (let x = 0; x < size; x++) {
      const qx = abs(x + 0.5 - c) - core;
      // Signed distance to the rounded box (negative inside).
      const outside = hypot(max(qx, 0), max(qy, 0));
      const d = outside + min(max(qx, qy), 0) - radius;
      out[y * size + x] = smoothstep(0, feather, -d);
    }
  }
  return out;
}

/** Feather width in photo pixels for a face this wide: about a tenth of it, never under 2 px. */
export function featherForFace(faceWidthPx: number): number {
  return max(2, faceWidthPx / 10);
}

/** Quantise a 0..1 float mask to an 8-bit mask (0..255), clamping out-of-range values. */
export function maskToGray(mask: Float32Array, width: number, height: number): GrayImage {
  if (mask.length !== width * height) throw new Error(`maskToGray: mask has ${mask.length} values, expected ${width}x${height}.`);
  const out = createGray(width, height);
  for (let i = 0; i < mask.length; i++) out.data[i] = round(min(1, max(0, mask[i])) * 255);
  return out;
}
