/**
 * Detail from the photo, change from the net. Pure.
 *
 * The net sees a 128-px crop and answers at that size; the photo usually holds the face at several
 * times that. Replacing the face by the net's upscaled pixels throws the photo's detail away
 * (skin texture, eyelashes, hair), so paste-back instead ADDS the net's change, y - x at crop
 * scale, to the photo at full resolution: an upsampled 128-px field has nothing above the crop's
 * own frequencies, so everything finer comes from the photo.
 *
 * That is wrong where the net changed structure, not tone: a beard removed (the photo's beard
 * texture would stay, recoloured), brows or lips redrawn, texture added. There the net's own
 * (super-resolved) pixels are used. Which is which is read from the crop's high frequencies
 * (`keepDetail`): where the net's fine texture follows the input's (correlated, not much
 * stronger) the photo's detail is kept; where it is gone, uncorrelated or much stronger, the
 * net's pixels are taken. The net's own smoothing (its output is softer than its input) is
 * correlated texture of lower amplitude, so it does not count as a change.
 */
import type { RGBAImage } from './image';
import type { Box, Plane } from './geometry';
const { abs, exp, ceil, max, min, sqrt } = Math;

/** Separable Gaussian blur of a plane, edges clamped. sigma in pixels; 0 copies. */
export function blurPlane(src: Plane, sigma: number): Plane {
  const { width: w, height: h } = src;
  if (!(sigma > 0)) return { width: w, height: h, data: Float32Array.from(src.data) };
  const r = max(1, ceil(3 * sigma));
  const k = new Float32Array(2 * r + 1);
  let s = 0;
  for (let i = -r; i <= r; i++) { k[i + r] = exp(-(i * i) / (2 * sigma * sigma)); s += k[i + r]; }
  for (let i = 0; i < k.length; i++) k[i] /= s;
  const tmp = new Float32Array(w * h), out = new Float32Array(w * h), d = src.data;
  // taps summed in the same order everywhere; only the border pixels clamp their indices
  for (let y = 0; y < h; y++) {
    const row = y * w;
    for (let x = 0; x < w; x++) {
      let acc = 0;
      if (x >= r && x + r < w) for (let i = -r; i <= r; i++) acc += d[row + x + i] * k[i + r];
      else for (let i = -r; i <= r; i++) { const xx = x + i < 0 ? 0 : x + i >= w ? w - 1 : x + i; acc += d[row + xx] * k[i + r]; }
      tmp[row + x] = acc;
    }
  }
  for (let y = 0; y < h; y++) {
    const inside = y >= r && y + r < h;
    for (let x = 0; x < w; x++) {
      let acc = 0;
      if (inside) for (let i = -r; i <= r; i++) acc += tmp[(y + i) * w + x] * k[i + r];
      else for (let i = -r; i <= r; i++) { const yy = y + i < 0 ? 0 : y + i >= h ? h - 1 : y + i; acc += tmp[yy * w + x] * k[i + r]; }
      out[y * w + x] = acc;
    }
  }
  return { width: w, height: h, data: out };
}

/** Luma (BT.601, 0..255) of an RGBA image as a plane. */
export function lumaPlane(img: RGBAImage): Plane {
  const n = img.width * img.height, out = new Float32Array(n), d = img.data;
  for (let i = 0; i < n; i++) out[i] = 0.299 * d[i * 4] + 0.587 * d[i * 4 + 1] + 0.114 * d[i * 4 + 2];
  return { width: img.width, height: img.height, data: out };
}

/** One colour channel (0 R, 1 G, 2 B) as a plane. */
export function channelPlane(img: RGBAImage, c: number): Plane {
  const n = img.width * img.height, out = new Float32Array(n);
  for (let i = 0; i < n; i++) out[i] = img.data[i * 4 + c];
  return { width: img.width, height: img.height, data: out };
}

function smoothstep(e0: number, e1: number, x: number): number {
  const t = min(1, max(0, (x - e0) / (e1 - e0)));
  return t * t * (3 - 2 * t);
}

export interface DetailOptions {
  /** Scale (crop pixels) that splits "texture" from "shape" when comparing input and output. Default 1. */
  textureSigma?: number;
  /** Neighbourhood (crop pixels) over which texture energies are compared. Default 2. */
  energySigma?: number;
  /** Smoothing (crop pixels) of the change added to the photo. Default 0: the split between the net's change and the photo's detail is the crop's own resolution. */
  changeSigma?: number;
  /**
   * Compress changes far beyond the face's typical change (default true). Off for nets with an
   * attention output, which already confine their change: there the limit cut strong wanted changes
   * (a beard drawn: female->male flips 56.5 % with it, 78.3 % without, on training-split composites).
   */
  limitOutliers?: boolean;
}

/**
 * Where the photo's own detail can stay (1) and where the net's pixels must be used (0), at crop
 * size, from the aligned input crop `x` and the net's output `y` (same size).
 */
export function keepDetail(x: RGBAImage, y: RGBAImage, opts: DetailOptions = {}): Plane {
  if (x.width !== y.width || x.height !== y.height) throw new Error(`keepDetail: input ${x.width}x${x.height} and output ${y.width}x${y.height} differ.`);
  const ts = opts.textureSigma ?? 1, es = opts.energySigma ?? 2;
  const lx = lumaPlane(x), ly = lumaPlane(y);
  const bx = blurPlane(lx, ts), by = blurPlane(ly, ts);
  const n = lx.data.length, w = x.width, h = x.height;
  const xx = new Float32Array(n), yy = new Float32Array(n), xy = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    const hx = lx.data[i] - bx.data[i], hy = ly.data[i] - by.data[i];
    xx[i] = hx * hx; yy[i] = hy * hy; xy[i] = hx * hy;
  }
  const Ex = blurPlane({ width: w, height: h, data: xx }, es).data;
  const Ey = blurPlane({ width: w, height: h, data: yy }, es).data;
  const Exy = blurPlane({ width: w, height: h, data: xy }, es).data;
  // eps: texture energy (luma^2) below which a region counts as flat: flat stays "kept"
  const eps = 6;
  const keep = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    // correlation of the two textures, regularised so flat regions count as kept; when the output
    // has lost its texture (a beard removed) it falls towards sqrt(eps / Ex), i.e. near 0
    const rho = (Exy[i] + eps) / sqrt((Ex[i] + eps) * (Ey[i] + eps));
    const ratio = sqrt((Ey[i] + eps) / (Ex[i] + eps));
    // kept: the output's texture follows the input's (rho high) and is not much stronger than it
    keep[i] = smoothstep(0.1, 0.45, rho) * (1 - smoothstep(1.6, 2.6, ratio));
  }
  return blurPlane({ width: w, height: h, data: keep }, 1.5);
}

/**
 * The net's change y - x at crop size, per colour channel (0..255 units, planar R, G, B), lightly
 * smoothed, with outliers compressed: changes far beyond the face's typical large change (the
 * net's dark blotches at mouth corners, say) are softly limited instead of pasted at full strength.
 */
export function netChange(x: RGBAImage, y: RGBAImage, weight: Float32Array, opts: DetailOptions = {}): Plane[] {
  const cs = opts.changeSigma ?? 0;
  const planes = [0, 1, 2].map((c) => {
    const px = channelPlane(x, c), py = channelPlane(y, c);
    const d = new Float32Array(px.data.length);
    for (let i = 0; i < d.length; i++) d[i] = py.data[i] - px.data[i];
    return blurPlane({ width: x.width, height: x.height, data: d }, cs);
  });
  const n = x.width * x.height;
  const mag = new Float32Array(n);
  for (let i = 0; i < n; i++) mag[i] = max(abs(planes[0].data[i]), abs(planes[1].data[i]), abs(planes[2].data[i]));
  const limit = opts.limitOutliers ?? true ? softLimit(mag, weight) : Infinity;
  for (let i = 0; i < n; i++) {
    const m = mag[i];
    if (m <= limit) continue;
    // beyond the limit, the change grows at a quarter of its rate
    const k = (limit + (m - limit) * 0.25) / m;
    for (const p of planes) p.data[i] *= k;
  }
  return planes;
}

/** 1.25 x the 95th percentile of the change magnitude under the weight (never under 24). */
function softLimit(mag: Float32Array, weight: Float32Array): number {
  const vals: number[] = [];
  for (let i = 0; i < mag.length; i++) if (weight[i] > 0.5) vals.push(mag[i]);
  if (!vals.length) return 255;
  vals.sort((a, b) => a - b);
  return max(24, 1.25 * vals[min(vals.length - 1, Math.floor(0.95 * vals.length))]);
}

/**
 * "Detail kept": mean |Laplacian| of luma over the inner `inner` (default 60 %) of `box`, in
 * `output` divided by the same in `input` (both photo-sized). 1 = as sharp as the photo.
 */
export function detailKept(input: RGBAImage, output: RGBAImage, box: Box, inner = 0.6): number {
  const lap = (img: RGBAImage) => {
    const cx = box.x + box.width / 2, cy = box.y + box.height / 2;
    const x0 = max(1, Math.round(cx - (box.width * inner) / 2)), x1 = min(img.width - 1, Math.round(cx + (box.width * inner) / 2));
    const y0 = max(1, Math.round(cy - (box.height * inner) / 2)), y1 = min(img.height - 1, Math.round(cy + (box.height * inner) / 2));
    const W = img.width, d = img.data;
    const L = (x: number, y: number) => { const o = (y * W + x) * 4; return 0.299 * d[o] + 0.587 * d[o + 1] + 0.114 * d[o + 2]; };
    let s = 0, n = 0;
    for (let y = y0; y < y1; y++) {
      for (let x = x0; x < x1; x++) { s += abs(4 * L(x, y) - L(x - 1, y) - L(x + 1, y) - L(x, y - 1) - L(x, y + 1)); n++; }
    }
    return n ? s / n : 0;
  };
  const a = lap(input);
  return a > 0 ? lap(output) / a : 1;
}
