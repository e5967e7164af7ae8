/**
 * Face bookkeeping around the detector: which views of a photo to run it on (the MediaPipe
 * full-range net sees 192x192, so small faces in big photos need tiles and close-ups need
 * margin), merging what the views found, and choosing faces. Pure.
 */
import { Affine, Box, Point, applyAffine } from './geometry';
import { FaceShiftError } from './errors';

export interface DetectedFace {
  score: number;
  /** in photo pixels */
  box: Box;
  /** six MediaPipe keypoints in photo pixels */
  keypoints: Point[];
}

/**
 * A view: the square of the (detection-size) image to show the detector; may extend past the
 * image (edge pixels pad). `angle` (degrees, clockwise in the image) turns the view about its
 * centre, so a face lying on its side is shown upright.
 */
export interface DetectionView { x: number; y: number; size: number; angle?: number }

/** The detector's input side (MediaPipe full-range): every view is shown to it at this size. */
export const DETECTOR_INPUT = 192;
/**
 * Smallest face the detector finds reliably, in pixels of its 192-px input (24 of a 256-px view).
 * Measured on the 16 faces of the shared photos, each shown at 4 places in a view: 95 % or more
 * found from 15 px, 77 % at 12, a few down to 8.
 */
export const DETECTOR_REACH = 18;
/**
 * The size (pixels of the detector's input) at which the tiles show the smallest face that
 * matters: a little above the reach, where small faces are found as well as in a large photo
 * (issue 12 item 9: cut-out 50-60 px faces in a 600x450 crowd, 10 to 11 of 12 found at 24 to
 * 29 px; 3 to 7 of 12 at 19 to 22 px).
 */
export const PLANNED_FACE = 24;
/** Coarse tiles: faces from about a tenth of the tile up to what the whole-photo view reaches. */
export const TILE = 640;
/** Fine tiles for small faces: no finer than this (the detector then sees a 30-px face at its reach). */
export const FINE_TILE = 320;
/** Fine tiles are used where they are affordable: images whose shorter side is at most this (at most about 80 views). */
export const FINE_TILES_UP_TO = 1024;

/**
 * The smallest face (image pixels) a view `size` pixels wide shows at the detector's reach, when
 * it is sampled at `viewSize` pixels (a view sampled smaller than the detector's input is enlarged,
 * which adds no detail).
 */
export function viewReach(size: number, viewSize = DETECTOR_INPUT): number {
  return (size * DETECTOR_REACH) / Math.min(viewSize, DETECTOR_INPUT);
}

/**
 * One padded square view of the whole image, overlapping square tiles when the image is large
 * enough for faces to fall below the detector's reach, and finer tiles on smaller images (and
 * on strips), so a 50-px face in a 600-px photo is seen as well as one in a large photo.
 *
 * `minFace` (image pixels) is the smallest face that matters: no tile is finer than the one that
 * shows such a face at PLANNED_FACE pixels of the detector's input, since smaller faces are
 * skipped anyway (at the default 40 px that is the 320-px fine tile; a larger minimum gives
 * larger tiles, fewer views). Coarse tiles are never smaller than TILE, fine ones than FINE_TILE.
 */
export function planDetectionViews(width: number, height: number, minFace = 0, viewSize = DETECTOR_INPUT, overlap = 0.3): DetectionView[] {
  const side = Math.max(width, height);
  // margin of a fifth lets a face that fills the frame be seen whole
  const pad = Math.round(side * 0.2);
  const views: DetectionView[] = [{ x: Math.round((width - side) / 2) - pad, y: Math.round((height - side) / 2) - pad, size: side + 2 * pad }];
  const tiles = (t: number) => {
    const step = Math.round(t * (1 - overlap));
    const xs = stops(width, t, step), ys = stops(height, t, step);
    for (const y of ys) for (const x of xs) views.push({ x, y, size: t });
  };
  // the tile side that shows the smallest face that matters at PLANNED_FACE
  const needed = Math.floor((minFace * Math.min(viewSize, DETECTOR_INPUT)) / PLANNED_FACE);
  const tile = Math.max(TILE, needed), fine = Math.max(FINE_TILE, needed);
  if (side > tile * 1.25) tiles(tile);
  if (fine < tile && Math.min(width, height) <= FINE_TILES_UP_TO && side > fine * 1.25) tiles(fine);
  return views;
}

/**
 * The smallest face (image pixels) the views of planDetectionViews show at the detector's
 * reach: what the "no face" message may promise.
 */
export function smallestFindableFace(width: number, height: number, viewSize = DETECTOR_INPUT, minFace = 0): number {
  const sizes = planDetectionViews(width, height, minFace, viewSize).map((v) => v.size);
  return Math.ceil(viewReach(Math.min(...sizes), viewSize));
}

/**
 * Whole-image views with a wider margin: a face that fills the frame (a tight headshot) needs
 * context around it before the detector sees it. The margin repeats the edge pixels.
 */
export function paddedViews(width: number, height: number, pads = [0.5, 1]): DetectionView[] {
  const side = Math.max(width, height);
  return pads.map((p) => {
    const pad = Math.round(side * p);
    return { x: Math.round((width - side) / 2) - pad, y: Math.round((height - side) / 2) - pad, size: side + 2 * pad };
  });
}

/** The whole-image views (normal and wide margin), turned by `angle` degrees: for faces lying on their side. */
export function rotatedViews(width: number, height: number, angle: number): DetectionView[] {
  return [...paddedViews(width, height, [0.2, 0.5])].map((v) => ({ ...v, angle }));
}

/** view pixel -> image pixel transform of a view shown at viewSize x viewSize. */
export function viewTransform(v: DetectionView, viewSize: number): Affine {
  const s = v.size / viewSize, a = ((v.angle ?? 0) * Math.PI) / 180;
  const c = Math.cos(a) * s, sn = Math.sin(a) * s;
  const cx = v.x + v.size / 2, cy = v.y + v.size / 2, h = viewSize / 2;
  // image = centre + R(angle) * s * (view - h)
  return [c, -sn, cx - c * h + sn * h, sn, c, cy - sn * h - c * h];
}

/** A detection seen through `viewToImage`, in image pixels (the box: bounds of the turned box). */
export function mapDetection(f: DetectedFace, viewToImage: Affine): DetectedFace {
  const b = f.box;
  const corners = [{ x: b.x, y: b.y }, { x: b.x + b.width, y: b.y }, { x: b.x, y: b.y + b.height }, { x: b.x + b.width, y: b.y + b.height }]
    .map((p) => applyAffine(viewToImage, p));
  const x0 = Math.min(...corners.map((p) => p.x)), y0 = Math.min(...corners.map((p) => p.y));
  const x1 = Math.max(...corners.map((p) => p.x)), y1 = Math.max(...corners.map((p) => p.y));
  return { score: f.score, box: { x: x0, y: y0, width: x1 - x0, height: y1 - y0 }, keypoints: f.keypoints.map((p) => applyAffine(viewToImage, p)) };
}

/**
 * The second look's verdict: the mean distance (fraction of the crop side) between the eyes,
 * nose and mouth found by two looks (`a` in a view offset by `offset`, `b` in crop pixels). A
 * real face aligned on its own keypoints is found again where it was put (about 0.01 to 0.06);
 * a door or a wheel taken for a face, or a face on its side with keypoints on its mouth and
 * nose, is not found again, or far away (0.25).
 */
export function keypointShift(a: Point[], b: Point[], size: number, offset = 0): number {
  const idx = [0, 1, 2, 3];
  return idx.reduce((s, i) => s + Math.hypot(a[i].x - offset - b[i].x, a[i].y - offset - b[i].y), 0) / idx.length / size;
}

/**
 * Why six keypoints cannot be a face, or null when they can. Measured in the face's own frame
 * (along and across the eye line, in eye distances), so a tilted head is judged like an upright one.
 */
export function implausibility(keypoints: Point[], box: Box): string | null {
  const [re, le, nose, mouth] = keypoints;
  const d = Math.hypot(le.x - re.x, le.y - re.y);
  if (!(d > 0)) return 'the eyes coincide';
  const ux = (le.x - re.x) / d, uy = (le.y - re.y) / d;
  const mx = (re.x + le.x) / 2, my = (re.y + le.y) / 2;
  const down = (p: Point) => ((p.x - mx) * -uy + (p.y - my) * ux) / d;
  const across = (p: Point) => ((p.x - mx) * ux + (p.y - my) * uy) / d;
  const w = Math.max(box.width, box.height);
  if (d / w < 0.2 || d / w > 0.6) return 'the eye distance does not fit the face box';
  if (!(down(nose) > 0.1 && down(nose) < 1.2)) return 'the nose is not below the eyes';
  if (!(down(mouth) > down(nose) && down(mouth) > 0.5 && down(mouth) < 1.8)) return 'the mouth is not below the nose';
  if (Math.abs(across(nose)) > 1 || Math.abs(across(mouth)) > 1) return 'the nose or mouth lies beside the face';
  return null;
}

function stops(extent: number, tile: number, step: number): number[] {
  if (extent <= tile) return [Math.round((extent - tile) / 2)];
  const out: number[] = [];
  for (let p = 0; p + tile < extent; p += step) out.push(p);
  out.push(extent - tile);
  return out;
}

function area(b: Box): number { return Math.max(0, b.width) * Math.max(0, b.height); }

export function intersection(a: Box, b: Box): number {
  const w = Math.min(a.x + a.width, b.x + b.width) - Math.max(a.x, b.x);
  const h = Math.min(a.y + a.height, b.y + b.height) - Math.max(a.y, b.y);
  return w > 0 && h > 0 ? w * h : 0;
}

/**
 * Merge detections from several views: a face seen twice (overlap of the smaller box over half)
 * is kept once, the more confident copy; scores below minScore are dropped. Sorted by score.
 */
export function mergeDetections<F extends DetectedFace>(faces: F[], minScore: number): F[] {
  const sorted = faces.filter((f) => f.score >= minScore).sort((a, b) => b.score - a.score);
  const kept: F[] = [];
  for (const f of sorted) {
    if (kept.some((k) => intersection(k.box, f.box) > 0.5 * Math.min(area(k.box), area(f.box)))) continue;
    kept.push(f);
  }
  return kept;
}

/** Which faces to change: all, the largest, or face n (1-based, in reading order). */
export type FaceSelection = 'all' | 'largest' | number;

/** Parse "all" | "largest" | "<n>" (1-based, in reading order). */
export function parseFaceSelection(s: string | number): FaceSelection {
  if (typeof s === 'number' || /^\d+$/.test(s)) {
    const n = Number(s);
    if (!Number.isInteger(n) || n < 1) throw new FaceShiftError('BAD_OPTION', `Face number must be 1 or more, got ${s}.`);
    return n;
  }
  if (s === 'all' || s === 'largest') return s;
  throw new FaceShiftError('BAD_OPTION', `Faces must be "all", "largest" or a face number (1, 2, ...), got "${s}".`);
}

/** Faces in reading order (top to bottom rows, then left to right), so "face 2" is stable. */
export function orderFaces(faces: DetectedFace[]): DetectedFace[] {
  return [...faces].sort((a, b) => {
    const rowTol = Math.min(a.box.height, b.box.height) / 2;
    const dy = (a.box.y + a.box.height / 2) - (b.box.y + b.box.height / 2);
    return Math.abs(dy) > rowTol ? dy : a.box.x - b.box.x;
  });
}

/** The chosen faces in reading order; a face number the photo does not have is NO_SUCH_FACE. */
export function selectFaces(faces: DetectedFace[], sel: FaceSelection): DetectedFace[] {
  const ordered = orderFaces(faces);
  if (sel === 'all') return ordered;
  if (sel === 'largest') return ordered.length ? [ordered.reduce((m, f) => (area(f.box) > area(m.box) ? f : m))] : [];
  if (sel > ordered.length) throw new FaceShiftError('NO_SUCH_FACE', `Face ${sel} was asked for, but ${ordered.length} face(s) were found.`);
  return [ordered[sel - 1]];
}

/** Face size used for the minimum-size rule: the longer side of the detector box, in photo pixels. */
export function faceSize(f: DetectedFace): number {
  return Math.max(f.box.width, f.box.height);
}

/**
 * Each face in words a retoucher would use, in the order given: "Face 1 (left), large". The place
 * is the third of the photo the face's centre lies in; where two faces share it, the row is added
 * ("top left"). The size is the face's longer side against the photo's shorter side; faces below
 * `minFaceSize` pixels say they are too small to change.
 */
export function describeFaces(faces: DetectedFace[], photo: { width: number; height: number }, minFaceSize = 0): string[] {
  const third = (v: number, extent: number, words: [string, string, string]) => words[v < extent / 3 ? 0 : v > (2 * extent) / 3 ? 2 : 1];
  const across = faces.map((f) => third(f.box.x + f.box.width / 2, photo.width, ['left', 'centre', 'right']));
  const down = faces.map((f) => third(f.box.y + f.box.height / 2, photo.height, ['top', 'middle', 'bottom']));
  const short = Math.max(1, Math.min(photo.width, photo.height));
  return faces.map((f, i) => {
    const shared = across.some((a, j) => j !== i && a === across[i] && down[j] !== down[i]);
    const where = shared ? (across[i] === 'centre' ? down[i] : `${down[i]} ${across[i]}`) : across[i];
    const s = faceSize(f);
    const size = s < minFaceSize ? 'too small to change' : s / short >= 0.3 ? 'large' : s / short >= 0.12 ? 'medium' : 'small';
    return `Face ${i + 1} (${where}), ${size}`;
  });
}
