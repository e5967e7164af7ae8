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
 */
export function facesToLayer(patches: FacePatch[]): FaceLayer | null {
  if (!patches.length) return null;
  const x0 = min(...patches.map((p) => p.box.x)), y0 = min(...patches.map((p) => p.box.y));
  const x1 = max(...patches.map((p) => p.box.x + p.box.width)), y1 = max(...patches.map((p) => p.box.y + p.box.height));
  const box = { x: x0, y: y0, width: x1 - x0, height: y1 - y0 };
  const rgba = createRGBA(box.width, box.height);
  const mask = createGray(box.width, box.height);
  for (const p of patches) {
    for (let y = 0; y < p.box.height; y++) {
      for (let x = 0; x < p.box.width; x++) {
        const s = y * p.box.width + x;
        const d = (p.box.y - y0 + y) * box.width + (p.box.x - x0 + x);
        const m = p.mask.data[s];
        if (rgba.data[d * 4 + 3] !== 0 && m <= mask.data[d]) continue;
        rgba.data.set(p.rgba.data.subarray(s * 4, s * 4 + 4), d * 4);
        if (m > mask.data[d]) mask.data[d] = m;
      }
    }
  }
  return { box, rgba, mask };
}

/** A new image: the photo with the layer blended over it through its mask (the photo is not modified). */
export function compositeLayer(photo: RGBAImage, layer: FaceLayer): RGBAImage {
  const out: RGBAImage = { width: photo.width, height: photo.height, data: new Uint8ClampedArray(photo.data) };
  const { box } = layer;
  for (let y = 0; y < box.height; y++) {
    for (let x = 0; x < box.width; x++) {
      const s = y * box.width + x;
      const a = (layer.mask.data[s] / 255) * (layer.rgba.data[s * 4 + 3] / 255);
      if (a === 0) continue;
      const d = ((box.y + y) * photo.width + box.x + x) * 4;
      for (let c = 0; c < 3; c++) out.data[d + c] = photo.data[d + c] * (1 - a) + layer.rgba.data[s * 4 + c] * a;
    }
  }
  return out;
}
