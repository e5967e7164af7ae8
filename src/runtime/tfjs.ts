/**
 * tfjs graph models held in memory (the face mesh; the detector's tfjs source, which tests and
 * scripts/detector-parity.ts compare the ONNX detector with) and the tfjs WASM backend.
 */
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-wasm';
import { setWasmPaths } from '@tensorflow/tfjs-backend-wasm';
import { GraphModelEntry, ModelFileError, ModelFiles, readVerified } from '../models/manifest';

/** A tfjs graph model held in memory: its model.json and weights (the detector, the face mesh). */
export interface GraphModelWeights {
  /** model.json of the tfjs graph model */
  modelJson: { modelTopology: unknown; weightsManifest: { paths: string[]; weights: unknown[] }[]; format?: string; generatedBy?: string; convertedBy?: string; signature?: unknown };
  /** the concatenated weight shards */
  weightData: ArrayBuffer;
}

/** A graph model's model.json and weights, named by a manifest entry and verified against it. */
export async function readGraphModelWeights(files: ModelFiles, entry: Pick<GraphModelEntry, 'files'>, what: string): Promise<GraphModelWeights> {
  const json = entry.files.find((f) => f.file.endsWith('.json'));
  const bin = entry.files.find((f) => f.file.endsWith('.bin'));
  if (!json || !bin) throw new ModelFileError(`The manifest names no ${what} model.json and .bin. Restore models/ from the release or repository.`);
  const modelJson = JSON.parse(new TextDecoder().decode(await readVerified(files, json)));
  const weights = await readVerified(files, bin);
  return { modelJson, weightData: weights.buffer.slice(weights.byteOffset, weights.byteOffset + weights.byteLength) as ArrayBuffer };
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
