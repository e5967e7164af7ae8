/** Node glue for the detector: weights and the tfjs .wasm files from disk. */
import * as fs from 'fs';
import * as path from 'path';
import { FaceDetector, initTfjsWasm } from './detector';

export const MODELS_DIR = path.resolve(__dirname, '..', '..', 'models');

export async function loadNodeDetector(modelsDir = MODELS_DIR): Promise<FaceDetector> {
  const wasmDir = path.join(path.dirname(require.resolve('@tensorflow/tfjs-backend-wasm/package.json')), 'dist') + path.sep;
  await initTfjsWasm(wasmDir);
  const base = path.join(modelsDir, 'detector', 'facemesh-detection-full');
  const modelJson = JSON.parse(fs.readFileSync(base + '.json', 'utf8'));
  const bin = fs.readFileSync(base + '.bin');
  return FaceDetector.load({ modelJson, weightData: bin.buffer.slice(bin.byteOffset, bin.byteOffset + bin.byteLength) });
}
