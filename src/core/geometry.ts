/** 2-D affine geometry: similarity fitting, inversion, warping. Pure. */
import { RGBAImage, GrayImage, createRGBA } from './image';
// Local aliases: a global lookup per call is slow inside VM contexts (jest), and these run per pixel.
const { abs, atan2, ceil, floor, max, min, sqrt } = Math;

export interface Point { x: number; y: number; }

/**
 * Row-major 2x3 affine [a, b, c, d, e, f]: x' = a*x + b*y + c, y' = d*x + e*y + f.
 */
export type Affine = [number, number, number, number, number, number];

export function applyAffine(m: Affine, p: Point): Point {
  return { x: m[0] * p.x + m[1] * p.y + m[2], y: m[3] * p.x + m[4] * p.y + m[5] };
}

export function invertAffine(m: Affine): Affine {
  const [a, b, c, d, e, f] = m;
  const det = a * e - b * d;
  if (abs(det) < 1e-12) throw new Error('Affine transform is singular and cannot be inverted.');
  const ia = e / det, ib = -b / det, id = -d / det, ie = a / det;
  return [ia, ib, -(ia * c + ib * f), id, ie, -(id * c + ie * f)];
}

/** compose(m2, m1) applies m1 first, then m2. */
export function composeAffine(m2: Affine, m1: Affine): Affine {
  return [
    m2[0] * m1[0] + m2[1] * m1[3], m2[0] * m1[1] + m2[1] * m1[4], m2[0] * m1[2] + m2[1] * m1[5] + m2[2],
    m2[3] * m1[0] + m2[4] * m1[3], m2[3] * m1[1] + m2[4] * m1[4], m2[3] * m1[2] + m2[4] * m1[5] + m2[5],
  ];
}

export function scaleAffine(s: number): Affine { return [s, 0, 0, 0, s, 0]; }

/** Uniform scale factor of a similarity (or the geometric mean scale of an affine). */
export function affineScale(m: Affine): number {
  return sqrt(abs(m[0] * m[4] - m[1] * m[3]));
}

/** Rotation angle of the transform's linear part, radians. */
export function affineRotation(m: Affine): number {
  return atan2(m[3], m[0]);
}

/**
 * Least-squares similarity (rotation, uniform scale, translation) mapping src onto dst
 * (Umeyama without reflection). Needs at least two distinct points.
 */
export function fitSimilarity(src: Point[], dst: Point[], weights?: number[]): Affine {
  if (src.length !== dst.length || src.length < 2) throw new Error('fitSimilarity needs two or more matching points.');
  const w = weights ?? src.map(() => 1);
  let W = 0, sx = 0, sy = 0, dx = 0, dy = 0;
  for (let i = 0; i < src.length; i++) {
    W += w[i]; sx += w[i] * src[i].x; sy += w[i] * src[i].y; dx += w[i] * dst[i].x; dy += w[i] * dst[i].y;
  }
  sx /= W; sy /= W; dx /= W; dy /= W;
  // Solve for a = s*cos, b = s*sin in x' = a x - b y + tx, y' = b x + a y + ty.
  let num_a = 0, num_b = 0, den = 0;
  for (let i = 0; i < src.length; i++) {
    const px = src[i].x - sx, py = src[i].y - sy;
    const qx = dst[i].x - dx, qy = dst[i].y - dy;
    num_a += w[i] * (px * qx + py * qy);
    num_b += w[i] * (px * qy - py * qx);
    den += w[i] * (px * px + py * py);
  }
  if (den < 1e-12) throw new Error('fitSimilarity: source points coincide.');
  const a = num_a / den, b = num_b / den;
  return [a, -b, dx - (a * sx - b * sy), b, a, dy - (b * sx + a * sy)];
}

/**
 * Sample `src` into a new width x height image through `dstToSrc` (maps output pixel centres to
 * source coordinates). Bilinear, with supersampling when the map shrinks the source (so a large
 * face is averaged, not aliased; at most maxSupersample^2 samples a pixel). Outside the source the
 * border pixel is repeated: crops near the edge are padded, never shifted.
 */
export function warpAffine(src: RGBAImage, dstToSrc: Affine, width: number, height: number, maxSupersample = 8): RGBAImage {
  const out = createRGBA(width, height);
  const s = affineScale(dstToSrc);
  const n = max(1, min(maxSupersample, ceil(s - 1e-6)));
  const [a, b, c, d, e, f] = dstToSrc;
  const W = src.width, H = src.height, S = src.data, O = out.data;
  const W1 = W - 1, H1 = H - 1;
  if (n === 1) {
    // the common case (the map enlarges or keeps the size: paste-back): one bilinear sample per pixel,
    // the same arithmetic as below, without the accumulator
    for (let y = 0; y < height; y++) {
      const by = b * (y + 0.5), ey = e * (y + 0.5);
      for (let x = 0; x < width; x++) {
        const u = a * (x + 0.5) + by + c - 0.5;
        const v = d * (x + 0.5) + ey + f - 0.5;
        const x0 = floor(u), y0 = floor(v);
        const fx = u - x0, fy = v - y0;
        const xa = x0 < 0 ? 0 : x0 > W1 ? W1 : x0, xb = x0 + 1 < 0 ? 0 : x0 + 1 > W1 ? W1 : x0 + 1;
        const ya = y0 < 0 ? 0 : y0 > H1 ? H1 : y0, yb = y0 + 1 < 0 ? 0 : y0 + 1 > H1 ? H1 : y0 + 1;
        const p00 = (ya * W + xa) * 4, p01 = (ya * W + xb) * 4, p10 = (yb * W + xa) * 4, p11 = (yb * W + xb) * 4;
        const w00 = (1 - fx) * (1 - fy), w01 = fx * (1 - fy), w10 = (1 - fx) * fy, w11 = fx * fy;
        const o = (y * width + x) * 4;
        O[o] = 0 + (S[p00] * w00 + S[p01] * w01 + S[p10] * w10 + S[p11] * w11);
        O[o + 1] = 0 + (S[p00 + 1] * w00 + S[p01 + 1] * w01 + S[p10 + 1] * w10 + S[p11 + 1] * w11);
        O[o + 2] = 0 + (S[p00 + 2] * w00 + S[p01 + 2] * w01 + S[p10 + 2] * w10 + S[p11 + 2] * w11);
        O[o + 3] = 0 + (S[p00 + 3] * w00 + S[p01 + 3] * w01 + S[p10 + 3] * w10 + S[p11 + 3] * w11);
      }
    }
    return out;
  }
  // supersampled: the same arithmetic in the same order as one accumulator per channel (so the
  // result is unchanged to the last bit), with the sample offsets and source indices kept in locals
  const nn = n * n;
  const offs = new Float64Array(n);
  for (let i = 0; i < n; i++) offs[i] = (i + 0.5) / n;
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      let r = 0, g = 0, bl = 0, al = 0;
      for (let j = 0; j < n; j++) {
        const oy = y + offs[j] - 0.5;
        for (let i = 0; i < n; i++) {
          const ox = x + offs[i] - 0.5;
          // pixel centres: output (ox+0.5) maps to source continuous coords; -0.5 back to index space
          const u = a * (ox + 0.5) + b * (oy + 0.5) + c - 0.5;
          const v = d * (ox + 0.5) + e * (oy + 0.5) + f - 0.5;
          const x0 = floor(u), y0 = floor(v);
          const fx = u - x0, fy = v - y0;
          const xa = x0 < 0 ? 0 : x0 > W1 ? W1 : x0, xb = x0 + 1 < 0 ? 0 : x0 + 1 > W1 ? W1 : x0 + 1;
          const ya = y0 < 0 ? 0 : y0 > H1 ? H1 : y0, yb = y0 + 1 < 0 ? 0 : y0 + 1 > H1 ? H1 : y0 + 1;
          const p00 = (ya * W + xa) * 4, p01 = (ya * W + xb) * 4, p10 = (yb * W + xa) * 4, p11 = (yb * W + xb) * 4;
          const w00 = (1 - fx) * (1 - fy), w01 = fx * (1 - fy), w10 = (1 - fx) * fy, w11 = fx * fy;
          r += S[p00] * w00 + S[p01] * w01 + S[p10] * w10 + S[p11] * w11;
          g += S[p00 + 1] * w00 + S[p01 + 1] * w01 + S[p10 + 1] * w10 + S[p11 + 1] * w11;
          bl += S[p00 + 2] * w00 + S[p01 + 2] * w01 + S[p10 + 2] * w10 + S[p11 + 2] * w11;
          al += S[p00 + 3] * w00 + S[p01 + 3] * w01 + S[p10 + 3] * w10 + S[p11 + 3] * w11;
        }
      }
      const o = (y * width + x) * 4;
      O[o] = r / nn; O[o + 1] = g / nn; O[o + 2] = bl / nn; O[o + 3] = al / nn;
    }
  }
  return out;
}

/** Bilinear sample of a one-channel image through dstToSrc; outside the source reads `outside`. */
export function warpGray(src: GrayImage | Plane, dstToSrc: Affine, width: number, height: number, outside = 0): Float32Array {
  // one plain loop over float data (typed-array kinds mixed in one hot loop are slow)
  return samplePlane(src.data instanceof Float32Array ? src.data : Float32Array.from(src.data), src.width, src.height,
    dstToSrc, width, height, outside);
}

function samplePlane(s: Float32Array, W: number, H: number, dstToSrc: Affine, width: number, height: number, outside: number): Float32Array {
  const [a, b, c, d, e, f] = dstToSrc;
  const out = new Float32Array(width * height);
  for (let y = 0; y < height; y++) {
    const by = b * (y + 0.5), ey = e * (y + 0.5), row = y * width;
    for (let x = 0; x < width; x++) {
      const u = a * (x + 0.5) + by + c - 0.5;
      const v = d * (x + 0.5) + ey + f - 0.5;
      const x0 = floor(u), y0 = floor(v), fx = u - x0, fy = v - y0, gx = 1 - fx, gy = 1 - fy;
      // written as warpGray always has been ((s * gx) * gy, ...), so results are bit-identical
      if (x0 >= 0 && y0 >= 0 && x0 + 1 < W && y0 + 1 < H) {
        const i = y0 * W + x0;
        out[row + x] = s[i] * gx * gy + s[i + 1] * fx * gy + s[i + W] * gx * fy + s[i + W + 1] * fx * fy;
      } else {
        const in00 = x0 >= 0 && y0 >= 0 && x0 < W && y0 < H, in01 = x0 + 1 >= 0 && y0 >= 0 && x0 + 1 < W && y0 < H;
        const in10 = x0 >= 0 && y0 + 1 >= 0 && x0 < W && y0 + 1 < H, in11 = x0 + 1 >= 0 && y0 + 1 >= 0 && x0 + 1 < W && y0 + 1 < H;
        const i = y0 * W + x0;
        out[row + x] = (in00 ? s[i] : outside) * gx * gy + (in01 ? s[i + 1] : outside) * fx * gy
          + (in10 ? s[i + W] : outside) * gx * fy + (in11 ? s[i + W + 1] : outside) * fx * fy;
      }
    }
  }
  return out;
}

export interface Box { x: number; y: number; width: number; height: number; }

/** One float channel, row-major (masks and change maps before quantisation). */
export interface Plane { width: number; height: number; data: Float32Array }

/** Integer bounding box of the transformed corners of a w x h rectangle, clipped to bounds. */
export function transformedBounds(m: Affine, w: number, h: number, clipW: number, clipH: number): Box | null {
  const pts = [{ x: 0, y: 0 }, { x: w, y: 0 }, { x: 0, y: h }, { x: w, y: h }].map((p) => applyAffine(m, p));
  const x0 = max(0, floor(min(...pts.map((p) => p.x))));
  const y0 = max(0, floor(min(...pts.map((p) => p.y))));
  const x1 = min(clipW, ceil(max(...pts.map((p) => p.x))));
  const y1 = min(clipH, ceil(max(...pts.map((p) => p.y))));
  if (x1 <= x0 || y1 <= y0) return null;
  return { x: x0, y: y0, width: x1 - x0, height: y1 - y0 };
}
