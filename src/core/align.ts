/**
 * THE face alignment: one template, one function, used by training (scripts/prepare-dataset.ts
 * writes the training crops with it) and by inference (the engine). Pure.
 */
import { RGBAImage, resizeArea } from './image';
import { Affine, Point, affineScale, composeAffine, fitSimilarity, invertAffine, warpAffine } from './geometry';

/** Keypoint order of the MediaPipe face detector. */
export const KEYPOINT_NAMES = ['rightEye', 'leftEye', 'noseTip', 'mouthCenter', 'rightEarTragion', 'leftEarTragion'] as const;
export type KeypointName = typeof KEYPOINT_NAMES[number];

export interface AlignTemplate {
  id: string;
  /** Keypoints the similarity is fitted on, by name. */
  keypoints: KeypointName[];
  /** Where those keypoints sit in the crop, as fractions of its side (x right, y down). */
  points: [number, number][];
  /** Relative weight of each keypoint in the fit. */
  weights: number[];
  /** Free-form provenance (how the template was derived). */
  derivedFrom?: unknown;
}

export interface AlignedFace {
  image: RGBAImage;
  /** photo -> crop pixel coordinates */
  toCrop: Affine;
  /** crop -> photo pixel coordinates */
  fromCrop: Affine;
}

export function validateTemplate(t: AlignTemplate): AlignTemplate {
  if (!t || typeof t.id !== 'string') throw new Error('Alignment template has no id.');
  if (!Array.isArray(t.keypoints) || t.keypoints.length < 2) throw new Error(`Alignment template ${t.id} needs two or more keypoints.`);
  if (t.points.length !== t.keypoints.length || t.weights.length !== t.keypoints.length) {
    throw new Error(`Alignment template ${t.id}: keypoints, points and weights must have the same length.`);
  }
  for (const k of t.keypoints) if (!KEYPOINT_NAMES.includes(k)) throw new Error(`Alignment template ${t.id}: unknown keypoint "${k}".`);
  return t;
}

/** The photo -> crop similarity for a face whose keypoints (MediaPipe order, photo pixels) are given. */
export function alignmentTransform(keypoints: Point[], template: AlignTemplate, size: number): Affine {
  if (keypoints.length !== KEYPOINT_NAMES.length) throw new Error(`Expected ${KEYPOINT_NAMES.length} face keypoints, got ${keypoints.length}.`);
  const src = template.keypoints.map((k) => keypoints[KEYPOINT_NAMES.indexOf(k)]);
  const dst = template.points.map(([x, y]) => ({ x: x * size, y: y * size }));
  return fitSimilarity(src, dst, template.weights);
}

/** Crop a face upright onto the template at size x size pixels. */
export function alignFace(image: RGBAImage, keypoints: Point[], template: AlignTemplate, size: number): AlignedFace {
  const toCrop = alignmentTransform(keypoints, template, size);
  const fromCrop = invertAffine(toCrop);
  // warpAffine averages up to 8x8 samples a pixel; a face much larger than the crop (a close-up
  // in a big photo) is first box-reduced by an integer factor, so it is never point-sampled.
  const s = affineScale(fromCrop);
  if (s <= 8) return { image: warpAffine(image, fromCrop, size, size), toCrop, fromCrop };
  const f = Math.floor(s / 4);
  const small = resizeArea(image, Math.max(1, Math.round(image.width / f)), Math.max(1, Math.round(image.height / f)));
  const toSmall: Affine = [small.width / image.width, 0, 0, 0, small.height / image.height, 0];
  return { image: warpAffine(small, composeAffine(toSmall, fromCrop), size, size), toCrop, fromCrop };
}

/**
 * photo -> crop similarity for the face-mesh (landmarks) net: the alignment template's crop,
 * same centre and rotation (so the face is upright), zoomed out by `zoomOut` to give the net
 * the context around the face it was trained with (manifest landmarks.input.crop.zoomOut).
 * Points the mesh returns in this crop map into the template crop of the same size through
 * meshToAlignedCrop(size, zoomOut).
 */
export function meshCropTransform(keypoints: Point[], template: AlignTemplate, size: number, zoomOut: number): Affine {
  return composeAffine(meshToAlignedCrop(size, zoomOut, true), alignmentTransform(keypoints, template, size));
}

/**
 * The mesh crop (meshCropTransform, side `size`) -> template crop (side `size`) map, a scale
 * about the centre; `inverse` gives the other way. Scale the result for crops of other sizes.
 */
export function meshToAlignedCrop(size: number, zoomOut: number, inverse = false): Affine {
  if (!(zoomOut > 0)) throw new Error(`meshToAlignedCrop: zoomOut must be positive, got ${zoomOut}.`);
  const k = inverse ? 1 / zoomOut : zoomOut, c = size / 2;
  return [k, 0, c * (1 - k), 0, k, c * (1 - k)];
}
