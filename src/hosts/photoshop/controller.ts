/**
 * The Photoshop panel's "Transform face" flow, against two injected interfaces: PhotoshopHost
 * (what the plugin asks of Photoshop: uxp-host.ts is the real one, the tests use a simulator)
 * and EngineClient (the engine's message protocol: webview-client.ts talks to the webview).
 *
 * Order matters: everything slow (detection, the nets) happens outside any modal scope. Each pixel
 * read is its own short modal scope (the imaging API's reads are made in one, as public plugins
 * do); the write is one more, which only creates the layer, writes its pixels and mask, as one
 * history step. The source layer is only ever read.
 *
 * Photoshop makes the new layer the active one. So that a second click does not transform the
 * previous result, a layer FaceShift made (recognised by its name, which ends in the strength as
 * FaceShift writes it, or by being one this panel added) is never used as the source: FaceShift
 * works on the first layer below it that is not one of its own, and adds the new layer above the
 * selected one, so the newest result shows.
 */
import type { Box } from '../../core/geometry';
import type { DetectedFace } from '../../core/faces';
import { faceSize, selectFaces } from '../../core/faces';
import type { FacePatch } from '../../core/blend';
import { RGBAImage, createRGBA, resizeArea, toRGBA } from '../../core/image';
import { facesToLayer } from '../../core/layer';
import type { Stage } from '../../engine/engine';
import { PREVIEW_SIDE, PreviewPlan, faceInView, planPreview } from '../../engine/preview';
import { checkDocument, checkLayer, checkSettings, layerFrame } from './validate';
import { CANCELLED_MESSAGE, PhotoshopError } from './errors';
import type { CancelSignal } from './cancel';

export { CANCELLED_MESSAGE, PhotoshopError } from './errors';
export type { PhotoshopErrorCode } from './errors';

// ---------------------------------------------------------------------------------------------
// What the controller needs from Photoshop
// ---------------------------------------------------------------------------------------------

/** A rectangle as the imaging API takes it: left/top inclusive, right/bottom exclusive. */
export interface PixelBounds { left: number; top: number; right: number; bottom: number }

export interface DocumentInfo {
  id: number;
  title: string;
  width: number;
  height: number;
  /** constants.DocumentMode: "RGBColorMode", "CMYKColorMode", "labColorMode", "indexedColorMode", ... */
  mode: string;
  /** 1, 8, 16 or 32 */
  bitsPerChannel: number;
}

export interface LayerInfo {
  id: number;
  name: string;
  /** constants.LayerKind: "pixel", "group", "text", "smartObject", "solidColor", "curves", ... */
  kind: string;
  visible: boolean;
  /** the layer's own "lock all" */
  allLocked: boolean;
  pixelsLocked: boolean;
  isBackground: boolean;
  /** boundsNoEffects: where the layer has pixels (empty layers: zero width or height) */
  bounds: PixelBounds;
}

/** Interleaved 8-bit pixels as the imaging API hands them over (components: 1 gray, 3 RGB, 4 RGBA). */
export interface PixelData { width: number; height: number; components: number; data: Uint8Array | Uint8ClampedArray }

export interface PixelsRead extends PixelData {
  /** the bounds actually read (trimmed to the layer's pixels; relative to the pyramid level) */
  sourceBounds: PixelBounds;
  /** pyramid level used (0 = full resolution) */
  level: number;
}

export interface HistorySuspension { historySuspensionID: number }

/** The part of executeAsModal's executionContext the controller uses (same shape as Photoshop's). */
export interface ModalContext {
  readonly isCancelled: boolean;
  onCancel?: (() => void) | undefined;
  reportProgress(p: { value?: number; commandName?: string }): void;
  hostControl: {
    suspendHistory(o: { documentID: number; name: string }): Promise<HistorySuspension>;
    resumeHistory(s: HistorySuspension & { finalName?: string }, commit?: boolean): Promise<void>;
  };
}

export interface PhotoshopHost {
  activeDocument(): DocumentInfo | null;
  /** The layers selected in the Layers panel, top first. */
  activeLayers(documentID: number): LayerInfo[];
  layer(documentID: number, layerID: number): LayerInfo | null;
  /** The layer directly below this one in the Layers panel (same group), or null. */
  layerBelow(documentID: number, layerID: number): LayerInfo | null;
  /** imaging.getPixels of one layer. Photoshop wants it inside executeAsModal (the controller's readPixels does that). */
  getPixels(o: { documentID: number; layerID: number; sourceBounds?: PixelBounds; targetSize?: { width?: number; height?: number } }): Promise<PixelsRead>;
  // Writes: Photoshop refuses them outside executeAsModal.
  /** A new empty pixel layer directly above `above`. */
  createPixelLayer(o: { documentID: number; name: string; above: number }): Promise<LayerInfo>;
  deleteLayer(o: { documentID: number; layerID: number }): Promise<void>;
  /** imaging.putPixels (replace: true) with the image's top-left at targetBounds. */
  putPixels(o: { documentID: number; layerID: number; image: PixelData; targetBounds: { left: number; top: number }; commandName?: string }): Promise<void>;
  /** imaging.putLayerMask (kind "user", replace: true) from one-component grayscale data. */
  putLayerMask(o: { documentID: number; layerID: number; mask: PixelData; targetBounds: { left: number; top: number }; commandName?: string }): Promise<void>;
  executeAsModal<T>(fn: (ctx: ModalContext) => Promise<T>, o: { commandName: string }): Promise<T>;
  /** action.recordAction: adds a step to the action being recorded (nothing when none is). */
  recordAction(o: { name: string; methodName: string }, info: Record<string, unknown>): Promise<void>;
}

// ---------------------------------------------------------------------------------------------
// What the controller needs from the engine (the message protocol, src/engine/protocol.ts)
// ---------------------------------------------------------------------------------------------

export interface PhotoSize { width: number; height: number }

export interface EngineInfo {
  runtime: string;
  backend: 'webgpu' | 'wasm' | 'native';
  directions: { direction: string; label: string }[];
  minFaceSize: number;
}

export interface EngineCallOptions {
  /** an AbortSignal or the panel's own CancelToken: only `aborted` is read (UXP's AbortSignal has no events) */
  signal?: CancelSignal;
  onProgress?: (p: { stage: Stage; fraction: number }) => void;
}

export interface EngineTransformRequest {
  photo: PhotoSize;
  faces: DetectedFace[];
  regions: { box: Box; image: RGBAImage }[];
  options: { direction: string; strength?: number; upscale?: boolean; colorMatch?: boolean; minFaceSize?: number };
}

export interface EngineTransformResult {
  model: string;
  upscaler: string | null;
  patches: (FacePatch & { face: DetectedFace })[];
  skipped: { face: DetectedFace; reason: string }[];
  timings: Record<string, number>;
}

export interface EnginePreviewRequest {
  /** a small view around the face (PreviewPlan), read from the layer */
  view: RGBAImage;
  /** the face in view pixels */
  face: DetectedFace;
  options: { direction: string; strength?: number };
}

export interface EngineClient {
  init(opts?: EngineCallOptions): Promise<EngineInfo>;
  detect(photo: PhotoSize, preview: RGBAImage, opts?: EngineCallOptions): Promise<DetectedFace[]>;
  regions(photo: PhotoSize, faces: DetectedFace[], opts?: EngineCallOptions): Promise<Box[]>;
  /** Cancel: abort opts.signal (the client sends the protocol's cancel message). */
  transform(req: EngineTransformRequest, opts?: EngineCallOptions): Promise<EngineTransformResult>;
  /** The view with the face transformed (src/engine/preview.ts), same size as the view. */
  preview(req: EnginePreviewRequest, opts?: EngineCallOptions): Promise<RGBAImage>;
}

// ---------------------------------------------------------------------------------------------
// The flow
// ---------------------------------------------------------------------------------------------

export type FaceChoice = 'all' | 'largest' | number;

/** What the user chose in the panel; also what a recorded action stores. */
export interface FaceShiftSettings {
  direction: string;
  /** 0..1 */
  strength: number;
  /** all faces, the largest, or face n (1-based, reading order as listed after detection) */
  faces: FaceChoice;
  upscale: boolean;
}

export const PREVIEW_MAX_SIDE = 2048;

export type HostStage = 'read' | Stage | 'write';

export interface RunProgress {
  stage: HostStage;
  /** 0..1 over the whole run */
  fraction: number;
  /** plain words for the panel */
  message: string;
}

export interface RunOptions {
  /** an AbortSignal or the panel's CancelToken: only `aborted` is read */
  signal?: CancelSignal;
  onProgress?: (p: RunProgress) => void;
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
  skipped: { face: DetectedFace; reason: string }[];
  detection: Detection;
  model: string;
  upscaler: string | null;
  /** the layer that was selected when the run started, when it was not the source (a FaceShift layer) */
  selectedName?: string;
}

const STAGE_WORDS: Record<HostStage, string> = {
  read: 'Reading the layer',
  detect: 'Looking for faces',
  align: 'Aligning the face',
  transform: 'Transforming the face',
  upscale: 'Sharpening the face (4x)',
  paste: 'Blending the face in',
  write: 'Adding the new layer',
};

/** "male2female" -> "male->female" */
export function directionWords(direction: string): string {
  return direction.replace(/2/, '->');
}

/**
 * "FaceShift male->female 80%": the new layer's name and its history step. The strength at the
 * end is what FaceShift recognises its own layers by (isFaceShiftLayerName).
 */
export function layerName(direction: string, strength: number): string {
  return `FaceShift ${directionWords(direction)} ${Math.round(strength * 100)}%`;
}

/** A name FaceShift wrote (layerName), also after Photoshop's " copy" / " copy 2" on duplicating. */
export function isFaceShiftLayerName(name: string): boolean {
  return /^FaceShift \S+->\S+ \d{1,3}%( copy( \d+)?)?$/.test(name);
}

/** Where the layer FaceShift reads and the layer it adds above, for the current selection. */
export interface Target {
  doc: DocumentInfo;
  /** the layer FaceShift reads */
  layer: LayerInfo;
  frame: PixelBounds;
  /** the selected layer: the source, or a FaceShift layer above it (the new layer goes above this one) */
  selected: LayerInfo;
}

/** One face before and after, small, for the panel (src/engine/preview.ts). */
export interface PreviewResult {
  documentID: number;
  layerID: number;
  /** 1-based, reading order; the face shown */
  faceNumber: number;
  faces: number;
  before: RGBAImage;
  after: RGBAImage;
  detection: Detection;
  /** the view read for `before`: pass it back (PreviewOptions.view) so changing the strength reads nothing */
  view: PreviewView;
}

/** A view read from the layer for a preview (valid while the layer and face are the same). */
export interface PreviewView { documentID: number; layerID: number; frame: PixelBounds; plan: PreviewPlan; image: RGBAImage }

export interface PreviewOptions extends RunOptions {
  /** the view an earlier preview read: reused when it is for the same layer and face */
  view?: PreviewView | null;
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
  private info: Promise<EngineInfo> | null = null;
  /** layers this controller added ("documentID:layerID"): recognised even when renamed */
  private readonly made = new Set<string>();

  constructor(private readonly host: PhotoshopHost, private readonly engine: EngineClient) {}

  /** The engine's directions, backend and minimum face size (asked once). */
  engineInfo(opts?: EngineCallOptions): Promise<EngineInfo> {
    if (!this.info) {
      this.info = this.engine.init(opts).catch((e) => { this.info = null; throw asPhotoshopError(e); });
    }
    return this.info;
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

  /** Detect the faces on the active layer from a small copy (longer side at most 2048). */
  async findFaces(opts: RunOptions = {}): Promise<Detection> {
    const t = this.target();
    return this.detect(t.doc, t.layer, t.frame, opts);
  }

  private async detect(doc: DocumentInfo, layer: LayerInfo, frame: PixelBounds, opts: RunOptions): Promise<Detection> {
    const { signal } = opts;
    const progress = progressReporter(opts.onProgress);
    await this.engineInfo({ signal });
    const size = boundsSize(frame);
    const k = Math.min(1, PREVIEW_MAX_SIDE / Math.max(size.width, size.height));
    const targetSize = { width: Math.max(1, Math.round(size.width * k)), height: Math.max(1, Math.round(size.height * k)) };
    throwIfCancelled(signal);
    progress('read', 0);
    const read = await this.readPixels({ documentID: doc.id, layerID: layer.id, sourceBounds: frame, targetSize }, signal);
    const preview = toRGBA(read.data, read.width, read.height, read.components);
    throwIfCancelled(signal);
    progress('detect', 0);
    const faces = await this.engine.detect(size, preview, { signal }).catch(rethrow);
    return { documentID: doc.id, layerID: layer.id, frame, faces };
  }

  /** Faces of an earlier detection when it is of this very layer as it is now, else detected again. */
  private async detection(t: Target, opts: RunOptions): Promise<Detection> {
    const d = opts.detection;
    const fresh = d && d.documentID === t.doc.id && d.layerID === t.layer.id && sameBounds(d.frame, t.frame);
    return fresh ? d : this.detect(t.doc, t.layer, t.frame, opts);
  }

  /**
   * The live preview: the chosen face (the first, for "All faces") before and after, small, with
   * the current direction and strength. Reads a small view of the layer (its own short modal
   * scope, skipped when `opts.view` still fits) and asks the engine; the document is not changed.
   */
  async preview(settings: FaceShiftSettings, opts: PreviewOptions = {}): Promise<PreviewResult> {
    const { signal } = opts;
    checkSettings(settings);
    const t = this.target();
    const info = await this.engineInfo({ signal });
    this.checkDirection(info, settings.direction);
    const detection = await this.detection(t, opts);
    if (!detection.faces.length) throw this.noFace(t.layer, info);
    const ordered = selectFaces(detection.faces, 'all');
    let face: DetectedFace;
    try {
      face = settings.faces === 'all' ? ordered[0] : selectFaces(detection.faces, settings.faces)[0];
    } catch (e) {
      throw new PhotoshopError('BAD_OPTION', `${(e as Error).message} Choose "All faces" or another face.`);
    }
    const photo = boundsSize(t.frame);
    const [region] = await this.engine.regions(photo, [face], { signal }).catch(rethrow);
    const plan = planPreview(region, photo, PREVIEW_SIDE);
    let view = opts.view;
    if (!view || view.documentID !== t.doc.id || view.layerID !== t.layer.id || !sameBounds(view.frame, t.frame) || !samePlan(view.plan, plan)) {
      const b = plan.box;
      const read = await this.readPixels({
        documentID: t.doc.id, layerID: t.layer.id,
        sourceBounds: { left: t.frame.left + b.x, top: t.frame.top + b.y, right: t.frame.left + b.x + b.width, bottom: t.frame.top + b.y + b.height },
        ...(plan.width < b.width || plan.height < b.height ? { targetSize: { width: plan.width, height: plan.height } } : {}),
      }, signal);
      let image = toRGBA(read.data, read.width, read.height, read.components);
      // the box lies inside the layer's bounds, so Photoshop has nothing to trim; if it did, fit it
      if (image.width !== plan.width || image.height !== plan.height) image = resizeArea(image, plan.width, plan.height);
      view = { documentID: t.doc.id, layerID: t.layer.id, frame: t.frame, plan, image };
    }
    throwIfCancelled(signal);
    const after = await this.engine.preview({
      view: view.image, face: faceInView(face, plan, view.image),
      options: { direction: settings.direction, strength: settings.strength },
    }, { signal }).catch(rethrow);
    return {
      documentID: t.doc.id, layerID: t.layer.id, faceNumber: ordered.indexOf(face) + 1, faces: ordered.length,
      before: view.image, after, detection, view,
    };
  }

  /** The whole "Transform face" flow. On any error or cancel the document is left as it was. */
  async run(settings: FaceShiftSettings, opts: RunOptions = {}): Promise<RunResult> {
    const { signal } = opts;
    const progress = progressReporter(opts.onProgress);
    checkSettings(settings);
    const t = this.target();
    const { doc, layer, frame } = t;
    const info = await this.engineInfo({ signal });
    this.checkDirection(info, settings.direction);

    // 1. faces, from a small copy (or from an earlier detection of this very layer)
    const detection = await this.detection(t, opts);
    const photo = boundsSize(frame);
    if (!detection.faces.length) throw this.noFace(layer, info);

    // 2. which faces
    let chosen: DetectedFace[];
    try {
      chosen = selectFaces(detection.faces, settings.faces);
    } catch (e) {
      throw new PhotoshopError('BAD_OPTION', `${(e as Error).message} Choose "All faces" or another face.`);
    }
    const big = chosen.filter((f) => faceSize(f) >= info.minFaceSize);
    if (!big.length) {
      const largest = Math.round(Math.max(...chosen.map(faceSize)));
      throw new PhotoshopError('FACE_TOO_SMALL', `The face${chosen.length > 1 ? 's are' : ' is'} too small: ${largest} pixels wide${chosen.length > 1 ? ' at most' : ''}, and FaceShift needs at least ${info.minFaceSize}. Use a larger photo (Image > Image Size) or a closer shot.`);
    }
    const skipped = chosen.filter((f) => faceSize(f) < info.minFaceSize)
      .map((face) => ({ face, reason: `face is ${Math.round(faceSize(face))} px wide, below the ${info.minFaceSize} px minimum` }));

    // 3. only the regions the engine needs, at full resolution
    throwIfCancelled(signal);
    const boxes = await this.engine.regions(photo, big, { signal }).catch(rethrow);
    const regions: { box: Box; image: RGBAImage }[] = [];
    for (let i = 0; i < boxes.length; i++) {
      throwIfCancelled(signal);
      progress('read', 0.2 + 0.05 * (i / boxes.length));
      regions.push({ box: boxes[i], image: await this.readRegion(doc.id, layer.id, frame, boxes[i], signal) });
    }

    // 4. the nets, outside any modal scope (Photoshop stays usable meanwhile)
    throwIfCancelled(signal);
    const result = await this.engine.transform({
      photo, faces: big, regions,
      options: { direction: settings.direction, strength: settings.strength, upscale: settings.upscale, minFaceSize: info.minFaceSize },
    }, { signal, onProgress: (p) => { if (p.stage !== 'detect') progress(p.stage, p.fraction); } }).catch(rethrow);
    const faceLayer = facesToLayer(result.patches);
    if (!faceLayer) throw new PhotoshopError('NO_FACE', 'No face could be transformed on this layer. Try another photo or a closer crop.');
    throwIfCancelled(signal);

    // 5. one modal scope, one history step: new layer above the selected one, its pixels, its mask
    progress('write', 0);
    const name = layerName(settings.direction, settings.strength);
    const at = { left: frame.left + faceLayer.box.x, top: frame.top + faceLayer.box.y };
    const created = await this.write(doc.id, layer.id, t.selected.id, name, at, faceLayer, signal);
    this.made.add(`${doc.id}:${created.id}`);
    progress('write', 1);
    return {
      documentID: doc.id, sourceLayerID: layer.id, source: layer, layer: created, historyName: name,
      faces: result.patches.map((p) => p.face), skipped: [...skipped, ...result.skipped], detection,
      model: result.model, upscaler: result.upscaler,
      ...(t.selected.id !== layer.id ? { selectedName: t.selected.name } : {}),
    };
  }

  private checkDirection(info: EngineInfo, direction: string): void {
    if (!info.directions.some((d) => d.direction === direction)) {
      throw new PhotoshopError('BAD_OPTION', `FaceShift has no "${direction}" model. Choose one of: ${info.directions.map((d) => d.label).join(', ')}.`);
    }
  }

  private noFace(layer: LayerInfo, info: EngineInfo): PhotoshopError {
    return new PhotoshopError('NO_FACE', `No face was found on the layer "${layer.name}". Select the layer that holds the photo; faces need to be visible and at least about ${info.minFaceSize} pixels wide.`);
  }

  /**
   * imaging.getPixels in its own short modal scope: public plugins report that Photoshop refuses
   * the read outside one. Only the read is modal, never the nets. Inside an action's playback
   * (already modal) the scope nests, as the documentation allows.
   */
  private async readPixels(o: Parameters<PhotoshopHost['getPixels']>[0], signal?: CancelSignal): Promise<PixelsRead> {
    try {
      return await this.host.executeAsModal(async (ctx) => {
        if (ctx.isCancelled || signal?.aborted) throw new PhotoshopError('CANCELLED', CANCELLED_MESSAGE);
        return this.host.getPixels(o);
      }, { commandName: 'FaceShift: reading the layer' });
    } catch (e) {
      throw asReadError(e);
    }
  }

  /** getPixels of one face region (frame coordinates) at full resolution; padded if Photoshop trimmed it. */
  private async readRegion(documentID: number, layerID: number, frame: PixelBounds, box: Box, signal?: CancelSignal): Promise<RGBAImage> {
    const want: PixelBounds = { left: frame.left + box.x, top: frame.top + box.y, right: frame.left + box.x + box.width, bottom: frame.top + box.y + box.height };
    const read = await this.readPixels({ documentID, layerID, sourceBounds: want }, signal);
    const got = toRGBA(read.data, read.width, read.height, read.components);
    const b = read.sourceBounds;
    if (b.left === want.left && b.top === want.top && got.width === box.width && got.height === box.height) return got;
    // trimmed to where the layer has pixels: the rest is transparent
    const out = createRGBA(box.width, box.height);
    for (let y = 0; y < got.height; y++) {
      const ty = b.top - want.top + y;
      if (ty < 0 || ty >= box.height) continue;
      for (let x = 0; x < got.width; x++) {
        const tx = b.left - want.left + x;
        if (tx < 0 || tx >= box.width) continue;
        out.data.set(got.data.subarray((y * got.width + x) * 4, (y * got.width + x) * 4 + 4), (ty * box.width + tx) * 4);
      }
    }
    return out;
  }

  private async write(documentID: number, sourceID: number, aboveID: number, name: string, at: { left: number; top: number },
    faceLayer: NonNullable<ReturnType<typeof facesToLayer>>, signal?: CancelSignal): Promise<LayerInfo> {
    const host = this.host;
    try {
      return await host.executeAsModal(async (ctx) => {
        const stop = () => {
          if (ctx.isCancelled || signal?.aborted) throw new PhotoshopError('CANCELLED', CANCELLED_MESSAGE);
        };
        stop();
        // the source may have changed while the nets ran
        if (!host.layer(documentID, sourceID)) {
          throw new PhotoshopError('CHANGED', 'The layer was deleted while FaceShift was working. Nothing was changed; select a layer and try again.');
        }
        const above = host.layer(documentID, aboveID) ? aboveID : sourceID;
        const suspension = await ctx.hostControl.suspendHistory({ documentID, name });
        let created: LayerInfo | null = null;
        try {
          ctx.reportProgress({ value: 0.1, commandName: 'FaceShift: adding the layer' });
          created = await host.createPixelLayer({ documentID, name, above });
          stop();
          await host.putPixels({ documentID, layerID: created.id, image: { ...faceLayer.rgba, components: 4 }, targetBounds: at, commandName: name });
          stop();
          ctx.reportProgress({ value: 0.6, commandName: 'FaceShift: adding the mask' });
          await host.putLayerMask({ documentID, layerID: created.id, mask: { ...faceLayer.mask, components: 1 }, targetBounds: at, commandName: name });
          stop();
          await ctx.hostControl.resumeHistory(suspension, true);
          ctx.reportProgress({ value: 1 });
          return host.layer(documentID, created.id) ?? created;
        } catch (e) {
          // Leave the document as it was: no half-made layer, no history state.
          if (created && host.layer(documentID, created.id)) {
            try { await host.deleteLayer({ documentID, layerID: created.id }); } catch { /* rolled back below */ }
          }
          try { await ctx.hostControl.resumeHistory(suspension, false); } catch { /* Photoshop cancels it when the scope throws */ }
          throw e;
        }
      }, { commandName: name });
    } catch (e) {
      throw asWriteError(e);
    }
  }
}

// ---------------------------------------------------------------------------------------------

function boundsSize(b: PixelBounds): PhotoSize {
  return { width: b.right - b.left, height: b.bottom - b.top };
}

function sameBounds(a: PixelBounds, b: PixelBounds): boolean {
  return a.left === b.left && a.top === b.top && a.right === b.right && a.bottom === b.bottom;
}

function samePlan(a: PreviewPlan, b: PreviewPlan): boolean {
  return a.width === b.width && a.height === b.height && a.box.x === b.box.x && a.box.y === b.box.y
    && a.box.width === b.box.width && a.box.height === b.box.height;
}

function throwIfCancelled(signal?: CancelSignal): void {
  if (signal?.aborted) throw new PhotoshopError('CANCELLED', CANCELLED_MESSAGE);
}

/** Map the engine's stages onto one progress bar: reading 0-5 %, detection 5-20 %, regions 20-25 %, nets 25-95 %, writing 95-100 %. */
function progressReporter(cb?: (p: RunProgress) => void): (stage: HostStage, fraction: number) => void {
  return (stage, f) => {
    if (!cb) return;
    const clamp = Math.max(0, Math.min(1, f));
    const fraction = stage === 'read' ? (f >= 0.2 ? clamp : 0.05 * clamp)
      : stage === 'detect' ? 0.05 + 0.15 * clamp
        : stage === 'write' ? 0.95 + 0.05 * clamp
          : 0.25 + 0.7 * clamp;
    cb({ stage, fraction, message: STAGE_WORDS[stage] });
  };
}

/** Errors from the engine client keep their code and words; anything else becomes ENGINE. */
export function asPhotoshopError(e: unknown): PhotoshopError {
  if (e instanceof PhotoshopError) return e;
  const code = (e as { code?: string })?.code;
  const message = (e as Error)?.message ?? String(e);
  if (code === 'CANCELLED') return new PhotoshopError('CANCELLED', CANCELLED_MESSAGE);
  if (code === 'NO_FACE' || code === 'FACE_TOO_SMALL' || code === 'BAD_OPTION') return new PhotoshopError(code, message);
  return new PhotoshopError('ENGINE', `The FaceShift engine failed: ${message}`);
}

function rethrow(e: unknown): never { throw asPhotoshopError(e); }

function busy(): PhotoshopError {
  return new PhotoshopError('BUSY', 'Photoshop is busy with another plugin or dialog. Nothing was changed; finish that and try again.');
}

/** A failed read: busy (error 9), cancelled in Photoshop's progress bar, or Photoshop's own words. */
function asReadError(e: unknown): PhotoshopError {
  if (e instanceof PhotoshopError) return e;
  const err = e as { number?: number; message?: string };
  if (err?.number === 9) return busy();
  if (/cancel/i.test(err?.message ?? '')) return new PhotoshopError('CANCELLED', CANCELLED_MESSAGE);
  return new PhotoshopError('READ', `Photoshop could not read the layer's pixels (${err?.message ?? String(e)}). Nothing was changed.`);
}

function asWriteError(e: unknown): PhotoshopError {
  if (e instanceof PhotoshopError) return e;
  const err = e as { number?: number; message?: string };
  if (err?.number === 9) return busy();
  if (/cancel/i.test(err?.message ?? '')) return new PhotoshopError('CANCELLED', CANCELLED_MESSAGE);
  return new PhotoshopError('WRITE', `Photoshop could not add the layer (${err?.message ?? String(e)}). Nothing was changed.`);
}
