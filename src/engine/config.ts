/**
 * The engine's tunables in one typed config with defaults (Human's `config.ts` pattern): hosts and
 * tests pass a partial override, merged and validated once, when the engine is created. The
 * defaults are the values every shipped result was measured with.
 */
import { FaceShiftError } from '../core/errors';

export interface EngineConfig {
  detect: {
    /**
     * Longer side of the copy detection runs on, for a 4:3 photo (about 3 megapixels); other
     * shapes keep as many pixels (previewMaxSide in engine.ts).
     */
    previewMaxSide: number;
    /**
     * Side of the square views the detector is shown, in pixels (tfjs resizes them to its 192-px
     * input as MediaPipe's pipeline does). Sampled at 192 directly, 2 of 100 tight headshots and a
     * turned face the second look confirmed were lost.
     */
    viewSize: number;
    /** Detections below this score are dropped when the views' results are merged. */
    minScore: number;
    /**
     * Views shown to the detector in one call. Measured on tfjs-wasm (ms a view, 16 views): 32-37
     * one at a time, 25-28 four at a time, 30-38 sixteen at a time (the activations leave the cache).
     */
    viewsPerCall: number;
    /**
     * A face at least this many pixels of the view that found it, and wholly inside it, goes to the
     * second look without a close-up first (keypointsCertain in engine.ts).
     */
    closeUpFrom: number;
    /** Sides of the aligned crop inside the second look's view (the face at about the size a close-up shows it). */
    verifyCrops: number[];
    /** A detection this confident with a face's geometry counts even when the second look misses it. */
    confidentScore: number;
    /** Above this keypoint shift (fraction of the crop side) the second look does not confirm the first. */
    maxKeypointShift: number;
  };
  mask: {
    /** Side the face mesh is run at, in pixels. */
    meshSize: number;
    /** The mesh's view of the photo takes at most n x n samples a pixel: it needs the face's shape, not its finest detail. */
    meshSupersample: number;
    /** Below this face-presence score the mesh is not trusted and the rounded box is used. */
    minMeshScore: number;
    /** The oval's feather is featherForFace(side x featherScale): the face inside the crop is about 0.6 of its side. */
    featherScale: number;
    /** The oval is pushed out by this many feathers. */
    outset: number;
    /** The fade at the crop's border: its width and inset, as fractions of the side; at the top edge its own width. */
    borderFade: number;
    borderFadeTop: number;
    borderInset: number;
  };
  /** Faces smaller than this (box side, photo pixels) are skipped with a reason. */
  minFaceSize: number;
  /** Longer side of the live preview, in pixels. */
  previewSide: number;
}

export const DEFAULT_CONFIG: Readonly<EngineConfig> = Object.freeze({
  detect: Object.freeze({
    previewMaxSide: 2048,
    viewSize: 256,
    minScore: 0.5,
    viewsPerCall: 4,
    closeUpFrom: 64,
    verifyCrops: Object.freeze([96]) as number[],
    // false faces seen: 0.60 to 0.82 (a cockpit crop); so a laughing three-quarter face at 0.79 that the second look misses is lost
    confidentScore: 0.85,
    maxKeypointShift: 0.1,
  }),
  mask: Object.freeze({
    meshSize: 192,
    meshSupersample: 2,
    minMeshScore: 0.5,
    featherScale: 0.6,
    outset: 0.6,
    borderFade: 1 / 48,
    borderFadeTop: 1 / 10,
    borderInset: 1 / 256,
  }),
  minFaceSize: 40,
  previewSide: 192,
});

export type EngineConfigOverrides = {
  [K in keyof EngineConfig]?: EngineConfig[K] extends object ? Partial<EngineConfig[K]> : EngineConfig[K];
};

/** The defaults with `overrides` merged in, checked once; throws BAD_OPTION naming the first bad value. */
export function engineConfig(overrides: EngineConfigOverrides = {}): EngineConfig {
  const c: EngineConfig = {
    detect: { ...DEFAULT_CONFIG.detect, ...overrides.detect },
    mask: { ...DEFAULT_CONFIG.mask, ...overrides.mask },
    minFaceSize: overrides.minFaceSize ?? DEFAULT_CONFIG.minFaceSize,
    previewSide: overrides.previewSide ?? DEFAULT_CONFIG.previewSide,
  };
  const bad = (name: string, v: unknown, want: string) => new FaceShiftError('BAD_OPTION', `Engine setting ${name} must be ${want}, got ${JSON.stringify(v)}.`);
  const positiveInt = (name: string, v: number) => { if (!(Number.isInteger(v) && v > 0)) throw bad(name, v, 'a whole number above 0'); };
  const fraction = (name: string, v: number) => { if (!(v >= 0 && v <= 1)) throw bad(name, v, 'between 0 and 1'); };
  positiveInt('detect.previewMaxSide', c.detect.previewMaxSide);
  positiveInt('detect.viewSize', c.detect.viewSize);
  fraction('detect.minScore', c.detect.minScore);
  positiveInt('detect.viewsPerCall', c.detect.viewsPerCall);
  if (!(c.detect.closeUpFrom > 0)) throw bad('detect.closeUpFrom', c.detect.closeUpFrom, 'above 0');
  fraction('detect.confidentScore', c.detect.confidentScore);
  fraction('detect.maxKeypointShift', c.detect.maxKeypointShift);
  if (!c.detect.verifyCrops.length || !c.detect.verifyCrops.every((s) => Number.isInteger(s) && s > 0 && s < c.detect.viewSize)) {
    throw bad('detect.verifyCrops', c.detect.verifyCrops, `a list of whole numbers below the view size (${c.detect.viewSize})`);
  }
  positiveInt('mask.meshSize', c.mask.meshSize);
  positiveInt('mask.meshSupersample', c.mask.meshSupersample);
  fraction('mask.minMeshScore', c.mask.minMeshScore);
  fraction('mask.featherScale', c.mask.featherScale);
  if (!(c.mask.outset >= 0)) throw bad('mask.outset', c.mask.outset, '0 or more');
  fraction('mask.borderFade', c.mask.borderFade);
  fraction('mask.borderFadeTop', c.mask.borderFadeTop);
  fraction('mask.borderInset', c.mask.borderInset);
  if (!(c.minFaceSize >= 1)) throw bad('minFaceSize', c.minFaceSize, '1 or more');
  positiveInt('previewSide', c.previewSide);
  return c;
}
