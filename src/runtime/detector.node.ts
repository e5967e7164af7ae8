/** Node glue for the detector: weights (verified against the manifest) and tfjs's .wasm files from disk. */
import * as path from 'path';
import { FaceDetector, initTfjsWasm, readDetectorWeights } from './detector';
import type { Manifest, ModelFiles } from '../models/manifest';

export async function loadNodeDetector(files: ModelFiles, manifest: Manifest): Promise<FaceDetector> {
  const wasmDir = path.join(path.dirname(require.resolve('@tensorflow/tfjs-backend-wasm/package.json')), 'dist') + path.sep;
  await initTfjsWasm(wasmDir);
  return FaceDetector.load(await readDetectorWeights(files, manifest));
}
