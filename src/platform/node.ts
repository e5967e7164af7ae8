/**
 * The engine for Node (command line, tests, scripts): model files from models/, native
 * onnxruntime (the nets and the detector), the tfjs face mesh. Wiring only: every piece is a runtime/ adapter.
 */
import * as path from 'path';
import type { Manifest, ModelFiles } from '../models/manifest';
import { FaceEngine } from '../engine/engine';
import type { EngineConfigOverrides } from '../engine/config';
import { folderModelFiles, readManifestFile } from '../runtime/files.node';
import { OrtNodeRuntime } from '../runtime/onnx.node';
import { loadNodeDetector } from '../runtime/detector.node';
import { loadNodeFaceMesh } from '../runtime/landmarks.node';
import type { NetRuntime } from '../runtime/net';

/** The models/ folder shipped with the package (build/platform/node.js and src/platform/node.ts both sit two levels down); FACESHIFT_MODELS overrides it. */
export const MODELS_DIR = process.env.FACESHIFT_MODELS ? path.resolve(process.env.FACESHIFT_MODELS) : path.resolve(__dirname, '..', '..', 'models');

export function nodeModelFiles(dir = MODELS_DIR): ModelFiles { return folderModelFiles(dir); }

export function readManifest(dir = MODELS_DIR): Manifest { return readManifestFile(dir); }

export async function createNodeEngine(opts: { modelsDir?: string; runtime?: NetRuntime; threads?: number; config?: EngineConfigOverrides } = {}): Promise<FaceEngine> {
  const dir = opts.modelsDir ?? MODELS_DIR;
  const manifest = readManifest(dir);
  const files = nodeModelFiles(dir);
  const runtime = opts.runtime ?? new OrtNodeRuntime(opts.threads ?? 0);
  const detector = await loadNodeDetector(files, manifest, runtime);
  const landmarks = manifest.landmarks ? await loadNodeFaceMesh(files, manifest) : undefined;
  return FaceEngine.create({ manifest, files, runtime, detector, landmarks, config: opts.config });
}
