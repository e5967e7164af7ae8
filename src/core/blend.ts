/**
 * Paste-back: put a transformed face crop back where it came from in the photo. Pure.
 * The result per face is a patch (box + pixels + mask), never a modified photo, so hosts can
 * write it as a masked layer and the CLI can composite it (core/layer.ts).
 */
import { RGBAImage, GrayImage, createGray, cropRGBA, resizeArea } from './image';
import { Affine, Box, affineScale, composeAffine, invertAffine, scaleAffine, transformedBounds, warpAffine, warpGray } from './geometry';
import { faceMask, maskToGray } from './mask';
import { ColorPolicy, correctColor, desaturate, isGrayscale, isMonotone, lightnessWithColour, matchColor } from './color';
import { keepDetail, netChange } from './detail';
// Local aliases: a global lookup per call is slow inside VM contexts (jest), and these run per pixel.
const { floor, round, min, max } = Math;

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
  /**
   * Soft mask (0..1) over the face, square, at any resolution (it is smooth: the crop's size is
   * plenty); default faceMask(face.width).
   */
  mask?: Float32Array;
  /**
   * How much of the change shows, 0..MAX_STRENGTH (default 1). With `crop` and `netOutput` it acts on
   * the pixels (above 1 the change is extrapolated: photo + k x change); without them it scales the mask.
   */
  strength?: number;
  /** How the net's colours are treated (core/color.ts ColorPolicy); default 'reinhard'. */
  color?: ColorPolicy;
  /**
   * The aligned input crop (cropSize, what the net saw) and the net's answer at that size. With
   * both, paste-back keeps the photo's detail and adds the net's change (core/detail.ts); `face`
   * (the super-resolved answer) is used only where the net changed structure. Without them the
   * face replaces the photo under the mask (the first releases' paste-back).
   */
  crop?: RGBAImage;
  netOutput?: RGBAImage;
  /** Detail paste: compress outlier changes (core/detail.ts DetailOptions.limitOutliers; default true). */
  limitOutliers?: boolean;
  /**
   * Detail paste: how much of the photo's fine detail is kept where the net did not change structure,
   * 0..1 (default 1). Below 1 the net's own super-resolved pixels are mixed in everywhere, e.g. the
   * smoother skin a male->female net draws.
   */
  photoDetail?: number;
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
  const color = args.color ?? 'reinhard';
  const detail = !!(args.crop && args.netOutput);
  const maxStrength = detail ? MAX_STRENGTH : 1;
  if (!(strength >= 0 && strength <= maxStrength)) throw new Error(`pasteBack: strength must be between 0 and ${maxStrength}, got ${strength}.`);
  if (face.width !== face.height || face.width < 1) throw new Error(`pasteBack: the face must be square, got ${face.width}x${face.height}.`);
  if (!(cropSize > 0)) throw new Error(`pasteBack: cropSize must be positive, got ${cropSize}.`);
  const photoDetail = args.photoDetail ?? 1;
  if (!(photoDetail >= 0 && photoDetail <= 1)) throw new Error(`pasteBack: photoDetail must be between 0 and 1, got ${photoDetail}.`);
  const F = face.width;
  const mask = args.mask ?? faceMask(F);
  const MS = Math.round(Math.sqrt(mask.length));
  if (MS < 1 || MS * MS !== mask.length) throw new Error(`pasteBack: mask has ${mask.length} values; it must be square.`);

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

  // The mask is smooth (feather ~ a tenth of the face), so plain bilinear without supersampling
  // does not alias even when the face shrinks; outside the crop it reads 0. At the crop's size it
  // is warped with the detail paste's fields, in the same pass.
  const warpMask = () => warpGray(maskToGray(mask, MS, MS), composeAffine(scaleAffine(MS / F), boxToFace), box.width, box.height, 0);
  const outMask = createGray(box.width, box.height);

  const original = cropRGBA(pixels, box.x - ox, box.y - oy, box.width, box.height);
  let rgba: RGBAImage;
  if (detail) {
    const boxToCrop = composeAffine(invertAffine(fromCrop), [1, 0, box.x, 0, 1, box.y]);
    const fused = MS === args.crop!.width;
    rgba = applyChange(original, face, boxToFace, args.crop!, args.netOutput!, boxToCrop, strength, color, fused ? { mask, out: outMask.data } : null,
      args.limitOutliers ?? true, photoDetail);
    if (!fused) { const m = warpMask(); for (let i = 0; i < m.length; i++) outMask.data[i] = round(m[i]); }
    // A toned black-and-white photo (sepia, a scan's faint tint) stays one: the change keeps the
    // net's lightness and takes the print's colour, whatever colours the net drew (eyelids, lips).
    // (judged on the crop the net saw, under the mask: a few thousand pixels, not the whole box)
    if (isMonotone(args.crop!, maskAt(mask, MS, args.crop!.width))) rgba = lightnessWithColour(rgba, original);
  } else {
    const m = warpMask();
    for (let i = 0; i < m.length; i++) outMask.data[i] = round(m[i] * strength);
    rgba = warpAffine(face, boxToFace, box.width, box.height);
    const weights = new Float32Array(m.length);
    // transparent pixels of a cut-out carry no colour worth matching
    for (let i = 0; i < m.length; i++) weights[i] = (m[i] / 255) * (original.data[i * 4 + 3] / 255);
    if (color !== 'none') rgba = correctColor(rgba, original, weights, color);
    // Without colour matching (the net's colours are the change, e.g. skin tone) a toned
    // black-and-white photo still gets its tone: the face keeps the net's lightness, takes the photo's colour.
    else if (isMonotone(original, weights)) rgba = matchColor(rgba, original, weights, { channels: [1, 2], minRatio: 0 });
  }
  // A black-and-white photo gets a black-and-white face (the nets always answer in colour).
  if (isGrayscale(original)) rgba = desaturate(rgba);
  // The face is as opaque as the photo under it: a cut-out stays cut out, in the layer and the composite alike
  // (applyChange copies alpha itself).
  if (!detail) for (let i = 3; i < rgba.data.length; i += 4) rgba.data[i] = original.data[i];
  return { box, rgba, mask: outMask };
}

/** A square mask (side `from`) at side `to`, nearest sample. */
function maskAt(mask: Float32Array, from: number, to: number): Float32Array {
  if (from === to) return mask;
  const out = new Float32Array(to * to);
  for (let y = 0; y < to; y++) {
    const sy = min(from - 1, floor(((y + 0.5) * from) / to));
    for (let x = 0; x < to; x++) out[y * to + x] = mask[sy * from + min(from - 1, floor(((x + 0.5) * from) / to))];
  }
  return out;
}

/**
 * Detail from the photo, change from the net (core/detail.ts), in the paste box:
 *   out = keep * (photo + change) + (1 - keep) * face,
 * where `change` is the net's crop-scale change and `face` its super-resolved answer (colour-corrected
 * by the same field as the change). Strength k: photo + k * (out - photo) up to 1, then
 * out + (k - 1) * change (only the smooth change is extrapolated).
 *
 * One pass over the box: the crop-scale fields (keep, change, colour) are sampled together, and the
 * super-resolved face only where it is used (keep < 1), so the cost is a few operations per pixel.
 */
function applyChange(original: RGBAImage, face: RGBAImage, boxToFace: Affine, crop: RGBAImage, netOutput: RGBAImage,
  boxToCrop: Affine, strength: number, color: ColorPolicy, mask: { mask: Float32Array; out: Uint8ClampedArray } | null,
  limitOutliers: boolean, photoDetail: number): RGBAImage {
  const S = crop.width;
  if (crop.height !== S || netOutput.width !== S || netOutput.height !== S) {
    throw new Error(`pasteBack: crop ${crop.width}x${crop.height} and net output ${netOutput.width}x${netOutput.height} must be square and the same size.`);
  }
  const cropWeights = faceMask(S);
  // the colour policy acts on the change itself: the net's answer is corrected against its own input
  // (e.g. a Reinhard match keeps the net's local changes and drops its overall colour cast)
  const y = correctColor(netOutput, crop, cropWeights, color);
  const keep = keepDetail(crop, y).data;
  const change = netChange(crop, y, cropWeights, { limitOutliers }).map((p) => p.data);
  // the fields interleaved, 7 per crop pixel, on a grid padded by one cell of "outside" (keep 1: the
  // photo, no change): keep, change (RGB), colour correction (corrected minus raw answer, RGB; it
  // also corrects the super-resolved face: no per-pixel Lab at full resolution)
  const P = S + 2, fields = new Float32Array(P * P * NF);
  for (let i = 0; i < P * P; i++) fields[i * NF] = 1;
  const M = mask?.mask;
  for (let yy = 0; yy < S; yy++) {
    for (let xx = 0; xx < S; xx++) {
      const i = yy * S + xx, o = ((yy + 1) * P + xx + 1) * NF;
      fields[o] = keep[i] * photoDetail;
      if (M) fields[o + 7] = round(M[i] * 255); // the paste mask (0 outside), quantised as maskToGray does
      for (let c = 0; c < 3; c++) {
        fields[o + 1 + c] = change[c][i];
        fields[o + 4 + c] = y.data[i * 4 + c] - netOutput.data[i * 4 + c];
      }
    }
  }
  const W = original.width, H = original.height;
  // a face box smaller than the super-resolved face: the face is shrunk by area to about the box's
  // scale first (a little above it), so one bilinear sample a pixel does not alias
  let fimg = face, toFace = boxToFace;
  const scale = affineScale(boxToFace);
  if (scale > 1 + 1e-6) {
    const side = Math.ceil(face.width / scale);
    fimg = resizeArea(face, side, side);
    toFace = composeAffine(scaleAffine(side / face.width), boxToFace);
  }
  const out: RGBAImage = { width: W, height: H, data: new Uint8ClampedArray(original.data.length) };
  changeKernel(out.data, original.data, W, H, fields, P, boxToCrop, fimg.data, fimg.width, fimg.height, toFace,
    min(strength, 1), max(0, strength - 1), mask ? mask.out : new Uint8ClampedArray(W * H));
  return out;
}

/** Fields per crop cell: keep, change RGB, colour correction RGB, paste mask. */
const NF = 8;

/**
 * The per-pixel part of applyChange, kept small and monomorphic (typed arrays and numbers) so the
 * JIT compiles it tight: the fields sampled bilinearly on the padded grid, the face where keep < 1.
 */
function changeKernel(r: Uint8ClampedArray, o8: Uint8ClampedArray, W: number, H: number, fields: Float32Array, P: number,
  boxToCrop: Affine, FD: Uint8ClampedArray, FW: number, FH: number, boxToFace: Affine, lo: number, extra: number, maskOut: Uint8ClampedArray): void {
  const [a, b, c, d, e, f] = boxToCrop;
  const [fa, fb, fc, fd, fe, ff] = boxToFace;
  const F1 = FW - 1, G1 = FH - 1, PN = P * NF, lim = P - 3;
  for (let yy = 0; yy < H; yy++) {
    const by = b * (yy + 0.5), ey = e * (yy + 0.5), fby = fb * (yy + 0.5), fey = fe * (yy + 0.5);
    for (let xx = 0; xx < W; xx++) {
      const u = a * (xx + 0.5) + by + c - 0.5, v = d * (xx + 0.5) + ey + f - 0.5;
      const x0 = floor(u), y0 = floor(v);
      const q = (yy * W + xx) * 4;
      const p0 = o8[q], p1 = o8[q + 1], p2 = o8[q + 2];
      r[q + 3] = o8[q + 3];
      // padded grid: crop cell x0 sits at x0 + 1; beyond one cell past the crop everything is outside
      if (x0 < -1 || y0 < -1 || x0 > lim || y0 > lim) { r[q] = p0; r[q + 1] = p1; r[q + 2] = p2; maskOut[q >> 2] = 0; continue; }
      const fx = u - x0, fy = v - y0, gx = 1 - fx, gy = 1 - fy;
      const w00 = gx * gy, w01 = fx * gy, w10 = gx * fy, w11 = fx * fy;
      const i = ((y0 + 1) * P + x0 + 1) * NF, j = i + NF, k = i + PN, l = k + NF;
      const kp = fields[i] * w00 + fields[j] * w01 + fields[k] * w10 + fields[l] * w11;
      const d0 = fields[i + 1] * w00 + fields[j + 1] * w01 + fields[k + 1] * w10 + fields[l + 1] * w11;
      const d1 = fields[i + 2] * w00 + fields[j + 2] * w01 + fields[k + 2] * w10 + fields[l + 2] * w11;
      const d2 = fields[i + 3] * w00 + fields[j + 3] * w01 + fields[k + 3] * w10 + fields[l + 3] * w11;
      maskOut[q >> 2] = round(fields[i + 7] * w00 + fields[j + 7] * w01 + fields[k + 7] * w10 + fields[l + 7] * w11);
      let t0 = p0 + d0, t1 = p1 + d1, t2 = p2 + d2;
      if (kp < 1) {
        const c0 = fields[i + 4] * w00 + fields[j + 4] * w01 + fields[k + 4] * w10 + fields[l + 4] * w11;
        const c1 = fields[i + 5] * w00 + fields[j + 5] * w01 + fields[k + 5] * w10 + fields[l + 5] * w11;
        const c2 = fields[i + 6] * w00 + fields[j + 6] * w01 + fields[k + 6] * w10 + fields[l + 6] * w11;
        // the super-resolved face at this pixel (bilinear, border repeated, as warpAffine samples)
        const fu = fa * (xx + 0.5) + fby + fc - 0.5, fv = fd * (xx + 0.5) + fey + ff - 0.5;
        const q0 = floor(fu), r0 = floor(fv), qx = fu - q0, qy = fv - r0;
        const xa = q0 < 0 ? 0 : q0 > F1 ? F1 : q0, xb = q0 + 1 < 0 ? 0 : q0 + 1 > F1 ? F1 : q0 + 1;
        const ya = r0 < 0 ? 0 : r0 > G1 ? G1 : r0, yb = r0 + 1 < 0 ? 0 : r0 + 1 > G1 ? G1 : r0 + 1;
        const j00 = (ya * FW + xa) * 4, j01 = (ya * FW + xb) * 4, j10 = (yb * FW + xa) * 4, j11 = (yb * FW + xb) * 4;
        const v00 = (1 - qx) * (1 - qy), v01 = qx * (1 - qy), v10 = (1 - qx) * qy, v11 = qx * qy;
        const s0 = FD[j00] * v00 + FD[j01] * v01 + FD[j10] * v10 + FD[j11] * v11;
        const s1 = FD[j00 + 1] * v00 + FD[j01 + 1] * v01 + FD[j10 + 1] * v10 + FD[j11 + 1] * v11;
        const s2 = FD[j00 + 2] * v00 + FD[j01 + 2] * v01 + FD[j10 + 2] * v10 + FD[j11 + 2] * v11;
        const kq = 1 - kp;
        t0 = kp * t0 + kq * (s0 + c0); t1 = kp * t1 + kq * (s1 + c1); t2 = kp * t2 + kq * (s2 + c2);
      }
      r[q] = p0 + lo * (t0 - p0) + extra * d0;
      r[q + 1] = p1 + lo * (t1 - p1) + extra * d1;
      r[q + 2] = p2 + lo * (t2 - p2) + extra * d2;
    }
  }
}
