/**
 * Image-quality and embedding metrics for evaluating the shipped models (scripts/eval.ts).
 * Pure: no host, runtime or I/O imports. Images are the common RGBAImage (alpha ignored).
 */
import { RGBAImage, createRGBA } from './image';
import { rgbToLab } from './color';
// Local aliases: a global lookup per call is slow inside VM contexts (jest), and these run per pixel.
const { abs, atan2, ceil, exp, floor, log10, max, min, PI, round, sqrt } = Math;

function checkSameSize(a: RGBAImage, b: RGBAImage, what: string): void {
  if (a.width !== b.width || a.height !== b.height) {
    throw new Error(`${what}: images differ in size (${a.width}x${a.height} vs ${b.width}x${b.height}); resize one first.`);
  }
}

function checkShave(img: RGBAImage, shave: number, what: string): void {
  if (!(shave >= 0) || 2 * shave >= min(img.width, img.height)) {
    throw new Error(`${what}: border shave ${shave} leaves nothing of a ${img.width}x${img.height} image.`);
  }
}

/**
 * Peak signal-to-noise ratio over the R, G and B channels, in dB, with 8-bit peak 255.
 * `shave` drops that many pixels at each border (SR papers shave `scale` pixels).
 * Identical images give Infinity.
 */
export function psnr(a: RGBAImage, b: RGBAImage, shave = 0): number {
  checkSameSize(a, b, 'psnr');
  checkShave(a, shave, 'psnr');
  let se = 0, n = 0;
  for (let y = shave; y < a.height - shave; y++) {
    for (let x = shave; x < a.width - shave; x++) {
      const i = (y * a.width + x) * 4;
      for (let c = 0; c < 3; c++) { const d = a.data[i + c] - b.data[i + c]; se += d * d; }
      n += 3;
    }
  }
  const mse = se / n;
  return mse === 0 ? Infinity : 10 * log10((255 * 255) / mse);
}

/**
 * Luma as the SR literature measures it: ITU-R BT.601 Y of studio-range YCbCr
 * (MATLAB rgb2ycbcr), Y = 16 + (65.481 R + 128.553 G + 24.966 B) / 255, in [16, 235].
 */
export function luma(img: RGBAImage): Float64Array {
  const n = img.width * img.height;
  const out = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    out[i] = 16 + (65.481 * img.data[i * 4] + 128.553 * img.data[i * 4 + 1] + 24.966 * img.data[i * 4 + 2]) / 255;
  }
  return out;
}

/** Normalised 1-D Gaussian taps (odd length). */
export function gaussianKernel(size: number, sigma: number): Float64Array {
  if (size < 1 || size % 2 === 0) throw new Error(`gaussianKernel: size must be odd and positive, got ${size}.`);
  const k = new Float64Array(size);
  const r = (size - 1) / 2;
  let s = 0;
  for (let i = 0; i < size; i++) { k[i] = exp(-((i - r) ** 2) / (2 * sigma * sigma)); s += k[i]; }
  for (let i = 0; i < size; i++) k[i] /= s;
  return k;
}

/** Separable 'valid' filtering of a w x h plane: output (w-k+1) x (h-k+1). */
function filterValid(src: Float64Array, w: number, h: number, k: Float64Array): Float64Array {
  const K = k.length, ow = w - K + 1, oh = h - K + 1;
  const tmp = new Float64Array(ow * h);
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < ow; x++) {
      let s = 0;
      for (let j = 0; j < K; j++) s += src[y * w + x + j] * k[j];
      tmp[y * ow + x] = s;
    }
  }
  const out = new Float64Array(ow * oh);
  for (let y = 0; y < oh; y++) {
    for (let x = 0; x < ow; x++) {
      let s = 0;
      for (let j = 0; j < K; j++) s += tmp[(y + j) * ow + x] * k[j];
      out[y * ow + x] = s;
    }
  }
  return out;
}

export interface SsimOptions {
  /** Gaussian window size (default 11, Wang et al. 2004). */
  window?: number;
  /** Gaussian sigma (default 1.5). */
  sigma?: number;
  /** Pixels dropped at each border before measuring (default 0). */
  shave?: number;
}

/**
 * Structural similarity (Wang et al. 2004) on luma (see `luma`), with their constants
 * K1 = 0.01, K2 = 0.03, L = 255, an 11x11 Gaussian window of sigma 1.5, and the mean of the
 * SSIM map over the 'valid' window positions (as their reference MATLAB code).
 */
export function ssim(a: RGBAImage, b: RGBAImage, opts: SsimOptions = {}): number {
  checkSameSize(a, b, 'ssim');
  const shave = opts.shave ?? 0;
  checkShave(a, shave, 'ssim');
  const win = opts.window ?? 11;
  const w = a.width - 2 * shave, h = a.height - 2 * shave;
  if (w < win || h < win) throw new Error(`ssim: a ${w}x${h} image is smaller than the ${win}x${win} window.`);
  const crop = (p: Float64Array) => {
    const out = new Float64Array(w * h);
    for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) out[y * w + x] = p[(y + shave) * a.width + x + shave];
    return out;
  };
  const x = crop(luma(a)), y = crop(luma(b));
  const n = w * h;
  const xx = new Float64Array(n), yy = new Float64Array(n), xy = new Float64Array(n);
  for (let i = 0; i < n; i++) { xx[i] = x[i] * x[i]; yy[i] = y[i] * y[i]; xy[i] = x[i] * y[i]; }
  const k = gaussianKernel(win, opts.sigma ?? 1.5);
  const mx = filterValid(x, w, h, k), my = filterValid(y, w, h, k);
  const sxx = filterValid(xx, w, h, k), syy = filterValid(yy, w, h, k), sxy = filterValid(xy, w, h, k);
  const C1 = (0.01 * 255) ** 2, C2 = (0.03 * 255) ** 2;
  let sum = 0;
  for (let i = 0; i < mx.length; i++) {
    const vx = sxx[i] - mx[i] * mx[i], vy = syy[i] - my[i] * my[i], cxy = sxy[i] - mx[i] * my[i];
    sum += ((2 * mx[i] * my[i] + C1) * (2 * cxy + C2)) / ((mx[i] * mx[i] + my[i] * my[i] + C1) * (vx + vy + C2));
  }
  return sum / mx.length;
}

/** Keys' cubic convolution weight; a = -0.75 matches PyTorch and OpenCV 'bicubic', -0.5 matches PIL. */
export function cubicWeight(t: number, a = -0.75): number {
  const x = abs(t);
  if (x <= 1) return ((a + 2) * x - (a + 3)) * x * x + 1;
  if (x < 2) return ((a * x - 5 * a) * x + 8 * a) * x - 4 * a;
  return 0;
}

/**
 * Bicubic resize with half-pixel centres and clamped edges, the way PyTorch
 * `interpolate(mode='bicubic', align_corners=False)` upsamples (no antialiasing, so use it to
 * enlarge; shrink with `resizeArea`). Results are rounded to 8 bits; alpha is resampled too.
 */
export function resizeBicubic(img: RGBAImage, width: number, height: number, a = -0.75): RGBAImage {
  if (width < 1 || height < 1) throw new Error(`resizeBicubic: bad target size ${width}x${height}.`);
  // Per output column/row: the 4 source indices (clamped) and their weights.
  const taps = (outN: number, inN: number) => {
    const idx = new Int32Array(outN * 4), wt = new Float64Array(outN * 4);
    const scale = inN / outN;
    for (let o = 0; o < outN; o++) {
      const src = (o + 0.5) * scale - 0.5;
      const f = floor(src), t = src - f;
      for (let j = 0; j < 4; j++) {
        idx[o * 4 + j] = min(inN - 1, max(0, f - 1 + j));
        wt[o * 4 + j] = cubicWeight(t - (j - 1), a);
      }
    }
    return { idx, wt };
  };
  const cx = taps(width, img.width), cy = taps(height, img.height);
  // Horizontal pass into floats, then vertical pass.
  const tmp = new Float64Array(width * img.height * 4);
  for (let y = 0; y < img.height; y++) {
    for (let x = 0; x < width; x++) {
      for (let c = 0; c < 4; c++) {
        let s = 0;
        for (let j = 0; j < 4; j++) s += img.data[(y * img.width + cx.idx[x * 4 + j]) * 4 + c] * cx.wt[x * 4 + j];
        tmp[(y * width + x) * 4 + c] = s;
      }
    }
  }
  const out = createRGBA(width, height);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      for (let c = 0; c < 4; c++) {
        let s = 0;
        for (let j = 0; j < 4; j++) s += tmp[(cy.idx[y * 4 + j] * width + x) * 4 + c] * cy.wt[y * 4 + j];
        out.data[(y * width + x) * 4 + c] = round(s); // Uint8ClampedArray clamps to [0, 255]
      }
    }
  }
  return out;
}

/** Cosine similarity of two vectors of the same length; 0 when either is all zeros. */
export function cosineSimilarity(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) throw new Error(`cosineSimilarity: vectors differ in length (${a.length} vs ${b.length}).`);
  let ab = 0, aa = 0, bb = 0;
  for (let i = 0; i < a.length; i++) { ab += a[i] * b[i]; aa += a[i] * a[i]; bb += b[i] * b[i]; }
  return aa === 0 || bb === 0 ? 0 : ab / sqrt(aa * bb);
}

/**
 * Skin tone as the individual typology angle (ITA, degrees) of the mean CIELAB colour of the
 * chosen pixels: atan2(L* - 50, b*). Higher is lighter; the dermatology bands (Chardon et al.,
 * 1991) run from > 55 (very light) through 41, 28, 10 and -30 to < -30 (dark). `weight` (one
 * 0..255 value per pixel, e.g. a face mask) selects and weights the pixels; default all.
 */
export function meanITA(img: RGBAImage, weight?: ArrayLike<number>): number {
  const n = img.width * img.height;
  if (weight && weight.length !== n) throw new Error(`meanITA: ${weight.length} weights for ${n} pixels.`);
  let L = 0, B = 0, w = 0;
  const d = img.data;
  for (let i = 0; i < n; i++) {
    const k = weight ? weight[i] / 255 : 1;
    if (k <= 0) continue;
    const lab = rgbToLab(d[i * 4], d[i * 4 + 1], d[i * 4 + 2]);
    L += k * lab[0];
    B += k * lab[2];
    w += k;
  }
  if (w === 0) return NaN;
  return (atan2(L / w - 50, B / w) * 180) / PI;
}

/** Arithmetic mean; NaN for an empty list. */
export function mean(xs: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < xs.length; i++) s += xs[i];
  return xs.length ? s / xs.length : NaN;
}

/** Value at quantile q in [0, 1] with linear interpolation between order statistics. */
export function quantile(xs: ArrayLike<number>, q: number): number {
  if (!xs.length) return NaN;
  const s = Array.from(xs).sort((u, v) => u - v);
  const pos = min(1, max(0, q)) * (s.length - 1);
  const lo = floor(pos), hi = ceil(pos);
  return s[lo] + (s[hi] - s[lo]) * (pos - lo);
}

/**
 * Wilson score interval for a proportion of k successes in n trials (z = 1.96: 95 %).
 * Honest error bars for rates measured on a few hundred faces.
 */
export function wilsonInterval(k: number, n: number, z = 1.96): [number, number] {
  if (n <= 0) return [NaN, NaN];
  const p = k / n, z2 = z * z;
  const centre = (p + z2 / (2 * n)) / (1 + z2 / n);
  const half = (z / (1 + z2 / n)) * sqrt((p * (1 - p)) / n + z2 / (4 * n * n));
  return [max(0, centre - half), min(1, centre + half)];
}

/**
 * The colour step a paste adds at the edge of its mask, in CIE76 Delta E: the mean Lab colour of
 * the pasted result just inside the feather (mask 0.85-0.98) minus that just outside it (0.02-0.15),
 * compared with the same difference in the photo. 0: the face continues into its surroundings as
 * the photo did; a face made darker or redder than the neck around it scores its difference.
 * `pasted` and `photo` are the same box; `mask` is 0..255, one value per pixel.
 */
export function seamStep(pasted: RGBAImage, photo: RGBAImage, mask: { width: number; height: number; data: ArrayLike<number> }): number {
  checkSameSize(pasted, photo, 'seamStep');
  if (mask.width !== photo.width || mask.height !== photo.height) throw new Error('seamStep: the mask must be the size of the images.');
  const inner = [0, 0, 0], outer = [0, 0, 0];
  let ni = 0, no = 0;
  for (let i = 0; i < mask.data.length; i++) {
    const m = mask.data[i] / 255;
    const ring = m >= 0.85 && m <= 0.98 ? inner : m >= 0.02 && m <= 0.15 ? outer : null;
    if (!ring) continue;
    const a = rgbToLab(pasted.data[i * 4], pasted.data[i * 4 + 1], pasted.data[i * 4 + 2]);
    const b = rgbToLab(photo.data[i * 4], photo.data[i * 4 + 1], photo.data[i * 4 + 2]);
    // blended as the composite shows it: m * pasted + (1 - m) * photo, in Lab (near-linear for small steps)
    for (let c = 0; c < 3; c++) ring[c] += m * a[c] + (1 - m) * b[c] - b[c];
    if (ring === inner) ni++; else no++;
  }
  if (!ni || !no) return 0;
  return sqrt([0, 1, 2].reduce((s, c) => s + (inner[c] / ni - outer[c] / no) ** 2, 0));
}
