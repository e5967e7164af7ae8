/**
 * The model registry: every shipped model is described as data in models/manifest.json and
 * verified against its sha256 when loaded. Pure: file reading and hashing are injected.
 */
import type { AlignTemplate } from '../core/align';
import { validateTemplate } from '../core/align';
import { FaceShiftError } from '../core/errors';
import { COLOR_POLICIES, ColorPolicy, isColorPolicy } from '../core/color';

export interface TensorContract {
  name: string;
  layout: 'NCHW';
  channels: 'RGB';
  size: number;
  range: [number, number];
}

interface ModelBase {
  id: string;
  file: string;
  sha256: string;
  bytes: number;
  input: TensorContract;
  output: TensorContract;
  template: string;
  parameters: number;
  licence: string;
  training?: Record<string, unknown>;
  evaluation?: Record<string, unknown>;
  architecture?: Record<string, unknown>;
}

export interface TransformModel extends ModelBase {
  task: 'transform';
  /** e.g. "male2female" */
  direction: string;
  source: string;
  target: string;
  /** e.g. "Male → Female" */
  label: string;
  /** What the pair changes, e.g. "gender" or "race" (informational). */
  attribute?: string;
  /**
   * How paste-back treats the net's colours (core/color.ts ColorPolicy; default 'reinhard'), chosen
   * per direction by measurement on composites (scripts/eval-composite.ts --colors; docs/color-policy.json).
   */
  colorPolicy?: ColorPolicy;
  /**
   * Detail paste: how much of the photo's fine detail is kept (0..1, default 1; core/blend.ts
   * PasteBackArgs.photoDetail), chosen per direction on training-split composites (docs/photo-detail.json).
   */
  photoDetail?: number;
  /**
   * A conditional generator (one file for several directions) takes the target as a second input:
   * `values` (one number per label) fed to the input `name` as a [1, labels.length] tensor.
   */
  condition?: { name: string; labels: string[]; values: number[] };
  /**
   * A second output, the net's own mask of where it changed the crop (0..1, the crop's size):
   * output = A * colour + (1 - A) * input (GANimation). Paste-back uses it.
   */
  attention?: { name: string; size: number; range: [number, number] };
}

export interface UpscaleModel extends ModelBase {
  task: 'upscale';
  scale: number;
}

export type ModelEntry = TransformModel | UpscaleModel;

export interface FileEntry { file: string; sha256: string; bytes: number }

/** A tfjs graph model shipped as model.json + weights (the detector, the face mesh). */
export interface GraphModelEntry { id: string; files: FileEntry[]; licence: string; source: string }

/**
 * The face-mesh (landmarks) model's contract. The net sees an upright square crop of the face,
 * NHWC RGB in `range`, `size` px; `crop` says how much context around the face it expects.
 */
export interface LandmarksInput {
  layout: 'NHWC';
  channels: 'RGB';
  size: number;
  range: [number, number];
  /** The framing: the alignment template's crop (`template`) zoomed out by `zoomOut` about its centre. */
  crop: { template: string; zoomOut: number; description?: string };
}

export interface LandmarksModel extends GraphModelEntry {
  input: LandmarksInput;
  output: {
    /** graph output holding points x (x, y, z), x and y in input pixels */
    mesh: string;
    points: number;
    /** graph output holding the face-presence probability (0..1, already a sigmoid) */
    score: string;
    description?: string;
  };
}

/**
 * The face detector: one ONNX graph (`files`), the MediaPipe full-range detector converted from the
 * tfjs graph model in `convertedFrom` (kept beside it, hashed too: the conversion's source and the
 * tests' reference). Run by runtime/detector.ts through the engine's NetRuntime.
 */
export interface DetectorModel {
  id: string;
  files: FileEntry[];
  licence: string;
  source: string;
  input: { name: string; layout: 'NHWC'; channels: 'RGB'; size: number; range: [number, number]; description?: string };
  output: { name: string; description?: string };
  convertedFrom: FileEntry[];
}

export interface Manifest {
  version: number;
  template: FileEntry & { id: string };
  detector: DetectorModel;
  /** Optional so an older models/ folder without it still loads; the paste-back mask needs it. */
  landmarks?: LandmarksModel;
  models: ModelEntry[];
}

/** Platform pieces the registry needs: read a file under models/, hash bytes. */
export interface ModelFiles {
  read(file: string): Promise<Uint8Array>;
  sha256(bytes: Uint8Array): Promise<string>;
}

/** A model file or the manifest is missing, damaged or inconsistent (code MODEL): reinstall or restore models/. */
export class ModelFileError extends FaceShiftError {
  constructor(message: string) { super('MODEL', message); this.name = 'ModelFileError'; }
}

export function validateManifest(m: unknown): Manifest {
  const man = m as Manifest;
  if (!man || typeof man !== 'object' || !Array.isArray(man.models)) {
    throw new ModelFileError('models/manifest.json is not a FaceShift model manifest (no "models" list). Reinstall the plugin or restore models/ from the repository.');
  }
  for (const e of man.models as { id?: string; file?: string; sha256?: string; task?: string; input?: { layout?: string } }[]) {
    if (!e.id || !e.file || !/^[0-9a-f]{64}$/.test(e.sha256 ?? '')) throw new ModelFileError(`Model entry ${e.id ?? '?'} in the manifest lacks an id, a file or a sha256.`);
    if (e.task !== 'transform' && e.task !== 'upscale') throw new ModelFileError(`Model ${e.id} has unknown task "${e.task}".`);
    if (e.input?.layout !== 'NCHW') throw new ModelFileError(`Model ${e.id}: only NCHW inputs are supported.`);
  }
  if (man.detector !== undefined) validateDetector(man.detector);
  if (man.landmarks !== undefined) {
    validateLandmarks(man.landmarks);
    if (man.template && man.landmarks.input.crop.template !== man.template.id) {
      throw new ModelFileError(`The landmarks model ${man.landmarks.id} frames its crop on template "${man.landmarks.input.crop.template}", but the manifest's template is "${man.template.id}". Restore models/ from the repository.`);
    }
  }
  const seen = new Map<string, string>();
  for (const e of man.models) {
    if (e.task !== 'transform') continue;
    const c = e.condition;
    if (c && (!c.name || !Array.isArray(c.labels) || !Array.isArray(c.values) || c.values.length !== c.labels.length
      || !c.values.every(Number.isFinite))) {
      throw new ModelFileError(`Model ${e.id} in the manifest has a malformed condition (it needs a name and one number per label).`);
    }
    if (e.colorPolicy !== undefined && !isColorPolicy(e.colorPolicy)) {
      throw new ModelFileError(`Model ${e.id} in the manifest has an unknown colour policy "${e.colorPolicy}" (one of ${COLOR_POLICIES.join(', ')}).`);
    }
    if (e.photoDetail !== undefined && !(typeof e.photoDetail === 'number' && e.photoDetail >= 0 && e.photoDetail <= 1)) {
      throw new ModelFileError(`Model ${e.id} in the manifest has photoDetail ${JSON.stringify(e.photoDetail)}; it must be a number from 0 to 1.`);
    }
    if (e.attention && (!e.attention.name || e.attention.size !== e.output.size)) {
      throw new ModelFileError(`Model ${e.id} in the manifest has a malformed attention output (a name, and the output's size).`);
    }
    const other = seen.get(e.direction);
    if (other) throw new ModelFileError(`Models ${other} and ${e.id} both offer the direction "${e.direction}": keep one in models/manifest.json.`);
    seen.set(e.direction, e.id);
  }
  return man;
}

function validateDetector(d: DetectorModel): void {
  const bad = (what: string) => new ModelFileError(`The detector ${d?.id ?? '?'} in models/manifest.json ${what}. Restore models/ from the repository.`);
  if (!d || typeof d.id !== 'string' || !Array.isArray(d.files)) throw bad('lacks an id or a files list');
  const onnx = d.files.filter((f) => f?.file?.endsWith('.onnx'));
  if (onnx.length !== 1) throw bad('names not exactly one .onnx file');
  for (const f of [...d.files, ...(d.convertedFrom ?? [])]) if (!f?.file || !/^[0-9a-f]{64}$/.test(f.sha256 ?? '') || !(f.bytes > 0)) throw bad(`has a file entry without a name, sha256 or size (${f?.file ?? '?'})`);
  const i = d.input;
  if (!i || i.layout !== 'NHWC' || i.channels !== 'RGB' || i.size !== 192 || !Array.isArray(i.range) || i.range[0] !== -1 || i.range[1] !== 1) {
    throw bad('has not the full-range detector\'s input contract (NHWC RGB, 192 px, range [-1, 1])');
  }
}

function validateLandmarks(l: LandmarksModel): void {
  const id = l?.id ?? '?';
  const bad = (what: string) => new ModelFileError(`The landmarks model ${id} in models/manifest.json ${what}. Restore models/ from the repository.`);
  if (!l || typeof l.id !== 'string' || !Array.isArray(l.files)) throw bad('lacks an id or a files list');
  for (const f of l.files) if (!f?.file || !/^[0-9a-f]{64}$/.test(f.sha256 ?? '') || !(f.bytes > 0)) throw bad(`has a file entry without a name, sha256 or size (${f?.file ?? '?'})`);
  if (!l.files.some((f) => f.file.endsWith('.json')) || !l.files.some((f) => f.file.endsWith('.bin'))) throw bad('names no model.json and .bin');
  const i = l.input;
  if (!i || i.layout !== 'NHWC' || i.channels !== 'RGB' || !Number.isInteger(i.size) || i.size < 1
    || !Array.isArray(i.range) || i.range.length !== 2 || !(i.range[1] > i.range[0])) throw bad('has no valid input contract (NHWC RGB, integer size, range [lo, hi])');
  if (!i.crop || typeof i.crop.template !== 'string' || !(i.crop.zoomOut > 0)) throw bad('says not how to frame its crop (input.crop: template, zoomOut)');
  const o = l.output;
  if (!o || typeof o.mesh !== 'string' || typeof o.score !== 'string' || !Number.isInteger(o.points) || o.points < 3) throw bad('has no valid output contract (mesh, score, points)');
}

/** Directions offered to users, in the manifest's order (no code change per direction). */
export function listDirections(m: Manifest): { direction: string; label: string; id: string }[] {
  return m.models.filter((e): e is TransformModel => e.task === 'transform')
    .map((e) => ({ direction: e.direction, label: e.label, id: e.id }));
}

/** What to say when no model offers a direction (the engine and the hosts' up-front check say the same). */
export function noModelMessage(direction: string, known: string[]): string {
  return `No model for direction "${direction}". Available directions: ${known.join(', ') || 'none'}.`;
}

export function findTransform(m: Manifest, direction: string): TransformModel {
  const t = m.models.find((e): e is TransformModel => e.task === 'transform' && e.direction === direction);
  if (!t) throw new ModelFileError(noModelMessage(direction, listDirections(m).map((d) => d.direction)));
  return t;
}

/** Side of the aligned crop a direction's model takes (the crop every step of a run is framed on). */
export function cropSizeFor(m: Manifest, direction: string): number {
  return findTransform(m, direction).input.size;
}

export function findUpscaler(m: Manifest): UpscaleModel | undefined {
  return m.models.find((e): e is UpscaleModel => e.task === 'upscale');
}

/** Read a file named in the manifest and check its size and sha256. */
export async function readVerified(files: ModelFiles, entry: FileEntry & { id?: string }): Promise<Uint8Array> {
  let bytes: Uint8Array;
  try {
    bytes = await files.read(entry.file);
  } catch (e) {
    throw new ModelFileError(`Model file ${entry.file} could not be read (${(e as Error).message}). Restore models/ from the release or repository.`);
  }
  const digest = await files.sha256(bytes);
  if (digest !== entry.sha256 || (entry.bytes !== undefined && bytes.byteLength !== entry.bytes)) {
    throw new ModelFileError(`Model file ${entry.file} is damaged or not the shipped version (sha256 ${digest.slice(0, 12)}…, expected ${entry.sha256.slice(0, 12)}…). Restore it from the release or repository.`);
  }
  return bytes;
}

export async function loadTemplate(files: ModelFiles, m: Manifest): Promise<AlignTemplate> {
  const bytes = await readVerified(files, m.template);
  const t = validateTemplate(JSON.parse(new TextDecoder().decode(bytes)));
  if (t.id !== m.template.id) throw new ModelFileError(`Template file holds "${t.id}", the manifest expects "${m.template.id}".`);
  return t;
}
