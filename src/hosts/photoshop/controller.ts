/**
 * The Photoshop panel's "Transform face" flow, against two injected interfaces: PhotoshopHost
 * (what the plugin asks of Photoshop: uxp-host.ts is the real one, the tests use a simulator)
 * and EngineClient (the engine's message protocol: webview-client.ts talks to the webview).
 *
 * Order matters: everything slow (reading pixels, detection, the nets) happens before the one
 * modal scope, which only creates the layer, writes its pixels and mask, as one history step.
 * The source layer is only ever read.
 */
import type { Box } from '../../core/geometry';
import type { DetectedFace } from '../../core/faces';
import { faceSize, selectFaces } from '../../core/faces';
import type { FacePatch } from '../../core/blend';
import { RGBAImage, createRGBA, toRGBA } from '../../core/image';
import { facesToLayer } from '../../core/layer';
import type { Stage } from '../../engine/engine';
import { checkDocument, checkLayer, checkSettings, layerFrame } from './validate';
import { CANCELLED_MESSAGE, PhotoshopError } from './errors';

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
  /** imaging.getPixels of one layer. */
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
  signal?: AbortSignal;
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

export interface EngineClient {
  init(opts?: EngineCallOptions): Promise<EngineInfo>;
  detect(photo: PhotoSize, preview: RGBAImage, opts?: EngineCallOptions): Promise<DetectedFace[]>;
  regions(photo: PhotoSize, faces: DetectedFace[], opts?: EngineCallOptions): Promise<Box[]>;
  /** Cancel: abort opts.signal (the client sends the protocol's cancel message). */
  transform(req: EngineTransformRequest, opts?: EngineCallOptions): Promise<EngineTransformResult>;
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
  signal?: AbortSignal;
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
  layer: LayerInfo;
  historyName: string;
  faces: DetectedFace[];
  skipped: { face: DetectedFace; reason: string }[];
  detection: Detection;
  model: string;
  upscaler: string | null;
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

export function layerName(direction: string): string {
  return `FaceShift ${directionWords(direction)}`;
}

export class FaceShiftController {
  private info: Promise<EngineInfo> | null = null;

  constructor(private readonly host: PhotoshopHost, private readonly engine: EngineClient) {}

  /** The engine's directions, backend and minimum face size (asked once). */
  engineInfo(opts?: EngineCallOptions): Promise<EngineInfo> {
    if (!this.info) {
      this.info = this.engine.init(opts).catch((e) => { this.info = null; throw asPhotoshopError(e); });
    }
    return this.info;
  }

  /** The active document and layer, checked; throws PhotoshopError before anything is read. */
  target(): { doc: DocumentInfo; layer: LayerInfo; frame: PixelBounds } {
    const doc = this.host.activeDocument();
    checkDocument(doc);
    const layers = this.host.activeLayers(doc!.id);
    const layer = checkLayer(layers);
    return { doc: doc!, layer, frame: layerFrame(layer, doc!) };
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
    const read = await this.host.getPixels({ documentID: doc.id, layerID: layer.id, sourceBounds: frame, targetSize });
    const preview = toRGBA(read.data, read.width, read.height, read.components);
    throwIfCancelled(signal);
    progress('detect', 0);
    const faces = await this.engine.detect(size, preview, { signal }).catch(rethrow);
    return { documentID: doc.id, layerID: layer.id, frame, faces };
  }

  /** The whole "Transform face" flow. On any error or cancel the document is left as it was. */
  async run(settings: FaceShiftSettings, opts: RunOptions = {}): Promise<RunResult> {
    const { signal } = opts;
    const progress = progressReporter(opts.onProgress);
    checkSettings(settings);
    const { doc, layer, frame } = this.target();
    const info = await this.engineInfo({ signal });
    if (!info.directions.some((d) => d.direction === settings.direction)) {
      throw new PhotoshopError('BAD_OPTION', `FaceShift has no "${settings.direction}" model. Choose one of: ${info.directions.map((d) => d.label).join(', ')}.`);
    }

    // 1. faces, from a small copy (or from an earlier detection of this very layer)
    const fresh = opts.detection && opts.detection.documentID === doc.id && opts.detection.layerID === layer.id
      && sameBounds(opts.detection.frame, frame);
    const detection = fresh ? opts.detection! : await this.detect(doc, layer, frame, opts);
    const photo = boundsSize(frame);
    if (!detection.faces.length) {
      throw new PhotoshopError('NO_FACE', `No face was found on the layer "${layer.name}". Select the layer that holds the photo; faces need to be visible and at least about ${info.minFaceSize} pixels wide.`);
    }

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
      regions.push({ box: boxes[i], image: await this.readRegion(doc.id, layer.id, frame, boxes[i]) });
    }

    // 4. the nets, outside the modal scope (Photoshop stays usable meanwhile)
    throwIfCancelled(signal);
    const result = await this.engine.transform({
      photo, faces: big, regions,
      options: { direction: settings.direction, strength: settings.strength, upscale: settings.upscale, minFaceSize: info.minFaceSize },
    }, { signal, onProgress: (p) => { if (p.stage !== 'detect') progress(p.stage, p.fraction); } }).catch(rethrow);
    const faceLayer = facesToLayer(result.patches);
    if (!faceLayer) throw new PhotoshopError('NO_FACE', 'No face could be transformed on this layer. Try another photo or a closer crop.');
    throwIfCancelled(signal);

    // 5. one modal scope, one history step: new layer above the source, its pixels, its mask
    progress('write', 0);
    const name = layerName(settings.direction);
    const at = { left: frame.left + faceLayer.box.x, top: frame.top + faceLayer.box.y };
    const created = await this.write(doc.id, layer.id, name, at, faceLayer, signal);
    progress('write', 1);
    return {
      documentID: doc.id, sourceLayerID: layer.id, layer: created, historyName: name,
      faces: result.patches.map((p) => p.face), skipped: [...skipped, ...result.skipped], detection,
      model: result.model, upscaler: result.upscaler,
    };
  }

  /** getPixels of one face region (frame coordinates) at full resolution; padded if Photoshop trimmed it. */
  private async readRegion(documentID: number, layerID: number, frame: PixelBounds, box: Box): Promise<RGBAImage> {
    const want: PixelBounds = { left: frame.left + box.x, top: frame.top + box.y, right: frame.left + box.x + box.width, bottom: frame.top + box.y + box.height };
    const read = await this.host.getPixels({ documentID, layerID, sourceBounds: want });
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

  private async write(documentID: number, sourceID: number, name: string, at: { left: number; top: number },
    faceLayer: NonNullable<ReturnType<typeof facesToLayer>>, signal?: AbortSignal): Promise<LayerInfo> {
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
        const suspension = await ctx.hostControl.suspendHistory({ documentID, name });
        let created: LayerInfo | null = null;
        try {
          ctx.reportProgress({ value: 0.1, commandName: 'FaceShift: adding the layer' });
          created = await host.createPixelLayer({ documentID, name, above: sourceID });
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

function throwIfCancelled(signal?: AbortSignal): void {
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

function asWriteError(e: unknown): PhotoshopError {
  if (e instanceof PhotoshopError) return e;
  const err = e as { number?: number; message?: string };
  if (err?.number === 9) {
    return new PhotoshopError('BUSY', 'Photoshop is busy with another plugin or dialog. Nothing was changed; finish that and try again.');
  }
  if (/cancel/i.test(err?.message ?? '')) return new PhotoshopError('CANCELLED', CANCELLED_MESSAGE);
  return new PhotoshopError('WRITE', `Photoshop could not add the layer (${err?.message ?? String(e)}). Nothing was changed.`);
}
