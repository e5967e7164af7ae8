/** Turn the engine's per-face patches into one layer (pixels + mask) and into a composited photo. */
import { RGBAImage, GrayImage, createRGBA, createGray } from './image';
import type { Box } from './geometry';
import type { FacePatch } from './blend';
// Local aliases: a global lookup per call is slow inside VM contexts (jest), and these run per pixel.
const { max, min } = Math;

export interface FaceLayer { box: Box; rgba: RGBAImage; mask: GrayImage }

/**
 * One layer holding every face: inside each patch's box the generated pixels (opaque, so a
 * retoucher can paint the mask to reveal more), the soft mask controls what shows. Where two
 * patches overlap, the one with the stronger mask wins the pixel; the mask is the maximum.
 *
 * The layer's box is the box around every patch: on a group photo most of the frame, while the
 * faces are a small part of it. So its pixels are drawn only when first read (`rgba`, `mask`);
 * until then `layerRow` draws single rows from the patches, and a writer that goes row by row
 * (the command line's PSD and PNG) never holds the whole box.
 */
export function facesToLayer(patches: FacePatch[]): FaceLayer | null {
  return patches.length ? new PatchLayer(patches) : null;
}

class PatchLayer implements FaceLayer {
  readonly box: Box;
  private drawn: { rgba: RGBAImage; mask: GrayImage } | null = null;
  private row: { y: number; rgba: Uint8ClampedArray; mask: Uint8ClampedArray } | null = null;

  constructor(private readonly patches: FacePatch[]) {
    const x0 = min(...patches.map((p) => p.box.x)), y0 = min(...patches.map((p) => p.box.y));
    const x1 = max(...patches.map((p) => p.box.x + p.box.width)), y1 = max(...patches.map((p) => p.box.y + p.box.height));
    this.box = { x: x0, y: y0, width: x1 - x0, height: y1 - y0 };
  }

  get rgba(): RGBAImage { return this.draw().rgba; }
  get mask(): GrayImage { return this.draw().mask; }

  private draw() {
    if (!this.drawn) {
      const { width, height } = this.box;
      const rgba = createRGBA(width, height), mask = createGray(width, height);
      for (let y = 0; y < height; y++) this.drawRow(y, rgba.data.subarray(y * width * 4, (y + 1) * width * 4), mask.data.subarray(y * width, (y + 1) * width));
      this.drawn = { rgba, mask };
      this.row = null;
    }
    return this.drawn;
  }

  /** Row `y` (0 = the box's top): views into the drawn layer, or drawn from the patches into a row buffer (valid until the next call). */
  rowAt(y: number): { rgba: Uint8ClampedArray; mask: Uint8ClampedArray } {
    const w = this.box.width;
    if (this.drawn) return { rgba: this.drawn.rgba.data.subarray(y * w * 4, (y + 1) * w * 4), mask: this.drawn.mask.data.subarray(y * w, (y + 1) * w) };
    this.row ??= { y: -1, rgba: new Uint8ClampedArray(w * 4), mask: new Uint8ClampedArray(w) };
    if (this.row.y !== y) { this.drawRow(y, this.row.rgba, this.row.mask); this.row.y = y; }
    return this.row;
  }

  /** Row `y` of the layer into zeroed-or-not row buffers: patch by patch, in order, as the rule above says. */
  private drawRow(y: number, rgba: Uint8ClampedArray, mask: Uint8ClampedArray): void {
    rgba.fill(0); mask.fill(0);
    const Y = this.box.y + y, x0 = this.box.x;
    const active = this.patches.filter((p) => Y >= p.box.y && Y < p.box.y + p.box.height);
    // patches side by side on this row (the usual case): each row is copied as it is
    const apart = active.every((p, i) => active.every((q, j) => j <= i || p.box.x + p.box.width <= q.box.x || q.box.x + q.box.width <= p.box.x));
    for (const p of active) {
      const w = p.box.width, py = Y - p.box.y, dx = p.box.x - x0;
      if (apart) {
        rgba.set(p.rgba.data.subarray(py * w * 4, (py + 1) * w * 4), dx * 4);
        mask.set(p.mask.data.subarray(py * w, (py + 1) * w), dx);
        continue;
      }
      for (let x = 0; x < w; x++) {
        const s = py * w + x, d = dx + x;
        const m = p.mask.data[s];
        if (rgba[d * 4 + 3] !== 0 && m <= mask[d]) continue;
        rgba.set(p.rgba.data.subarray(s * 4, s * 4 + 4), d * 4);
        if (m > mask[d]) mask[d] = m;
      }
    }
  }
}

/** Row `y` (0 = the box's top) of a layer's pixels and mask, without drawing the whole layer (valid until the next call). */
export function layerRow(layer: FaceLayer, y: number): { rgba: Uint8ClampedArray; mask: Uint8ClampedArray } {
  if (layer instanceof PatchLayer) return layer.rowAt(y);
  const w = layer.box.width;
  return { rgba: layer.rgba.data.subarray(y * w * 4, (y + 1) * w * 4), mask: layer.mask.data.subarray(y * w, (y + 1) * w) };
}

/**
 * Row `y` of the composite (the photo with the layer blended over it through its mask) into `out`
 * (the row's width * 4 bytes). `out` may be that row of the photo itself: each pixel is read before
 * it is written. Writers that stream the composite call this per row instead of holding a copy.
 */
export function compositeRow(photo: RGBAImage, layer: FaceLayer | null, y: number, out: Uint8ClampedArray): void {
  const rowBytes = photo.width * 4, p0 = y * rowBytes;
  if (out.buffer !== photo.data.buffer || out.byteOffset !== photo.data.byteOffset + p0) out.set(photo.data.subarray(p0, p0 + rowBytes));
  if (!layer) return;
  const { box } = layer;
  const ly = y - box.y;
  if (ly < 0 || ly >= box.height) return;
  const src = photo.data;
  const { rgba: l, mask: m } = layerRow(layer, ly);
  for (let x = 0; x < box.width; x++) {
    const a = (m[x] / 255) * (l[x * 4 + 3] / 255);
    if (a === 0) continue;
    const d = (box.x + x) * 4;
    for (let c = 0; c < 3; c++) out[d + c] = src[p0 + d + c] * (1 - a) + l[x * 4 + c] * a;
  }
}

/** A new image: the photo with the layer blended over it through its mask (the photo is not modified). */
export function compositeLayer(photo: RGBAImage, layer: FaceLayer): RGBAImage {
  return compositeLayerInPlace({ width: photo.width, height: photo.height, data: new Uint8ClampedArray(photo.data) }, layer);
}

/**
 * The photo itself becomes the composite (only the layer's rows change), for a caller that no longer
 * needs the photo's own pixels: a 100 MP composite is then never a second 400 MB copy.
 */
export function compositeLayerInPlace(photo: RGBAImage, layer: FaceLayer): RGBAImage {
  const rowBytes = photo.width * 4;
  for (let y = layer.box.y; y < layer.box.y + layer.box.height; y++) compositeRow(photo, layer, y, photo.data.subarray(y * rowBytes, (y + 1) * rowBytes));
  return photo;
}
