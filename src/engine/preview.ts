/**
 * The live preview both panels show before applying (as Photoshop's Neural Filters do): one face,
 * before and after, at a small size, with the current direction and strength. It is the engine's
 * own run (align -> transform -> paste back) on a small copy of the face's surroundings, without
 * upscaling: nothing here re-implements a step of the engine, and nothing touches the document.
 *
 * The host reads the view (plan.box of the photo, scaled to plan.width x plan.height), hands it
 * over with the face in view coordinates (faceInView), and shows what renderPreview returns.
 */
import type { Box } from '../core/geometry';
import type { DetectedFace } from '../core/faces';
import { RGBAImage, cropRGBA } from '../core/image';
import { compositeLayer, facesToLayer } from '../core/layer';
import { CancelSignal, FaceShiftError } from '../core/errors';
import type { FaceEngine, PhotoSource } from './engine';

/** What to read for a preview: `box` in photo pixels, at `width` x `height` (never upscaled). */
export interface PreviewPlan { box: Box; width: number; height: number }

/**
 * The view around a face: the region the engine reads for it (FaceEngine.regionFor), with a
 * little margin, clipped to the photo, scaled so its longer side is at most `side` (the
 * engine config's previewSide).
 */
export function planPreview(region: Box, photo: { width: number; height: number }, side: number): PreviewPlan {
  const margin = Math.round(Math.max(region.width, region.height) * 0.05);
  const x0 = Math.max(0, Math.floor(region.x - margin)), y0 = Math.max(0, Math.floor(region.y - margin));
  const x1 = Math.min(photo.width, Math.ceil(region.x + region.width + margin));
  const y1 = Math.min(photo.height, Math.ceil(region.y + region.height + margin));
  if (x1 <= x0 || y1 <= y0) throw new FaceShiftError('BAD_INPUT', 'The face lies outside the photo.');
  const box = { x: x0, y: y0, width: x1 - x0, height: y1 - y0 };
  const k = Math.min(1, side / Math.max(box.width, box.height));
  return { box, width: Math.max(1, Math.round(box.width * k)), height: Math.max(1, Math.round(box.height * k)) };
}

/** The face in the coordinates of a view read by the plan (the view may be a few pixels off the plan's size). */
export function faceInView(face: DetectedFace, plan: PreviewPlan, view: { width: number; height: number } = plan): DetectedFace {
  const kx = view.width / plan.box.width, ky = view.height / plan.box.height;
  const x = plan.box.x, y = plan.box.y;
  return {
    score: face.score,
    box: { x: (face.box.x - x) * kx, y: (face.box.y - y) * ky, width: face.box.width * kx, height: face.box.height * ky },
    keypoints: face.keypoints.map((p) => ({ x: (p.x - x) * kx, y: (p.y - y) * ky })),
  };
}

export interface PreviewOptions { direction: string; strength?: number; signal?: CancelSignal }

/**
 * The view with the face transformed: the engine's run on the view as if it were the photo, no
 * upscaling, any face size (the view is small on purpose). Returns a new image; `view` is unchanged.
 */
export async function renderPreview(engine: FaceEngine, view: RGBAImage, face: DetectedFace, opts: PreviewOptions): Promise<RGBAImage> {
  const source: PhotoSource = {
    width: view.width,
    height: view.height,
    readPreview: async () => view,
    readRegion: async (b) => cropRGBA(view, b.x, b.y, b.width, b.height),
  };
  const report = await engine.run(source, { direction: opts.direction, strength: opts.strength, upscale: false, signal: opts.signal }, [face]);
  const layer = facesToLayer(report.faces.map((f) => f.patch));
  if (!layer) throw new FaceShiftError('NO_FACE', 'This face lies too close to the edge of the photo to be previewed.');
  return compositeLayer(view, layer);
}
