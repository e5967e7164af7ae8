/**
 * The Photoshop panel's adapter to the use case (src/app): which layer to read (target), the
 * layer as the source and a new masked layer as the sink (layer-io.ts), the engine over the
 * webview's messages (webview-client.ts through app/engine-port.ts), and the panel's words. The
 * flow itself (faces, sizes, naming, progress, cancel, messages) is the use case's.
 *
 * Photoshop makes the new layer the active one. So that a second click does not transform the
 * previous result, a layer FaceShift made (recognised by its name, which ends in the strength as
 * FaceShift writes it, or by being one this panel added) is never used as the source: FaceShift
 * works on the first layer below it that is not one of its own, and adds the new layer above the
 * selected one, so the newest result shows.
 */
import type { DetectedFace } from '../../core/faces';
import type { RGBAImage } from '../../core/image';
import type { CancelSignal } from '../../core/errors';
import type { EngineInfo } from '../../engine/engine';
import { EngineProtocolClient, EnginePort, remoteEngine } from '../../app/engine-port';
import type { HostWords } from '../../app/messages';
import {
  FaceShiftSettings, OpenedDocument, RunProgress, RunStage, SkippedFace, UseCase, findFaces, isFaceShiftLayerName, transformDocument,
} from '../../app/transform';
import { PreviewView, previewFace } from '../../app/preview';
import type { LayerInfo, PhotoshopHost, PixelBounds, Target } from './ports';
import { checkDocument, checkLayer, layerFrame } from './validate';
import { PhotoshopError, asPhotoshopError } from './errors';
import { LayerSource, writeFaceLayer } from './layer-io';

/** The panel's words for what to do. */
const WORDS: HostWords = {
  where: 'on this layer',
  noFace: 'select the layer that holds the photo, one where a face is visible, or crop it closer around the face.',
  chooseFace: 'Choose "All faces" or another face.',
  enlarge: 'Use a larger photo (Image > Image Size) or a closer shot.',
};

const STAGE_WORDS: Record<RunStage, string> = {
  read: 'Reading the layer',
  detect: 'Looking for faces',
  align: 'Aligning the face',
  transform: 'Transforming the face',
  upscale: 'Sharpening the face (4x)',
  paste: 'Blending the face in',
  write: 'Adding the new layer',
};

export interface PanelProgress extends RunProgress {
  /** plain words for the panel */
  message: string;
}

export interface RunOptions {
  /** an AbortSignal or the panel's CancelToken: only `aborted` is read */
  signal?: CancelSignal;
  onProgress?: (p: PanelProgress) => void;
  /** Faces found earlier for the same layer (FaceShiftController.findFaces); detected again when stale. */
  detection?: Detection;
}

/** Faces found on one layer; coordinates are relative to `frame` (the part of the layer on the canvas). */
export interface Detection {
  documentID: number;
  layerID: number;
  frame: PixelBounds;
  faces: DetectedFace[];
}

export interface RunResult {
  documentID: number;
  sourceLayerID: number;
  /** the layer FaceShift read (the selected one, or the first below a selected FaceShift layer) */
  source: LayerInfo;
  /** the new layer; Photoshop makes it the selected layer */
  layer: LayerInfo;
  historyName: string;
  faces: DetectedFace[];
  skipped: SkippedFace[];
  detection: Detection;
  model: string;
  upscaler: string | null;
  /** the layer that was selected when the run started, when it was not the source (a FaceShift layer) */
  selectedName?: string;
}

/** A view read from the layer for a preview, with where it was read (valid while the layer and face are the same). */
export interface LayerPreviewView extends PreviewView { documentID: number; layerID: number; frame: PixelBounds }

/** One face before and after, small, for the panel (src/app/preview.ts). */
export interface PreviewResult {
  documentID: number;
  layerID: number;
  /** 1-based, reading order; the face shown */
  faceNumber: number;
  faces: number;
  before: RGBAImage;
  after: RGBAImage;
  detection: Detection;
  /** the view read for `before`: pass it back (PanelPreviewOptions.view) so changing the strength reads nothing */
  view: LayerPreviewView;
}

export interface PanelPreviewOptions extends RunOptions {
  /** the view an earlier preview read: reused when it is for the same layer and face */
  view?: LayerPreviewView | null;
}

/** The panel's words after a run: which layer was added, and which layer is selected now. */
export function doneMessage(r: RunResult): string {
  const n = r.faces.length;
  const skipped = r.skipped.length ? ` ${r.skipped.length} face${r.skipped.length === 1 ? ' was' : 's were'} skipped: ${r.skipped.map((s) => s.reason).join('; ')}.` : '';
  const where = r.selectedName
    ? `above "${r.selectedName}" (FaceShift read the layer "${r.source.name}" below it)`
    : `above "${r.source.name}"`;
  return `Done: added the layer "${r.layer.name}" (${n} face${n === 1 ? '' : 's'}) ${where}. `
    + `The new layer is now the selected layer; FaceShift skips its own layers, so the next run works on "${r.source.name}" again. `
    + `Edit > Undo removes the layer; paint its mask to refine.${skipped}`;
}

export class FaceShiftController {
  readonly engine: EnginePort;
  /** layers this controller added ("documentID:layerID"): recognised even when renamed */
  private readonly made = new Set<string>();

  constructor(private readonly host: PhotoshopHost, client: EngineProtocolClient) {
    this.engine = remoteEngine(client);
  }

  /** The engine's directions, backend and minimum face size (asked once). */
  engineInfo(opts: { signal?: CancelSignal } = {}): Promise<EngineInfo> {
    return this.engine.info(opts).catch((e: unknown) => { throw asPhotoshopError(e); });
  }

  /** A layer FaceShift made: its name as FaceShift writes it, or added by this panel. */
  isFaceShiftLayer(documentID: number, layer: LayerInfo): boolean {
    return this.made.has(`${documentID}:${layer.id}`) || isFaceShiftLayerName(layer.name);
  }

  /**
   * The active document and the layer to read, checked; throws PhotoshopError before anything is
   * read. A selected FaceShift layer is skipped for the first layer below it that is not one.
   */
  target(): Target {
    const doc = this.host.activeDocument();
    checkDocument(doc);
    const selected = this.host.activeLayers(doc.id);
    if (selected.length !== 1 || !this.isFaceShiftLayer(doc.id, selected[0])) {
      const layer = checkLayer(selected);
      return { doc, layer, frame: layerFrame(layer, doc), selected: layer };
    }
    const made = selected[0];
    let below = this.host.layerBelow(doc.id, made.id);
    while (below && this.isFaceShiftLayer(doc.id, below)) below = this.host.layerBelow(doc.id, below.id);
    if (!below) {
      throw new PhotoshopError('NO_LAYER', `The selected layer "${made.name}" was made by FaceShift, and there is no photo layer below it. Select the layer that holds the photo.`);
    }
    let layer: LayerInfo;
    try {
      layer = checkLayer([below]);
    } catch (e) {
      const err = e as PhotoshopError;
      throw new PhotoshopError(err.code, `The selected layer "${made.name}" was made by FaceShift, so FaceShift works on the layer below it. ${err.message}`);
    }
    return { doc, layer, frame: layerFrame(layer, doc), selected: made };
  }

  /** Detect the faces on the active layer from a small copy. */
  async findFaces(opts: RunOptions = {}): Promise<Detection> {
    const session = this.session(opts);
    try {
      const { faces } = await findFaces(session.useCase, session.call);
      return session.detection(faces);
    } catch (e) {
      throw asPhotoshopError(e);
    }
  }

  /**
   * The live preview: the chosen face (the first, for "All faces") before and after, small, with
   * the current direction and strength. Reads a small view of the layer (its own short modal
   * scope, skipped when `opts.view` still fits) and asks the engine; the document is not changed.
   */
  async preview(settings: FaceShiftSettings, opts: PanelPreviewOptions = {}): Promise<PreviewResult> {
    try {
      const t = this.target();
      const session = this.session(opts, t);
      const v = opts.view && session.same(opts.view) ? opts.view : null;
      const p = await previewFace(session.useCase, settings, { ...session.call, reuseView: () => v });
      return {
        documentID: t.doc.id, layerID: t.layer.id, faceNumber: p.faceNumber, faces: p.faces, before: p.before, after: p.after,
        detection: session.detection(p.detected), view: { documentID: t.doc.id, layerID: t.layer.id, frame: t.frame, ...p.view },
      };
    } catch (e) {
      throw asPhotoshopError(e);
    }
  }

  /** The whole "Transform face" flow. On any error or cancel the document is left as it was. */
  async run(settings: FaceShiftSettings, opts: RunOptions = {}): Promise<RunResult> {
    const session = this.session(opts);
    try {
      const r = await transformDocument({
        ...session.useCase, nameWithStrength: true,
        sink: { write: (layer, name, call) => writeFaceLayer(this.host, session.target(), layer, name, call.signal) },
      }, settings, session.call);
      const t = session.target();
      this.made.add(`${t.doc.id}:${r.written.id}`);
      return {
        documentID: t.doc.id, sourceLayerID: t.layer.id, source: t.layer, layer: r.written, historyName: r.name,
        faces: r.transformed, skipped: r.skipped, detection: session.detection(r.detected),
        model: r.model, upscaler: r.upscaler,
        ...(t.selected.id !== t.layer.id ? { selectedName: t.selected.name } : {}),
      };
    } catch (e) {
      throw asPhotoshopError(e);
    }
  }

  /**
   * One call's wiring: the target is found when the use case opens the document (so a refusal
   * comes before any pixel is read), the layer is the source, and an earlier detection of this
   * very layer, as it is now, stands in for detecting again.
   */
  private session(opts: RunOptions, known?: Target) {
    let t: Target | null = known ?? null;
    const target = () => { if (!t) throw new PhotoshopError('NO_LAYER', 'No layer was read.'); return t; };
    const same = (x: { documentID: number; layerID: number; frame: PixelBounds }) => {
      const cur = target();
      return x.documentID === cur.doc.id && x.layerID === cur.layer.id && sameBounds(x.frame, cur.frame);
    };
    const open = async (): Promise<OpenedDocument> => {
      t = known ?? this.target();
      const d = opts.detection;
      return {
        source: new LayerSource(this.host, t, opts.signal),
        faces: d && same(d) ? d.faces : undefined,
        where: `on the layer "${t.layer.name}"`,
      };
    };
    const useCase: UseCase = { engine: this.engine, open, words: WORDS };
    const onProgress = opts.onProgress;
    return {
      useCase, target, same,
      call: { signal: opts.signal, onProgress: onProgress && ((p: RunProgress) => onProgress({ ...p, message: STAGE_WORDS[p.stage] })) },
      detection: (faces: DetectedFace[]): Detection => {
        const cur = target();
        return { documentID: cur.doc.id, layerID: cur.layer.id, frame: cur.frame, faces };
      },
    };
  }
}

function sameBounds(a: PixelBounds, b: PixelBounds): boolean {
  return a.left === b.left && a.top === b.top && a.right === b.right && a.bottom === b.bottom;
}
