/**
 * Paste-back: put a transformed face crop back where it came from in the photo. Pure.
 * The result per face is a patch (box + pixels + mask), never a modified photo, so hosts can
 * write it as a masked layer and the CLI can composite it (core/layer.ts).
 */
import { RGBAImage, GrayImage, createGray, cropRGBA } from './image';
import { Affine, Box, composeAffine, invertAffine, scaleAffine, transformedBounds, warpAffine, warpGray } from './geometry';
import { faceMask, maskToGray } from './mask';
import { desaturate, isGrayscale, isMonotone, matchColor } from './color';
import { keepDetail, netChange } from './detail';
// Local aliases: a global lookup per call is slow inside VM contexts (jest), and these run per pixel.
const { round, min, max } = Math;

/** One face's result: `rgba` and `mask` are box-sized; `box` is in photo pixels. */
export interface FacePatch { box: Box; rgba: RGBAImage; mask: GrayImage }

/**
 * Part of a photo, for hosts that read only face regions at full resolution: `region` holds the
 * photo's pixels inside `regionBox` (photo coordinates, same size as `region`); `width` and
 * `height` are the whole photo's. The region must cover pasteBounds() of the face.
 */
export interface PartialPhoto { width: number; height: number; region: RGBAImage; regionBox: Box }

export interface PasteBackArgs {
  /** The whole photo, or only a region of it that covers pasteBounds(fromCrop, cropSize, ...). */
  photo: RGBAImage | PartialPhoto;
  /** Transformed face in crop space, square, cropSize * scale on a side (512 after SR x4 of a 128 crop). */
  face: RGBAImage;
  /** crop (cropSize px) -> photo transform, from alignFace. */
  fromCrop: Affine;
  /** Side of the aligned crop fromCrop refers to. */
  cropSize: number;
  /** Soft mask (0..1) at face resolution; default faceMask(face.width). */
  mask?: Float32Array;
  /**
   * How much of the change shows, 0..MAX_STRENGTH (default 1). With `crop` and `netOutput` it acts on
   * the pixels (above 1 the change is extrapolated: photo + k x change); without them it scales the mask.
   */
  strength?: number;
  /** Default true: Reinhard-match the face's colour to the original photo under the mask. */
  colorMatch?: boolean;
  /**
   * The aligned input crop (cropSize, what the net saw) and the net's answer at that size. With
   * both, paste-back keeps the photo's detail and adds the net's change (core/detail.ts); `face`
   * (the super-resolved answer) is used only where the net changed structure. Without them the
   * face replaces the photo under the mask (the first releases' paste-back).
   */
  crop?: RGBAImage;
  netOutput?: RGBAImage;
}

/** Highest strength: 150 %. */
export const MAX_STRENGTH = 1.5;

/** What is wrong with a strength, in words, or null when it is one (the engine and every host say the same). */
export function strengthProblem(strength: unknown): string | null {
  return typeof strength === 'number' && strength >= 0 && strength <= MAX_STRENGTH ? null
    : `Strength must be between 0 and ${MAX_STRENGTH} (0-${MAX_STRENGTH * 100} %), got ${strength}.`;
}

/**
 * The photo-pixel box a face crop lands in: bounds of the crop's transformed corners, clipped to
 * the photo; null when it falls outside. Hosts that send only face regions must read at least
 * this box. It does not depend on the face's resolution, only on the crop's geometry.
 */
export function pasteBounds(fromCrop: Affine, cropSize: number, photoWidth: number, photoHeight: number): Box | null {
  return transformedBounds(fromCrop, cropSize, cropSize, photoWidth, photoHeight);
}

function isPartial(p: RGBAImage | PartialPhoto): p is PartialPhoto {
  return (p as PartialPhoto).region !== undefined;
}

/**
 * Warp the face and its mask back into the photo, into the bounding box of the crop's corners
 * only (work and memory scale with the face, not the photo), and colour-match it there.
 *
 * Colour statistics are taken in photo space, over the box: the reference is the original
 * photo pixels themselves (no resampling), weighted by the same warped mask that will blend
 * the face, so what is matched is exactly what the seam will show, and no second warp of the
 * photo into face space is needed.
 */
export function pasteBack(args: PasteBackArgs): FacePatch | null {
  const { photo, face, fromCrop, cropSize } = args;
  const strength = args.strength ?? 1;
  const detail = !!(args.crop && args.netOutput);
  const maxStrength = detail ? MAX_STRENGTH : 1;
  if (!(strength >= 0 && strength <= maxStrength)) throw new Error(`pasteBack: strength must be between 0 and ${maxStrength}, got ${strength}.`);
  if (face.width !== face.height || face.width < 1) throw new Error(`pasteBack: the face must be square, got ${face.width}x${face.height}.`);
  if (!(cropSize > 0)) throw new Error(`pasteBack: cropSize must be positive, got ${cropSize}.`);
  const F = face.width;
  const mask = args.mask ?? faceMask(F);
  if (mask.length !== F * F) throw new Error(`pasteBack: mask has ${mask.length} values, expected ${F}x${F} to match the face.`);

  const photoW = photo.width, photoH = photo.height;
  const box = pasteBounds(fromCrop, cropSize, photoW, photoH);
  if (!box) return null;

  // Where the photo's pixels come from: the whole image, or the region with its offset.
  let pixels: RGBAImage, ox = 0, oy = 0;
  if (isPartial(photo)) {
    const { region, regionBox: rb } = photo;
    if (region.width !== rb.width || region.height !== rb.height) {
      throw new Error(`pasteBack: region is ${region.width}x${region.height} but regionBox is ${rb.width}x${rb.height}; they must match.`);
    }
    if (box.x < rb.x || box.y < rb.y || box.x + box.width > rb.x + rb.width || box.y + box.height > rb.y + rb.height) {
      throw new Error(`pasteBack: the photo region (${rb.x},${rb.y} ${rb.width}x${rb.height}) does not cover the face's paste box `
        + `(${box.x},${box.y} ${box.width}x${box.height}). Read the region pasteBounds() returns.`);
    }
    pixels = region; ox = rb.x; oy = rb.y;
  } else {
    pixels = photo;
  }

  // face px -> crop px -> photo px; then box-local px -> photo px -> face px for the inverse warp.
  const faceToPhoto = composeAffine(fromCrop, scaleAffine(cropSize / F));
  const boxToFace = composeAffine(invertAffine(faceToPhoto), [1, 0, box.x, 0, 1, box.y]);

  let rgba = warpAffine(face, boxToFace, box.width, box.height);
  // The mask is smooth (feather ~ a tenth of the face), so plain bilinear without supersampling
  // does not alias even when the face shrinks; outside the crop it reads 0.
  const m = warpGray(maskToGray(mask, F, F), boxToFace, box.width, box.height, 0);

  const original = cropRGBA(pixels, box.x - ox, box.y - oy, box.width, box.height);
  const weights = new Float32Array(m.length);
  // transparent pixels of a cut-out carry no colour worth matching
  for (let i = 0; i < m.length; i++) weights[i] = (m[i] / 255) * (original.data[i * 4 + 3] / 255);
  if (detail) {
    const boxToCrop = composeAffine(invertAffine(fromCrop), [1, 0, box.x, 0, 1, box.y]);
    rgba = applyChange(original, rgba, args.crop!, args.netOutput!, boxToCrop, strength, args.colorMatch ?? true);
  } else if (args.colorMatch ?? true) rgba = matchColor(rgba, original, weights);
  // Without colour matching (the net's colours are the change, e.g. skin tone) a toned
  // black-and-white photo still gets its tone: the face keeps the net's lightness, takes the photo's colour.
  else if (isMonotone(original, weights)) rgba = matchColor(rgba, original, weights, { channels: [1, 2], minRatio: 0 });
  // A black-and-white photo gets a black-and-white face (the nets always answer in colour).
  if (isGrayscale(original)) rgba = desaturate(rgba);
  // The face is as opaque as the photo under it: a cut-out stays cut out, in the layer and the composite alike.
  for (let i = 3; i < rgba.data.length; i += 4) rgba.data[i] = original.data[i];

  const outMask = createGray(box.width, box.height);
  const maskScale = detail ? 1 : strength;
  for (let i = 0; i < m.length; i++) outMask.data[i] = round(m[i] * maskScale);
  return { box, rgba, mask: outMask };
}

/**
 * Detail from the photo, change from the net (core/detail.ts), in the paste box:
 *   out = keep * (photo + change) + (1 - keep) * face,
 * where `change` is the net's crop-scale change and `face` its super-resolved answer (already
 * warped into the box, colour-matched if asked). Strength k: photo + k * (out - photo) up to 1,
 * then out + (k - 1) * change (only the smooth change is extrapolated).
 */
function applyChange(original: RGBAImage, face: RGBAImage, crop: RGBAImage, netOutput: RGBAImage, boxToCrop: Affine,
  strength: number, colorMatch: boolean): RGBAImage {
  const S = crop.width;
  if (crop.height !== S || netOutput.width !== S || netOutput.height !== S) {
    throw new Error(`pasteBack: crop ${crop.width}x${crop.height} and net output ${netOutput.width}x${netOutput.height} must be square and the same size.`);
  }
  const cropWeights = faceMask(S);
  // colour policy on the change itself: a Reinhard match of the net's answer to its input keeps the
  // net's local changes and drops its overall colour cast
  const y = colorMatch ? matchColor(netOutput, crop, cropWeights) : netOutput;
  const keep = keepDetail(crop, y);
  const change = netChange(crop, y, cropWeights);
  const W = original.width, H = original.height;
  const kw = warpGray(keep, boxToCrop, W, H, 1);
  const dw = change.map((p) => warpGray(p, boxToCrop, W, H, 0));
  // the colour match, as a smooth field (matched minus raw answer), also corrects the super-resolved
  // face: no per-pixel Lab conversion at full resolution
  const cw = colorMatch ? [0, 1, 2].map((c) => {
    const d = new Float32Array(S * S);
    for (let i = 0; i < S * S; i++) d[i] = y.data[i * 4 + c] - netOutput.data[i * 4 + c];
    return warpGray({ width: S, height: S, data: d }, boxToCrop, W, H, 0);
  }) : null;
  const out: RGBAImage = { width: W, height: H, data: new Uint8ClampedArray(original.data.length) };
  const o = original.data, f = face.data, r = out.data;
  const lo = min(strength, 1), extra = max(0, strength - 1);
  for (let i = 0; i < W * H; i++) {
    const k = kw[i];
    for (let c = 0; c < 3; c++) {
      const p = o[i * 4 + c], d = dw[c][i];
      const full = k * (p + d) + (1 - k) * (f[i * 4 + c] + (cw ? cw[c][i] : 0));
      r[i * 4 + c] = p + lo * (full - p) + extra * d;
    }
    r[i * 4 + 3] = o[i * 4 + 3];
  }
  return out;
}
