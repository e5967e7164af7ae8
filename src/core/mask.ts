/** Soft masks for paste-back. Values are floats in 0..1 (1 = the new face shows fully). Pure. */
import { GrayImage, createGray } from './image';
import { Affine, Point, applyAffine } from './geometry';
// Local aliases: a global lookup per call is slow inside VM contexts (jest), and these run per pixel.
const { abs, ceil, floor, hypot, max, min, round, sqrt } = Math;

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

/**
 * MediaPipe face mesh's face-oval contour (FACEMESH_FACE_OVAL), 36 of the 468 mesh indices in
 * order around the face: 10 at the top of the forehead, then down the image-right side
 * (the subject's left: 454 beside the ear, 397 the jaw angle) to 152 at the chin, and up the
 * image-left side (172 the jaw angle, 234 beside the ear) back to 109 beside 10.
 */
export const FACE_OVAL: readonly number[] = Object.freeze([
  10, 338, 297, 332, 284, 251, 389, 356, 454, 323, 361, 288,
  397, 365, 379, 378, 400, 377, 152, 148, 176, 149, 150, 136,
  172, 58, 132, 93, 234, 127, 162, 21, 54, 103, 67, 109,
]);

/** Mesh indices named for checks and framing (MediaPipe face mesh). */
export const MESH_INDEX = Object.freeze({ foreheadTop: 10, chin: 152, jawRight: 172, jawLeft: 397, noseTip: 1 });

/** Map points through an affine (e.g. mesh-crop pixels -> photo or aligned-crop pixels). */
export function mapPoints(points: readonly Point[], m: Affine): Point[] {
  return points.map((p) => applyAffine(m, p));
}

export interface FaceOvalOptions {
  /**
   * Pixels to push the contour outward along its normals. landmarkFaceMask feathers inward, so
   * with outset 0 the mask is 0 on the face's outline; pass about 0.6 x the feather to have the
   * blend more than half-way (0.65) on the outline (jaw and chin included), 0 a little outside.
   */
  outset?: number;
  /**
   * Raise the upper half of the oval by this fraction of its height (chin to forehead top),
   * default 0.06. The mesh's oval already runs over the forehead but stops short of the
   * hairline (on the test portraits by 0.06..0.11 of the face height); the lift grows smoothly
   * from 0 at the oval's middle to full at the top, so the jaw and cheeks are untouched.
   */
  foreheadLift?: number;
}

/**
 * The face-oval contour (FACE_OVAL order) of a 468-point mesh, in the mesh's coordinates, grown
 * as `opts` says. Works at any roll: "up" is chin -> forehead top.
 */
export function faceOvalContour(mesh: readonly Point[], opts: FaceOvalOptions = {}): Point[] {
  if (mesh.length < 468) throw new Error(`faceOvalContour: expected the 468 face-mesh points, got ${mesh.length}.`);
  const lift = opts.foreheadLift ?? 0.06, outset = opts.outset ?? 0;
  const top = mesh[MESH_INDEX.foreheadTop], chin = mesh[MESH_INDEX.chin];
  const h = hypot(top.x - chin.x, top.y - chin.y);
  let pts = FACE_OVAL.map((i) => ({ x: mesh[i].x, y: mesh[i].y }));
  if (h > 0 && lift !== 0) {
    const ux = (top.x - chin.x) / h, uy = (top.y - chin.y) / h; // unit "up"
    pts = pts.map((p) => {
      const t = ((p.x - chin.x) * ux + (p.y - chin.y) * uy) / h; // 0 at the chin, 1 at the top
      const d = lift * h * (t <= 0.5 ? 0 : smoothstep(0.5, 1, t));
      return { x: p.x + ux * d, y: p.y + uy * d };
    });
  }
  return outset ? offsetPolygon(pts, outset) : pts;
}

/**
 * Move each vertex of a closed polygon by `d` along its outward normal (mitred, so straight
 * edges move by exactly d; the miter is capped at 2d at sharp corners).
 */
function offsetPolygon(pts: Point[], d: number): Point[] {
  const n = pts.length;
  let area2 = 0;
  for (let i = 0, j = n - 1; i < n; j = i++) area2 += pts[j].x * pts[i].y - pts[i].x * pts[j].y;
  const sgn = area2 > 0 ? 1 : -1; // for a positive shoelace area the outward normal of edge e is (ey, -ex)
  const normal = (a: Point, b: Point) => {
    const ex = b.x - a.x, ey = b.y - a.y, l = hypot(ex, ey) || 1;
    return { x: sgn * ey / l, y: -sgn * ex / l };
  };
  return pts.map((p, i) => {
    const n1 = normal(pts[(i + n - 1) % n], p), n2 = normal(p, pts[(i + 1) % n]);
    let mx = n1.x + n2.x, my = n1.y + n2.y;
    const ml = hypot(mx, my);
    if (ml < 1e-9) { mx = n1.x; my = n1.y; } else { mx /= ml; my /= ml; }
    const k = d / max(0.5, mx * n1.x + my * n1.y);
    return { x: p.x + mx * k, y: p.y + my * k };
  });
}

/**
 * Soft mask of a closed contour (e.g. faceOvalContour in mask pixels), width x height, row-major
 * 0..1: 0 outside the polygon, rising with a smoothstep over `feather` pixels inward from its
 * edge, 1 deeper inside. Pixel (x, y) is sampled at its centre (x + 0.5, y + 0.5), the
 * convention of warpAffine and of the mesh's points. Falling off inside the contour keeps
 * every pixel outside the face (hair, ears, background) exactly the photo's.
 */
export function landmarkFaceMask(points: Point[], width: number, height: number, feather: number): Float32Array {
  if (!Number.isInteger(width) || !Number.isInteger(height) || width < 1 || height < 1) {
    throw new Error(`landmarkFaceMask: width and height must be positive integers, got ${width}x${height}.`);
  }
  if (points.length < 3) throw new Error(`landmarkFaceMask: a contour needs three or more points, got ${points.length}.`);
  const out = new Float32Array(width * height);
  const n = points.length;
  const px = Float64Array.from(points, (p) => p.x), py = Float64Array.from(points, (p) => p.y);
  let x0 = Infinity, x1 = -Infinity, y0 = Infinity, y1 = -Infinity;
  for (let i = 0; i < n; i++) { x0 = min(x0, px[i]); x1 = max(x1, px[i]); y0 = min(y0, py[i]); y1 = max(y1, py[i]); }
  const f = max(feather, 1e-3);
  // only pixels whose centre can lie inside the polygon's bounding box
  const cx0 = max(0, floor(x0 - 0.5)), cx1 = min(width - 1, ceil(x1 - 0.5));
  const cy0 = max(0, floor(y0 - 0.5)), cy1 = min(height - 1, ceil(y1 - 0.5));
  // 1. which pixel centres lie inside (even-odd rule, row by row): they start at "deeper than the feather"
  const f2 = f * f, inside = new Float64Array(width * height).fill(-1);
  const xs: number[] = [];
  for (let y = cy0; y <= cy1; y++) {
    const sy = y + 0.5;
    // where this row crosses the polygon's edges, sorted
    xs.length = 0;
    for (let i = 0, j = n - 1; i < n; j = i++) {
      if ((py[i] > sy) !== (py[j] > sy)) xs.push(px[j] + (sy - py[j]) * (px[i] - px[j]) / (py[i] - py[j]));
    }
    xs.sort((a, b) => a - b);
    for (let k = 0; k + 1 < xs.length; k += 2) {
      const xa = max(cx0, ceil(xs[k] - 0.5)), xb = min(cx1, floor(xs[k + 1] - 0.5));
      for (let x = xa; x <= xb; x++) inside[y * width + x] = f2;
    }
  }
  // 2. squared distance to the contour, where it is under the feather: each edge visits only the
  // pixels within a feather of its bounding box (the same minimum as over all edges for every pixel)
  for (let i = 0, j = n - 1; i < n; j = i++) {
    const ex = px[i] - px[j], ey = py[i] - py[j];
    const len2 = ex * ex + ey * ey;
    const ex0 = max(cx0, floor(min(px[i], px[j]) - f - 0.5)), ex1 = min(cx1, ceil(max(px[i], px[j]) + f - 0.5));
    const ey0 = max(cy0, floor(min(py[i], py[j]) - f - 0.5)), ey1 = min(cy1, ceil(max(py[i], py[j]) + f - 0.5));
    for (let y = ey0; y <= ey1; y++) {
      const sy = y + 0.5;
      for (let x = ex0; x <= ex1; x++) {
        const o = y * width + x, d2 = inside[o];
        if (d2 < 0) continue;
        const sx = x + 0.5;
        let t = len2 > 0 ? ((sx - px[j]) * ex + (sy - py[j]) * ey) / len2 : 0;
        t = t < 0 ? 0 : t > 1 ? 1 : t;
        const dx = sx - px[j] - t * ex, dy = sy - py[j] - t * ey;
        const dd = dx * dx + dy * dy;
        if (dd < d2) inside[o] = dd;
      }
    }
  }
  for (let y = cy0; y <= cy1; y++) {
    for (let x = cx0; x <= cx1; x++) { const d2 = inside[y * width + x]; if (d2 >= 0) out[y * width + x] = smoothstep(0, f, sqrt(d2)); }
  }
  return out;
}
