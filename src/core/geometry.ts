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

function clampi(v: number, lo: number, hi: number): number { return v < lo ? lo : v > hi ? hi : v; }

/**
 * Sample `src` into a new width x height image through `dstToSrc` (maps output pixel centres to
 * source coordinates). Bilinear, with supersampling when the map shrinks the source (so a large
 * face is averaged, not aliased). Outside the source the border pixel is repeated: crops near the
 * edge are padded, never shifted.
 */
export function warpAffine(src: RGBAImage, dstToSrc: Affine, width: number, height: number): RGBAImage {
  const out = createRGBA(width, height);
  const s = affineScale(dstToSrc);
  const n = max(1, min(8, ceil(s - 1e-6)));
  const [a, b, c, d, e, f] = dstToSrc;
  const W = src.width, H = src.height, S = src.data;
  const acc = [0, 0, 0, 0];
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      acc[0] = acc[1] = acc[2] = acc[3] = 0;
      for (let j = 0; j < n; j++) {
        const oy = y + (j + 0.5) / n - 0.5;
        for (let i = 0; i < n; i++) {
          const ox = x + (i + 0.5) / n - 0.5;
          // pixel centres: output (ox+0.5) maps to source continuous coords; -0.5 back to index space
          const u = a * (ox + 0.5) + b * (oy + 0.5) + c - 0.5;
          const v = d * (ox + 0.5) + e * (oy + 0.5) + f - 0.5;
          const x0 = floor(u), y0 = floor(v);
          const fx = u - x0, fy = v - y0;
          const xa = clampi(x0, 0, W - 1), xb = clampi(x0 + 1, 0, W - 1);
          const ya = clampi(y0, 0, H - 1), yb = clampi(y0 + 1, 0, H - 1);
          const p00 = (ya * W + xa) * 4, p01 = (ya * W + xb) * 4, p10 = (yb * W + xa) * 4, p11 = (yb * W + xb) * 4;
          const w00 = (1 - fx) * (1 - fy), w01 = fx * (1 - fy), w10 = (1 - fx) * fy, w11 = fx * fy;
          for (let ch = 0; ch < 4; ch++) {
            acc[ch] += S[p00 + ch] * w00 + S[p01 + ch] * w01 + S[p10 + ch] * w10 + S[p11 + ch] * w11;
          }
        }
      }
      const o = (y * width + x) * 4, nn = n * n;
      out.data[o] = acc[0] / nn; out.data[o + 1] = acc[1] / nn; out.data[o + 2] = acc[2] / nn; out.data[o + 3] = acc[3] / nn;
    }
  }
  return out;
}

/** Bilinear sample of a one-channel image through dstToSrc; outside the source reads 0. */
export function warpGray(src: GrayImage | Plane, dstToSrc: Affine, width: number, height: number, outside = 0): Float32Array {
  const out = new Float32Array(width * height);
  const [a, b, c, d, e, f] = dstToSrc;
  const W = src.width, H = src.height, S = src.data;
  const at = (xx: number, yy: number) => (xx < 0 || yy < 0 || xx >= W || yy >= H ? outside : S[yy * W + xx]);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const u = a * (x + 0.5) + b * (y + 0.5) + c - 0.5;
      const v = d * (x + 0.5) + e * (y + 0.5) + f - 0.5;
      const x0 = floor(u), y0 = floor(v), fx = u - x0, fy = v - y0;
      out[y * width + x] = at(x0, y0) * (1 - fx) * (1 - fy) + at(x0 + 1, y0) * fx * (1 - fy)
        + at(x0, y0 + 1) * (1 - fx) * fy + at(x0 + 1, y0 + 1) * fx * fy;
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
