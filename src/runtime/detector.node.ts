/** Node glue for the detector: weights (verified against the manifest) and tfjs's .wasm files from disk. */
import * as path from 'path';
import { FaceDetector, initTfjsWasm, readDetectorWeights } from './detector';
import type { Manifest, ModelFiles } from '../models/manifest';

/** Where tfjs-backend-wasm's .wasm files lie in node_modules. */
export function nodeTfjsWasmDir(): string {
  return path.join(path.dirname(require.resolve('@tensorflow/tfjs-backend-wasm/package.json')), 'dist') + path.sep;
}

export async function loadNodeDetector(files: ModelFiles, manifest: Manifest): Promise<FaceDetector> {
  await initTfjsWasm(nodeTfjsWasmDir());
  return FaceDetector.load(await readDetectorWeights(files, manifest));
}
