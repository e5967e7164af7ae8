/**
 * Face bookkeeping around the detector: which views of a photo to run it on (the MediaPipe
 * full-range net sees 192x192, so small faces in big photos need tiles and close-ups need
 * margin), merging what the views found, and choosing faces. Pure.
 */
import type { Box, Point } from './geometry';

export interface DetectedFace {
  score: number;
  /** in photo pixels */
  box: Box;
  /** six MediaPipe keypoints in photo pixels */
  keypoints: Point[];
}

/** A view: the rectangle of the (detection-size) image to show the detector; may extend past the image (padding). */
export interface DetectionView { x: number; y: number; size: number }

/**
 * One padded square view of the whole image, plus overlapping square tiles when the image is
 * large enough for faces to fall below the detector's reach.
 */
export function planDetectionViews(width: number, height: number, tile = 640, overlap = 0.3): DetectionView[] {
  const side = Math.max(width, height);
  // margin of a fifth lets a face that fills the frame be seen whole
  const pad = Math.round(side * 0.2);
  const views: DetectionView[] = [{ x: Math.round((width - side) / 2) - pad, y: Math.round((height - side) / 2) - pad, size: side + 2 * pad }];
  if (side > tile * 1.25) {
    const step = Math.round(tile * (1 - overlap));
    const xs = stops(width, tile, step), ys = stops(height, tile, step);
    for (const y of ys) for (const x of xs) views.push({ x, y, size: tile });
  }
  return views;
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
 * is kept once, the more confident copy. Sorted by score.
 */
export function mergeDetections(faces: DetectedFace[], minScore = 0.5): DetectedFace[] {
  const sorted = faces.filter((f) => f.score >= minScore).sort((a, b) => b.score - a.score);
  const kept: DetectedFace[] = [];
  for (const f of sorted) {
    if (kept.some((k) => intersection(k.box, f.box) > 0.5 * Math.min(area(k.box), area(f.box)))) continue;
    kept.push(f);
  }
  return kept;
}

export type FaceSelection = 'all' | 'largest' | number;

/** Parse "all" | "largest" | "<n>" (1-based, in reading order). */
export function parseFaceSelection(s: string | number): FaceSelection {
  if (typeof s === 'number' || /^\d+$/.test(s)) {
    const n = Number(s);
    if (!Number.isInteger(n) || n < 1) throw new Error(`Face number must be 1 or more, got ${s}.`);
    return n;
  }
  if (s === 'all' || s === 'largest') return s;
  throw new Error(`Faces must be "all", "largest" or a face number (1, 2, ...), got "${s}".`);
}

/** Faces in reading order (top to bottom rows, then left to right), so "face 2" is stable. */
export function orderFaces(faces: DetectedFace[]): DetectedFace[] {
  return [...faces].sort((a, b) => {
    const rowTol = Math.min(a.box.height, b.box.height) / 2;
    const dy = (a.box.y + a.box.height / 2) - (b.box.y + b.box.height / 2);
    return Math.abs(dy) > rowTol ? dy : a.box.x - b.box.x;
  });
}

export function selectFaces(faces: DetectedFace[], sel: FaceSelection): DetectedFace[] {
  const ordered = orderFaces(faces);
  if (sel === 'all') return ordered;
  if (sel === 'largest') return ordered.length ? [ordered.reduce((m, f) => (area(f.box) > area(m.box) ? f : m))] : [];
  if (sel > ordered.length) throw new Error(`Face ${sel} was asked for, but ${ordered.length} face(s) were found.`);
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
