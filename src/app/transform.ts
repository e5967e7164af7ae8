/**
 * The use case, once for every host: "transform the faces of this document". It opens the
 * document (the host's source), finds the faces, chooses the ones to change (selection, minimum
 * size, skip reasons), has the engine transform them (through an EnginePort: in process, or
 * over the Photoshop webview's messages), names the layer, and hands it to the host's sink (a
 * PSD or PNG file, a Photoshop layer, a Photopea layer). Progress is one rising 0..1 value that
 * hosts only relabel; cancellation is checked between steps; errors carry codes hosts map.
 *
 *   read 0-0.05     open the document (decode a file, export from Photopea, check the layer)
 *   detect 0.05-0.2 find faces on a small copy
 *   read 0.2-0.25   the face regions at full resolution (hosts that send them to the engine)
 *   align .. paste 0.25-0.95, face after face
 *   write 0.95-1    the sink writes the layer
 */
import type { Box } from '../core/geometry';
import { DetectedFace, FaceSelection, faceSize, selectFaces } from '../core/faces';
import { RGBAImage } from '../core/image';
import { FaceLayer, facesToLayer } from '../core/layer';
import { strengthProblem } from '../core/blend';
import { CancelSignal, FaceShiftError, throwIfCancelled } from '../core/errors';
import type { EngineInfo, PhotoSource, Stage } from '../engine/engine';
import type { EnginePort, PortProgress, TransformResult } from './engine-port';
import { HostWords, PHOTO_WORDS, messages } from './messages';

/** What the user chose; also what a recorded Photoshop action stores. */
export interface FaceShiftSettings {
  direction: string;
  /** 0..1.5: how much of the change shows */
  strength: number;
  faces: FaceSelection;
  upscale: boolean;
  /** match the new face's colour to the photo (default: as the model's manifest entry says) */
  colorMatch?: boolean;
  /** faces smaller than this (box side, photo pixels) are skipped (default: the engine's) */
  minFaceSize?: number;
}

export type RunStage = 'read' | Stage | 'write';

export interface RunProgress {
  stage: RunStage;
  /** 0..1 over the whole run, never falling */
  fraction: number;
  /** during align .. paste: the face at work, of how many */
  face?: number;
  faces?: number;
}

/** Where the pixels come from: the engine's PhotoSource, and a scaled read for the live preview. */
export interface DocumentSource extends PhotoSource {
  /** `box` scaled to width x height (default: the region read at full size, then scaled down here). */
  readView?(box: Box, width: number, height: number): Promise<RGBAImage>;
}

/** The document as the host opened it. */
export interface OpenedDocument {
  source: DocumentSource;
  /** faces found earlier on exactly these pixels (the host knows when they still hold) */
  faces?: DetectedFace[];
  /** where faces are looked for, in words, when the host knows more than HostWords.where (e.g. 'on the layer "Background"') */
  where?: string;
}

/** Where the layer goes: a PSD or PNG file, a Photoshop layer, a Photopea layer. `W`: what the host made. */
export interface LayerSink<W> {
  write(layer: FaceLayer, name: string, call: { signal?: CancelSignal }): Promise<W>;
}

export interface UseCase {
  engine: EnginePort;
  /** Open the document: called once per run, before anything else is read. */
  open: () => Promise<OpenedDocument>;
  /** the host's words for what to do (default: PHOTO_WORDS) */
  words?: HostWords;
}

export interface RunCall {
  signal?: CancelSignal;
  onProgress?: (p: RunProgress) => void;
  /** the faces as soon as they are known (hosts list them, and keep them for the next run) */
  onFaces?: (faces: DetectedFace[], doc: OpenedDocument) => void;
}

/** A sink that keeps the layer in memory (scripts, tests): the outcome's `written` is the layer. */
export const keepLayer: LayerSink<FaceLayer> = { write: async (layer) => layer };

/** Why a face was not transformed. */
export interface SkippedFace { face: DetectedFace; reason: string }

export type Timings = Record<RunStage | 'detect', number>;

export interface FoundFaces {
  doc: OpenedDocument;
  info: EngineInfo;
  /** every face, in reading order */
  faces: DetectedFace[];
  timings: Pick<Timings, 'read' | 'detect'>;
}

export interface TransformOutcome<W> {
  doc: OpenedDocument;
  /** every face found, in reading order */
  detected: DetectedFace[];
  /** the faces in the new layer */
  transformed: DetectedFace[];
  skipped: SkippedFace[];
  layer: FaceLayer;
  /** the new layer's name */
  name: string;
  /** what the sink made */
  written: W;
  model: string;
  upscaler: string | null;
  /** milliseconds per step */
  timings: Timings;
}

// ---------------------------------------------------------------------------------------------
// Names
// ---------------------------------------------------------------------------------------------

/**
 * "FaceShift male->female": the new layer's name. With `strength`, "FaceShift male->female 80%":
 * the Photoshop panel's names, by which it recognises its own layers (isFaceShiftLayerName).
 */
export function layerName(d: { source: string; target: string }, strength?: number): string {
  return `FaceShift ${d.source}->${d.target}${strength === undefined ? '' : ` ${Math.round(strength * 100)}%`}`;
}

/** A name layerName wrote with a strength, also after Photoshop's " copy" / " copy 2" on duplicating. */
export function isFaceShiftLayerName(name: string): boolean {
  return /^FaceShift \S+->\S+ \d{1,3}%( copy( \d+)?)?$/.test(name);
}

/** "male->female" for a direction the engine offers (the direction's own name otherwise). */
export function directionWords(info: EngineInfo | null | undefined, direction: string): string {
  const d = info?.directions.find((x) => x.direction === direction);
  return d ? `${d.source}->${d.target}` : direction;
}

// ---------------------------------------------------------------------------------------------
// Progress
// ---------------------------------------------------------------------------------------------

const PHASES = { open: [0, 0.05], detect: [0.05, 0.2], regions: [0.2, 0.25], engine: [0.25, 0.95], write: [0.95, 1] } as const;
type Phase = keyof typeof PHASES;

/** One rising value over the run's phases (a late or repeated report never moves it back). */
function progressScale(cb?: (p: RunProgress) => void) {
  let last = 0;
  return (phase: Phase, stage: RunStage, f: number, face?: { face?: number; faces?: number }) => {
    if (!cb) return;
    const [a, b] = PHASES[phase];
    last = Math.max(last, a + (b - a) * Math.max(0, Math.min(1, f)));
    cb({ stage, fraction: last, ...(face?.faces ? { face: face.face, faces: face.faces } : {}) });
  };
}

const now = () => (typeof performance !== 'undefined' ? performance.now() : Date.now());

// ---------------------------------------------------------------------------------------------
// The use case
// ---------------------------------------------------------------------------------------------

/** Settings a host passed (or an action recorded) that FaceShift cannot run: BAD_OPTION, before anything is read. */
export function checkSettings(s: FaceShiftSettings): void {
  if (!s || typeof s.direction !== 'string' || !s.direction) throw new FaceShiftError('BAD_OPTION', messages.noDirection);
  const strength = strengthProblem(s.strength);
  if (strength) throw new FaceShiftError('BAD_OPTION', strength);
  const f = s.faces;
  if (!(f === 'all' || f === 'largest' || (typeof f === 'number' && Number.isInteger(f) && f >= 1))) throw new FaceShiftError('BAD_OPTION', messages.badFaces(f));
  if (typeof s.upscale !== 'boolean') throw new FaceShiftError('BAD_OPTION', messages.badUpscale);
}

/**
 * Open the document, ask the engine what it offers (and check `direction` is among it, before any
 * pixel is read), then find the faces, or take the ones the host kept for these pixels.
 */
export async function findFaces(uc: UseCase, call: RunCall = {}, direction?: string, progress = progressScale(call.onProgress)): Promise<FoundFaces> {
  const { signal } = call;
  let t = now();
  throwIfCancelled(signal);
  progress('open', 'read', 0);
  const doc = await uc.open();
  const info = await uc.engine.info({ signal });
  if (direction !== undefined) offeredDirection(info, direction);
  const read = now() - t;
  throwIfCancelled(signal);
  progress('detect', 'detect', 0);
  t = now();
  const faces = doc.faces ?? await uc.engine.detect(doc.source, { signal });
  const detect = doc.faces ? 0 : now() - t;
  progress('detect', 'detect', 1);
  call.onFaces?.(faces, doc);
  return { doc, info, faces, timings: { read, detect } };
}

/** The faces to change: the selection, without those below the minimum size (each skipped with its reason). */
export function chooseFaces(found: DetectedFace[], selection: FaceSelection, minFaceSize: number, words: HostWords): { todo: DetectedFace[]; skipped: SkippedFace[] } {
  let chosen: DetectedFace[];
  try {
    chosen = selectFaces(found, selection);
  } catch (e) {
    if (e instanceof FaceShiftError && e.code === 'NO_SUCH_FACE') throw new FaceShiftError('NO_SUCH_FACE', messages.noSuchFace(e.message, words));
    throw e;
  }
  const todo = chosen.filter((f) => faceSize(f) >= minFaceSize);
  if (!todo.length) throw new FaceShiftError('FACE_TOO_SMALL', messages.faceTooSmall(chosen, minFaceSize, words));
  const skipped = chosen.filter((f) => faceSize(f) < minFaceSize).map((face) => ({ face, reason: messages.skipReason(face, minFaceSize) }));
  return { todo, skipped };
}

/** The direction as the engine offers it; BAD_OPTION naming the ones it has otherwise. */
export function offeredDirection(info: EngineInfo, direction: string): EngineInfo['directions'][number] {
  const d = info.directions.find((x) => x.direction === direction);
  if (!d) throw new FaceShiftError('BAD_OPTION', messages.noModel(direction, info.directions));
  return d;
}

/** Words for where the faces were looked for. */
export function where(uc: UseCase, doc: OpenedDocument): HostWords {
  const words = uc.words ?? PHOTO_WORDS;
  return doc.where ? { ...words, where: doc.where } : words;
}

/** The whole run. On any error or cancel the sink has not been called (or has undone its own work). */
export async function transformDocument<W>(uc: UseCase & { sink: LayerSink<W>; nameWithStrength?: boolean },
  settings: FaceShiftSettings, call: RunCall = {}): Promise<TransformOutcome<W>> {
  const { signal } = call;
  const progress = progressScale(call.onProgress);
  checkSettings(settings);

  // 1. the document, the engine, the faces
  const found = await findFaces(uc, call, settings.direction, progress);
  const { doc, info, faces } = found;
  const direction = offeredDirection(info, settings.direction);
  const words = where(uc, doc);
  if (!faces.length) throw new FaceShiftError('NO_FACE', messages.noFace(doc.source, words, info.minFaceSize));

  // 2. which faces
  const minFaceSize = settings.minFaceSize ?? info.minFaceSize;
  const { todo, skipped } = chooseFaces(faces, settings.faces, minFaceSize, words);

  // 3. the nets (outside any host's modal scope)
  throwIfCancelled(signal);
  const result: TransformResult = await uc.engine.transform(doc.source, todo, {
    direction: settings.direction, strength: settings.strength, upscale: settings.upscale,
    ...(settings.colorMatch === undefined ? {} : { colorMatch: settings.colorMatch }),
  }, {
    signal,
    onProgress: (p: PortProgress) => (p.stage === 'read'
      ? progress('regions', 'read', p.fraction)
      : progress('engine', p.stage, p.fraction, p)),
  });
  if (!result.patches.length) throw new FaceShiftError('NO_FACE', messages.noneTransformed());
  if (!result.patches.some((p) => visiblePixels(p) > 0)) throw new FaceShiftError('NOTHING_VISIBLE', messages.nothingVisible(settings.strength));
  const layer = facesToLayer(result.patches)!;
  const name = layerName(direction, uc.nameWithStrength ? settings.strength : undefined);

  // 4. the layer, written by the host
  throwIfCancelled(signal);
  progress('write', 'write', 0);
  const t = now();
  const written = await uc.sink.write(layer, name, { signal });
  const write = now() - t;
  progress('write', 'write', 1);
  const e = result.timings;
  return {
    doc, detected: faces, transformed: result.patches.map((p) => p.face), skipped, layer, name, written,
    model: result.model, upscaler: result.upscaler,
    timings: { ...found.timings, align: e.align ?? 0, transform: e.transform ?? 0, upscale: e.upscale ?? 0, paste: e.paste ?? 0, write },
  };
}

/** Pixels of a patch that would show: under the mask and not transparent in the photo. */
function visiblePixels(p: { mask: { data: Uint8ClampedArray }; rgba: { data: Uint8ClampedArray } }): number {
  let n = 0;
  for (let i = 0; i < p.mask.data.length; i++) if (p.mask.data[i] > 0 && p.rgba.data[i * 4 + 3] > 0) n++;
  return n;
}
