/** Node glue for the detector: weights (verified against the manifest) and tfjs's .wasm files from disk. */
import * as path from 'path';
import { FaceDetector, initTfjsWasm } from './detector';
import { Manifest, ModelFiles, readVerified } from '../models/manifest';

export async function loadNodeDetector(files: ModelFiles, manifest: Manifest): Promise<FaceDetector> {
  const wasmDir = path.join(path.dirname(require.resolve('@tensorflow/tfjs-backend-wasm/package.json')), 'dist') + path.sep;
  await initTfjsWasm(wasmDir);
  const json = manifest.detector.files.find((f) => f.file.endsWith('.json'));
  const bin = manifest.detector.files.find((f) => f.file.endsWith('.bin'));
  if (!json || !bin) throw new Error('The manifest names no detector model.json and .bin.');
  const modelJson = JSON.parse(new TextDecoder().decode(await readVerified(files, json)));
  const weights = await readVerified(files, bin);
  return FaceDetector.load({ modelJson, weightData: weights.buffer.slice(weights.byteOffset, weights.byteOffset + weights.byteLength) as ArrayBuffer });
}
