/** Node glue for the detector: its ONNX graph (verified against the manifest) on onnxruntime-node. */
import { FaceDetector } from './detector';
import type { NetRuntime } from './net';
import { OrtNodeRuntime } from './onnx.node';
import type { Manifest, ModelFiles } from '../models/manifest';

/** The detector on `runtime` (the engine's, when the platform wires it; else onnxruntime-node on all cores). */
export function loadNodeDetector(files: ModelFiles, manifest: Manifest, runtime: NetRuntime = new OrtNodeRuntime(0)): Promise<FaceDetector> {
  return FaceDetector.load(runtime, files, manifest);
}
