/**
 * Face detection: the MediaPipe full-range detector on the tfjs WASM backend, weights handed over
 * in memory (no network). Works in Node and in browsers; the caller supplies the weight bytes
 * and where the backend's .wasm files are.
 *
 * The graph runs on a batch of views in one call; around it, the full-range pipeline is written
 * out here (MediaPipe's face_detection_full_range.pbtxt as @tensorflow-models/face-detection 1.0
 * runs it: each view resized to 192x192 by tf.image.transform, values to [-1, 1], 2304 anchors on
 * a 48x48 grid, scores through a sigmoid and kept above 0.6, non-maximum suppression at IoU 0.3).
 * The box decoding repeats that package's float32 arithmetic (Math.fround), so the detections are
 * the package's to the last bit (test/runtime/detector.test.ts), at a fraction of its per-call
 * cost: one graph call for many views, and no forty small tensor operations per view.
 */
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-wasm';
import { setWasmPaths } from '@tensorflow/tfjs-backend-wasm';
import { loadGraphModel, GraphModel } from '@tensorflow/tfjs-converter';
import type { RGBAImage } from '../core/image';
import type { Point } from '../core/geometry';
import { GraphModelEntry, Manifest, ModelFileError, ModelFiles, readVerified } from '../models/manifest';

/** A tfjs graph model held in memory: its model.json and weights (the detector, the face mesh). */
export interface GraphModelWeights {
  /** model.json of the tfjs graph model */
  modelJson: { modelTopology: unknown; weightsManifest: { paths: string[]; weights: unknown[] }[]; format?: string; generatedBy?: string; convertedBy?: string; signature?: unknown };
  /** the concatenated weight shards */
  weightData: ArrayBuffer;
}

export type DetectorWeights = GraphModelWeights;

export interface RawDetection {
  score: number;
  box: { x: number; y: number; width: number; height: number };
  /** six keypoints in MediaPipe order, image pixels */
  keypoints: Point[];
}

/** A graph model's model.json and weights, named by a manifest entry and verified against it. */
export async function readGraphModelWeights(files: ModelFiles, entry: GraphModelEntry, what: string): Promise<GraphModelWeights> {
  const json = entry.files.find((f) => f.file.endsWith('.json'));
  const bin = entry.files.find((f) => f.file.endsWith('.bin'));
  if (!json || !bin) throw new ModelFileError(`The manifest names no ${what} model.json and .bin. Restore models/ from the release or repository.`);
  const modelJson = JSON.parse(new TextDecoder().decode(await readVerified(files, json)));
  const weights = await readVerified(files, bin);
  return { modelJson, weightData: weights.buffer.slice(weights.byteOffset, weights.byteOffset + weights.byteLength) as ArrayBuffer };
}

/** The detector's model.json and weights, named by the manifest and verified against it. */
export function readDetectorWeights(files: ModelFiles, manifest: Manifest): Promise<DetectorWeights> {
  return readGraphModelWeights(files, manifest.detector, 'detector');
}

/** A tfjs IO handler that serves a graph model from memory, so nothing is fetched. */
export function memoryIOHandler(weights: GraphModelWeights): tf.io.IOHandler {
  return {
    load: async () => ({
      modelTopology: weights.modelJson.modelTopology as tf.io.ModelArtifacts['modelTopology'],
      weightSpecs: weights.modelJson.weightsManifest.flatMap((g) => g.weights) as tf.io.WeightsManifestEntry[],
      weightData: weights.weightData,
      format: weights.modelJson.format,
      generatedBy: weights.modelJson.generatedBy,
      convertedBy: weights.modelJson.convertedBy,
    }),
  };
}

let backendReady: Promise<void> | null = null;

/** Initialise tfjs with the WASM backend once per process/page. */
export function initTfjsWasm(wasmDir: string | Record<string, string>): Promise<void> {
  if (!backendReady) {
    backendReady = (async () => {
      setWasmPaths(wasmDir as never);
      const ok = await tf.setBackend('wasm');
      if (!ok) throw new Error('The tfjs WASM backend could not start; face detection is unavailable.');
      await tf.ready();
    })();
  }
  return backendReady;
}

/** The full-range model's contract (MediaPipe face_detection_full_range.pbtxt). */
const FULL_RANGE = Object.freeze({
  /** input side; the model's grid of anchors is 48x48 (stride 4), one anchor a cell */
  input: 192, grid: 48, boxes: 2304,
  /** per anchor: score logit, then box centre x, y, width, height and six keypoints x, y (17 values) */
  values: 17, keypoints: 6,
  scoreClip: 100, minScore: 0.6, nmsIoU: 0.3,
});

/** Anchor centres of the 48x48 grid, as the package's float32 tensors hold them. */
const ANCHOR_X = new Float32Array(FULL_RANGE.boxes), ANCHOR_Y = new Float32Array(FULL_RANGE.boxes);
for (let y = 0, i = 0; y < FULL_RANGE.grid; y++) {
  for (let x = 0; x < FULL_RANGE.grid; x++, i++) { ANCHOR_X[i] = (x + 0.5) / FULL_RANGE.grid; ANCHOR_Y[i] = (y + 0.5) / FULL_RANGE.grid; }
}

const f32 = Math.fround;

export class FaceDetector {
  private constructor(private readonly model: GraphModel, private readonly maxFaces: number) {}

  /** Load the graph from memory; the tfjs backend must already be initialised (initTfjsWasm). */
  static async load(weights: DetectorWeights, maxFaces = 20): Promise<FaceDetector> {
    return new FaceDetector(await loadGraphModel(memoryIOHandler(weights)), maxFaces);
  }

  /**
   * Detect faces on square RGBA views of one size (alpha ignored), all in one call of the net.
   * One list per view; coordinates are in that view's pixels.
   */
  async detect(views: RGBAImage[]): Promise<RawDetection[][]> {
    if (!views.length) return [];
    const { width: W, height: H } = views[0];
    if (W !== H || views.some((v) => v.width !== W || v.height !== H)) throw new Error('FaceDetector.detect: the views must be squares of one size.');
    const S = FULL_RANGE.input, n = W * H;
    const rgb = new Float32Array(views.length * n * 3);
    views.forEach((v, b) => {
      const d = v.data, o = b * n * 3;
      for (let i = 0; i < n; i++) { rgb[o + i * 3] = d[i * 4]; rgb[o + i * 3 + 1] = d[i * 4 + 1]; rgb[o + i * 3 + 2] = d[i * 4 + 2]; }
    });
    const raw = tf.tidy(() => {
      const image = tf.tensor4d(rgb, [views.length, H, W, 3]);
      // the package's transform for a square view: a scale of W/192, bilinear, zero outside
      const k = (1 / S) * 1 * W;
      const input = tf.image.transform(image, tf.tensor2d([k, -0, 0, 0, k, 0, 0, 0], [1, 8]), 'bilinear', 'constant', 0, [S, S]);
      const scaled = tf.add(tf.mul(input, 2 / 255), -1);
      const out = this.model.execute(scaled, 'Identity:0') as tf.Tensor;
      const scores = tf.sigmoid(tf.clipByValue(tf.slice(out, [0, 0, 0], [-1, -1, 1]), -FULL_RANGE.scoreClip, FULL_RANGE.scoreClip));
      return [out, scores];
    });
    try {
      const [values, scores] = await Promise.all(raw.map((t) => t.data() as Promise<Float32Array>));
      return views.map((_, b) => this.decode(values, scores, b, W, H));
    } finally {
      tf.dispose(raw);
    }
  }

  /** The detections of view `b`: anchors above the score threshold decoded, suppressed, in view pixels. */
  private decode(values: Float32Array, scores: Float32Array, b: number, W: number, H: number): RawDetection[] {
    const { boxes: N, values: V, keypoints: K, input: S, minScore, nmsIoU } = FULL_RANGE;
    const found: { score: number; box: number[]; kp: number[] }[] = [];
    for (let i = 0; i < N; i++) {
      const score = scores[b * N + i];
      if (score < minScore) continue;
      const o = (b * N + i) * V + 1;
      // float32 steps, as the package's tensors compute them (anchor width and height are 1)
      const xc = f32(f32(values[o] / S) + ANCHOR_X[i]), yc = f32(f32(values[o + 1] / S) + ANCHOR_Y[i]);
      const w = f32(values[o + 2] / S), h = f32(values[o + 3] / S);
      const yMin = f32(yc - f32(h / 2)), xMin = f32(xc - f32(w / 2)), yMax = f32(yc + f32(h / 2)), xMax = f32(xc + f32(w / 2));
      if (xMax - xMin < 0 || yMax - yMin < 0) continue;
      const kp: number[] = [];
      for (let k = 0; k < K; k++) kp.push(f32(f32(values[o + 4 + 2 * k] / S) + ANCHOR_X[i]), f32(f32(values[o + 5 + 2 * k] / S) + ANCHOR_Y[i]));
      found.push({ score, box: [yMin, xMin, yMax, xMax], kp });
    }
    if (!found.length) return [];
    found.sort((p, q) => q.score - p.score);
    const { selectedIndices } = tf.kernel_impls.nonMaxSuppressionV3Impl(
      Float32Array.from(found.flatMap((f) => f.box)), Float32Array.from(found.map((f) => f.score)), this.maxFaces, nmsIoU, Number.NEGATIVE_INFINITY);
    const keep = new Set(selectedIndices);
    return found.filter((_, i) => keep.has(i)).map(({ score, box: [yMin, xMin, yMax, xMax], kp }) => {
      // the package's bounds of the box's corners (its projection is the identity for a square view)
      const x0 = Math.min(xMin, xMin + (xMax - xMin)), x1 = Math.max(xMin, xMin + (xMax - xMin));
      const y0 = Math.min(yMin, yMin + (yMax - yMin)), y1 = Math.max(yMin, yMin + (yMax - yMin));
      return {
        score,
        box: { x: x0 * W, y: y0 * H, width: (x1 - x0) * W, height: (y1 - y0) * H },
        keypoints: Array.from({ length: K }, (_, k) => ({ x: kp[2 * k] * W, y: kp[2 * k + 1] * H })),
      };
    });
  }

  dispose(): void { this.model.dispose(); }
}
