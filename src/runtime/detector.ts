/**
 * Face detection: MediaPipe full-range detector on the tfjs WASM backend, weights handed over
 * in memory (no network). Works in Node and in browsers; the caller supplies the weight bytes
 * and where the backend's .wasm files are.
 */
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-wasm';
import { setWasmPaths } from '@tensorflow/tfjs-backend-wasm';
import * as faceDetection from '@tensorflow-models/face-detection';
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

interface MpDetection {
  score?: number[];
  locationData: { relativeBoundingBox: { xMin: number; yMin: number; width: number; height: number }; relativeKeypoints: { x: number; y: number }[] };
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

export class FaceDetector {
  private constructor(private readonly detector: faceDetection.FaceDetector) {}

  static async load(weights: DetectorWeights, maxFaces = 20): Promise<FaceDetector> {
    const handler = memoryIOHandler(weights);
    const detector = await faceDetection.createDetector(faceDetection.SupportedModels.MediaPipeFaceDetector, {
      runtime: 'tfjs', modelType: 'full', maxFaces, detectorModelUrl: handler,
    });
    return new FaceDetector(detector);
  }

  /** Detect faces on an RGBA image (alpha ignored). Coordinates are in that image's pixels. */
  async detect(image: RGBAImage): Promise<RawDetection[]> {
    const n = image.width * image.height;
    const rgb = new Int32Array(n * 3);
    for (let i = 0; i < n; i++) {
      rgb[i * 3] = image.data[i * 4]; rgb[i * 3 + 1] = image.data[i * 4 + 1]; rgb[i * 3 + 2] = image.data[i * 4 + 2];
    }
    const t = tf.tensor3d(rgb, [image.height, image.width, 3], 'int32');
    try {
      // detectFaces (not estimateFaces) keeps each detection's score.
      const dets = await (this.detector as unknown as { detectFaces(img: tf.Tensor3D, flip: boolean): Promise<MpDetection[]> })
        .detectFaces(t as unknown as tf.Tensor3D, false);
      const W = image.width, H = image.height;
      return dets.map((d) => {
        const b = d.locationData.relativeBoundingBox;
        return {
          score: d.score?.[0] ?? 0,
          box: { x: b.xMin * W, y: b.yMin * H, width: b.width * W, height: b.height * H },
          keypoints: d.locationData.relativeKeypoints.map((k) => ({ x: k.x * W, y: k.y * H })),
        };
      });
    } finally {
      t.dispose();
    }
  }

  dispose(): void { this.detector.dispose(); }
}
