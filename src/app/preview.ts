/**
 * The live preview, once for both panels: the chosen face (the first, for "all faces") before and
 * after, small, with the current direction and strength; nothing is written. The view around the
 * face is read from the host's source (scaled); an earlier view for the same face is reused, so a
 * strength change reads nothing.
 */
import { DetectedFace, FaceSelection, selectFaces } from '../core/faces';
import { RGBAImage, resizeArea } from '../core/image';
import { FaceShiftError, throwIfCancelled } from '../core/errors';
import { strengthProblem } from '../core/blend';
import { PreviewPlan, faceInView, planPreview } from '../engine/preview';
import type { DocumentSource, OpenedDocument, RunCall, UseCase } from './transform';
import { chooseFaces, findFaces, where } from './transform';
import { messages } from './messages';

export interface PreviewSettings { direction: string; strength: number; faces: FaceSelection }

/** A view read for a preview: valid while the document and the face are the same (the host knows when). */
export interface PreviewView { plan: PreviewPlan; image: RGBAImage }

export interface FacePreview {
  /** 1-based, reading order: the face shown, of `faces` */
  faceNumber: number;
  faces: number;
  before: RGBAImage;
  after: RGBAImage;
  /** pass it back (PreviewCall.view) so a strength change reads nothing */
  view: PreviewView;
  detected: DetectedFace[];
  doc: OpenedDocument;
}

export interface PreviewCall extends RunCall {
  /**
   * The view an earlier preview read, if it still shows this document (asked once the document is
   * open; only the host knows when it is the same): reused when it is for the same face.
   */
  reuseView?: (doc: OpenedDocument) => PreviewView | null | undefined;
}

/** The face a preview shows: the chosen one, or the first for "all faces" (any size: the view is small on purpose). */
function previewedFace(faces: DetectedFace[], selection: FaceSelection, uc: UseCase, doc: OpenedDocument): DetectedFace {
  if (selection === 'all') return selectFaces(faces, 'all')[0];
  return chooseFaces(faces, selection, 0, where(uc, doc)).todo[0];
}

export async function previewFace(uc: UseCase, s: PreviewSettings, call: PreviewCall = {}): Promise<FacePreview> {
  const { signal } = call;
  if (!s.direction) throw new FaceShiftError('BAD_OPTION', messages.noDirection);
  const strength = strengthProblem(s.strength);
  if (strength) throw new FaceShiftError('BAD_OPTION', strength);
  const { doc, info, faces } = await findFaces(uc, { signal, onFaces: call.onFaces }, s.direction);
  if (!faces.length) throw new FaceShiftError('NO_FACE', messages.noFace(doc.source, where(uc, doc)));
  const face = previewedFace(faces, s.faces, uc, doc);
  const photo = { width: doc.source.width, height: doc.source.height };
  const region = await uc.engine.regionFor(face, photo, s.direction, { signal });
  const plan = planPreview(region, photo, info.previewSide);
  const earlier = call.reuseView?.(doc);
  const view = earlier && samePlan(earlier.plan, plan) ? earlier : { plan, image: await readView(doc.source, plan) };
  throwIfCancelled(signal);
  const after = await uc.engine.preview(view.image, faceInView(face, plan, view.image), { direction: s.direction, strength: s.strength }, { signal });
  const ordered = selectFaces(faces, 'all');
  return { faceNumber: ordered.indexOf(face) + 1, faces: ordered.length, before: view.image, after, view, detected: faces, doc };
}

async function readView(source: DocumentSource, plan: PreviewPlan): Promise<RGBAImage> {
  const b = plan.box;
  let image = source.readView ? await source.readView(b, plan.width, plan.height) : await source.readRegion(b);
  // a host may hand back a few pixels more or less than asked (or the full-size region): fit it
  if (image.width !== plan.width || image.height !== plan.height) image = resizeArea(image, plan.width, plan.height);
  return image;
}

function samePlan(a: PreviewPlan, b: PreviewPlan): boolean {
  return a.width === b.width && a.height === b.height && a.box.x === b.box.x && a.box.y === b.box.y
    && a.box.width === b.box.width && a.box.height === b.box.height;
}
