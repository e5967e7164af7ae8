/**
 * Colour: sRGB <-> CIE Lab (D65) and Reinhard colour transfer inside a mask. Pure.
 * Why Lab: its channels are nearly decorrelated and perceptually even, so matching each
 * channel's mean and spread separately moves skin tone and lighting without tinting shadows.
 */
import { RGBAImage, createRGBA } from './image';
// Local aliases: a global lookup per call is slow inside VM contexts (jest), and these run per pixel.
const { abs, cbrt, max, min, pow, round, sqrt } = Math;

export type Lab = [number, number, number];
export type RGB = [number, number, number];

// D65 reference white (CIE 1931 2°), the white point of sRGB.
const XN = 0.95047, YN = 1.0, ZN = 1.08883;
const EPS = 216 / 24389; // (6/29)^3
const KAPPA = 24389 / 27;

/** 8-bit sRGB -> linear light, tabulated once: every pixel conversion needs three lookups. */
const SRGB_TO_LINEAR = (() => {
  const t = new Float64Array(256);
  for (let i = 0; i < 256; i++) {
    const c = i / 255;
    t[i] = c <= 0.04045 ? c / 12.92 : pow((c + 0.055) / 1.055, 2.4);
  }
  return t;
})();

function linearToSrgb(c: number): number {
  const v = c <= 0.0031308 ? 12.92 * c : 1.055 * pow(c, 1 / 2.4) - 0.055;
  return v * 255;
}

/**
 * Linear light -> 8-bit sRGB without a pow per channel: THRESHOLDS[k - 1] is the least linear value
 * whose sRGB code rounds to k or more (found by bisection of the exact formula, which is monotone),
 * so a binary search gives exactly clamp8(linearToSrgb(c)).
 */
const THRESHOLDS = (() => {
  const t = new Float64Array(255);
  for (let k = 1; k < 256; k++) {
    let lo = 0, hi = 1;
    for (let i = 0; i < 80 && lo < hi; i++) {
      const mid = (lo + hi) / 2;
      if (mid === lo || mid === hi) break;
      if (clamp8(linearToSrgb(mid)) >= k) hi = mid; else lo = mid;
    }
    t[k - 1] = clamp8(linearToSrgb(lo)) >= k ? lo : hi;
  }
  return t;
})();

function linearTo8(c: number): number {
  if (!(c >= THRESHOLDS[0])) return 0;
  let lo = 0, hi = 255; // answer in 1..255: the count of thresholds <= c
  while (hi - lo > 1) { const mid = (lo + hi) >> 1; if (THRESHOLDS[mid - 1] <= c) lo = mid; else hi = mid; }
  return THRESHOLDS[hi - 1] <= c ? hi : lo;
}

function labF(t: number): number { return t > EPS ? cbrt(t) : (KAPPA * t + 16) / 116; }
function labFInv(f: number): number { const f3 = f * f * f; return f3 > EPS ? f3 : (116 * f - 16) / KAPPA; }

/** 8-bit sRGB (0..255, rounded to integers) -> Lab (L 0..100). */
export function rgbToLab(r: number, g: number, b: number): Lab {
  const t: Lab = [0, 0, 0];
  rgbToLabInto(r, g, b, t, 0);
  return t;
}

/** rgbToLab written into `out` at `o`: the per-pixel loops allocate nothing. */
function rgbToLabInto(r: number, g: number, b: number, out: { [i: number]: number }, o: number): void {
  const R = SRGB_TO_LINEAR[clamp8(r)], G = SRGB_TO_LINEAR[clamp8(g)], B = SRGB_TO_LINEAR[clamp8(b)];
  const x = 0.4124564 * R + 0.3575761 * G + 0.1804375 * B;
  const y = 0.2126729 * R + 0.7151522 * G + 0.0721750 * B;
  const z = 0.0193339 * R + 0.1191920 * G + 0.9503041 * B;
  const fx = labF(x / XN), fy = labF(y / YN), fz = labF(z / ZN);
  out[o] = 116 * fy - 16; out[o + 1] = 500 * (fx - fy); out[o + 2] = 200 * (fy - fz);
}

/** Lab -> 8-bit sRGB, rounded and clamped to 0..255 (out-of-gamut colours are clipped). */
export function labToRgb(L: number, a: number, b: number): RGB {
  const t: RGB = [0, 0, 0];
  labToRgbInto(L, a, b, t, 0);
  return t;
}

/** labToRgb written into `out` at `o` (an RGBA buffer, say). */
function labToRgbInto(L: number, a: number, b: number, out: { [i: number]: number }, o: number): void {
  const fy = (L + 16) / 116, fx = fy + a / 500, fz = fy - b / 200;
  const x = labFInv(fx) * XN, y = labFInv(fy) * YN, z = labFInv(fz) * ZN;
  const R = 3.2404542 * x - 1.5371385 * y - 0.4985314 * z;
  const G = -0.9692660 * x + 1.8760108 * y + 0.0415560 * z;
  const B = 0.0556434 * x - 0.2040259 * y + 1.0572252 * z;
  out[o] = linearTo8(max(0, R)); out[o + 1] = linearTo8(max(0, G)); out[o + 2] = linearTo8(max(0, B));
}

function clamp8(v: number): number {
  const r = round(v);
  return r < 0 ? 0 : r > 255 ? 255 : r;
}

/** Whole image -> interleaved Lab (L, a, b per pixel); alpha is ignored. */
export function rgbaToLab(img: RGBAImage): Float32Array {
  const n = img.width * img.height;
  const out = new Float32Array(n * 3);
  for (let i = 0; i < n; i++) rgbToLabInto(img.data[i * 4], img.data[i * 4 + 1], img.data[i * 4 + 2], out, i * 3);
  return out;
}

/** Interleaved Lab -> RGBA; alpha from `alphaFrom` when given (same size), else opaque. */
export function labToRgba(lab: Float32Array, width: number, height: number, alphaFrom?: RGBAImage): RGBAImage {
  const n = width * height;
  if (lab.length < n * 3) throw new Error(`labToRgba: Lab buffer too short for ${width}x${height}.`);
  const out = createRGBA(width, height);
  for (let i = 0; i < n; i++) {
    labToRgbInto(lab[i * 3], lab[i * 3 + 1], lab[i * 3 + 2], out.data, i * 4);
    out.data[i * 4 + 3] = alphaFrom ? alphaFrom.data[i * 4 + 3] : 255;
  }
  return out;
}

/** Spreads under this (in Lab units) are treated as flat: scaling them would only amplify noise. */
const MIN_STD = 1e-3;
/**
 * Cap on how much a channel's spread may be stretched or squeezed. A nearly flat generated
 * region matched to a textured photo would otherwise blow up quantisation noise.
 */
const MAX_STD_RATIO = 4;

/** Weighted mean and standard deviation of each Lab channel; weights are the mask. */
function labStats(img: RGBAImage, mask: Float32Array): { mean: number[]; std: number[]; weight: number; chroma: number } {
  const sum = [0, 0, 0], sq = [0, 0, 0];
  let W = 0, C = 0;
  const lab = new Float64Array(3);
  for (let i = 0; i < mask.length; i++) {
    const w = mask[i];
    if (!(w > 0)) continue;
    rgbToLabInto(img.data[i * 4], img.data[i * 4 + 1], img.data[i * 4 + 2], lab, 0);
    for (let c = 0; c < 3; c++) { sum[c] += w * lab[c]; sq[c] += w * lab[c] * lab[c]; }
    C += w * sqrt(lab[1] * lab[1] + lab[2] * lab[2]);
    W += w;
  }
  if (W <= 0) return { mean: [0, 0, 0], std: [0, 0, 0], weight: 0, chroma: 0 };
  const mean = sum.map((s) => s / W);
  const std = sq.map((s, c) => sqrt(max(0, s / W - mean[c] * mean[c])));
  return { mean, std, weight: W, chroma: C / W };
}

/**
 * Reinhard colour transfer: give `source` the per-channel Lab mean and standard deviation that
 * `target` has, both measured under `mask` (0..1 weights, one per pixel; the images must be
 * the same size). Returns a new image. Pixels where the mask is 0 are copied unchanged: they
 * are never shown after blending and need no conversion. Alpha is copied from `source`.
 * If the mask is empty the result is a copy of `source`.
 */
export interface MatchOptions {
  /** Lab channels to match (0 = L, 1 = a, 2 = b); the others keep the source's values. Default all. */
  channels?: number[];
  /** Lowest allowed std ratio target/source (default 1/4); 0 lets a flat target flatten the source fully. */
  minRatio?: number;
}

export function matchColor(source: RGBAImage, target: RGBAImage, mask: Float32Array, opts: MatchOptions = {}): RGBAImage {
  if (source.width !== target.width || source.height !== target.height) {
    throw new Error(`matchColor: source is ${source.width}x${source.height} but target is ${target.width}x${target.height}; they must match.`);
  }
  const n = source.width * source.height;
  if (mask.length !== n) throw new Error(`matchColor: mask has ${mask.length} values, expected ${n}.`);
  const out: RGBAImage = { width: source.width, height: source.height, data: new Uint8ClampedArray(source.data) };
  const s = labStats(source, mask), t = labStats(target, mask);
  if (s.weight <= 0) return out;
  const lo = opts.minRatio ?? 1 / MAX_STD_RATIO;
  const on = [0, 1, 2].map((c) => (opts.channels ? opts.channels.includes(c) : true));
  const scale = s.std.map((ss, c) => (!on[c] || ss < MIN_STD ? 1 : min(MAX_STD_RATIO, max(lo, t.std[c] / ss))));
  const shift = (c: number, v: number) => (on[c] ? (v - s.mean[c]) * scale[c] + t.mean[c] : v);
  const lab = new Float64Array(3);
  for (let i = 0; i < n; i++) {
    if (!(mask[i] > 0)) continue;
    rgbToLabInto(source.data[i * 4], source.data[i * 4 + 1], source.data[i * 4 + 2], lab, 0);
    labToRgbInto(shift(0, lab[0]), shift(1, lab[1]), shift(2, lab[2]), out.data, i * 4);
  }
  return out;
}

/**
 * True when the pixels under `mask` are monotone: little colour, and the same little colour
 * throughout (mean chroma < 6 and a*, b* spread < 3 in Lab), as in a toned (sepia, warm or cool)
 * black-and-white print or scan. Colour photos of faces measure a chroma around 15-30.
 */
export function isMonotone(img: RGBAImage, mask: Float32Array): boolean {
  const st = labStats(img, mask);
  return st.weight > 0 && st.chroma < 6 && st.std[1] < 3 && st.std[2] < 3;
}

/** True when every pixel is (nearly) neutral: a black-and-white photo stored as RGB. */
export function isGrayscale(img: RGBAImage, tolerance = 3): boolean {
  const d = img.data;
  for (let i = 0; i < d.length; i += 4) {
    if (abs(d[i] - d[i + 1]) > tolerance || abs(d[i + 1] - d[i + 2]) > tolerance) return false;
  }
  return true;
}

/**
 * `lightness`'s Lab lightness with `colour`'s a and b, pixel by pixel (same size; alpha from
 * `lightness`): a face on a toned black-and-white photo keeps the net's change in lightness and
 * takes the print's own tone where it lands.
 */
export function lightnessWithColour(lightness: RGBAImage, colour: RGBAImage): RGBAImage {
  if (lightness.width !== colour.width || lightness.height !== colour.height) {
    throw new Error(`lightnessWithColour: sizes differ (${lightness.width}x${lightness.height}, ${colour.width}x${colour.height}).`);
  }
  const l = rgbaToLab(lightness), c = rgbaToLab(colour);
  for (let i = 0; i < l.length; i += 3) { l[i + 1] = c[i + 1]; l[i + 2] = c[i + 2]; }
  return labToRgba(l, lightness.width, lightness.height, lightness);
}

/** A new image with the Rec. 601 luma in all three channels (alpha kept). */
export function desaturate(img: RGBAImage): RGBAImage {
  const out: RGBAImage = { width: img.width, height: img.height, data: new Uint8ClampedArray(img.data) };
  const d = out.data;
  for (let i = 0; i < d.length; i += 4) {
    d[i] = d[i + 1] = d[i + 2] = 0.299 * d[i] + 0.587 * d[i + 1] + 0.114 * d[i + 2];
  }
  return out;
}

/**
 * How paste-back treats the net's colours (chosen per model by measurement, recorded in the manifest):
 *   reinhard:  match the answer's Lab mean and spread to the photo's (drops any colour change);
 *   lightness: match only L (keeps the net's hue and saturation change, drops its brightening or darkening);
 *   tone:      remove the net's overall shift (its weighted median Lab change over the face) and keep its
 *              local changes (lips, brows, beard) in colour and lightness;
 *   none:      the net's colours as they are (skin tone is part of the change).
 */
export type ColorPolicy = 'reinhard' | 'lightness' | 'tone' | 'none';
export const COLOR_POLICIES: readonly ColorPolicy[] = ['reinhard', 'lightness', 'tone', 'none'];

export function isColorPolicy(v: unknown): v is ColorPolicy {
  return typeof v === 'string' && (COLOR_POLICIES as readonly string[]).includes(v);
}

/** `output` (what a net made of `input`, same size) with its colours treated as `policy` says, under `mask`. */
export function correctColor(output: RGBAImage, input: RGBAImage, mask: Float32Array, policy: ColorPolicy): RGBAImage {
  switch (policy) {
    case 'reinhard': return matchColor(output, input, mask);
    case 'lightness': return matchColor(output, input, mask, { channels: [0] });
    case 'tone': return removeShift(output, input, mask);
    case 'none': return { width: output.width, height: output.height, data: new Uint8ClampedArray(output.data) };
  }
}

/** Subtract the weighted median of the per-pixel Lab change: robust to the minority of pixels the net changed locally. */
function removeShift(output: RGBAImage, input: RGBAImage, mask: Float32Array): RGBAImage {
  if (output.width !== input.width || output.height !== input.height) {
    throw new Error(`correctColor: output is ${output.width}x${output.height} but input is ${input.width}x${input.height}; they must match.`);
  }
  const n = output.width * output.height;
  if (mask.length !== n) throw new Error(`correctColor: mask has ${mask.length} values, expected ${n}.`);
  const lo = rgbaToLab(output), li = rgbaToLab(input);
  let m = 0;
  const idx = new Uint32Array(n);
  for (let i = 0; i < n; i++) if (mask[i] > 0) idx[m++] = i;
  const out: RGBAImage = { width: output.width, height: output.height, data: new Uint8ClampedArray(output.data) };
  if (!m) return out;
  const values = new Float64Array(m), weights = new Float64Array(m);
  const [s0, s1, s2] = [0, 1, 2].map((c) => {
    for (let k = 0; k < m; k++) { const i = idx[k]; values[k] = lo[i * 3 + c] - li[i * 3 + c]; weights[k] = mask[i]; }
    return weightedMedian(values, weights);
  });
  for (let k = 0; k < m; k++) {
    const i = idx[k];
    labToRgbInto(lo[i * 3] - s0, lo[i * 3 + 1] - s1, lo[i * 3 + 2] - s2, out.data, i * 4);
  }
  return out;
}

/**
 * The weighted median of `values`: the first value, in ascending order, at which the running sum of
 * `weights` reaches half their total. Quickselect (three-way partitions), linear time: this runs on
 * every face, a sort with a comparator did not. Both arrays are reordered.
 */
function weightedMedian(values: Float64Array, weights: Float64Array): number {
  const n = values.length;
  let target = 0;
  for (let i = 0; i < n; i++) target += weights[i];
  target /= 2;
  let lo = 0, hi = n - 1;
  while (lo <= hi) {
    const a = values[lo], b = values[(lo + hi) >> 1], c = values[hi];
    const p = a < b ? (b < c ? b : a < c ? c : a) : (a < c ? a : b < c ? c : b); // median of three
    // [lo, lt) < p, [lt, i) == p, (gt, hi] > p
    let lt = lo, i = lo, gt = hi;
    while (i <= gt) {
      const v = values[i];
      if (v < p) { swap(values, weights, lt++, i++); } else if (v > p) { swap(values, weights, i, gt--); } else i++;
    }
    let wl = 0, we = 0;
    for (let k = lo; k < lt; k++) wl += weights[k];
    for (let k = lt; k <= gt; k++) we += weights[k];
    if (wl >= target) hi = lt - 1;
    else if (wl + we >= target) return p;
    else { target -= wl + we; lo = gt + 1; }
  }
  // rounding left the target just past the total: the largest value
  let m = -Infinity;
  for (let i = 0; i < n; i++) if (values[i] > m) m = values[i];
  return m;
}

function swap(v: Float64Array, w: Float64Array, i: number, j: number): void {
  const t = v[i]; v[i] = v[j]; v[j] = t;
  const u = w[i]; w[i] = w[j]; w[j] = u;
}
