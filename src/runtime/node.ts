/** Node wiring: model files from models/, native onnxruntime, the tfjs detector. */
import * as fs from 'fs';
import * as path from 'path';
import * as crypto from 'crypto';
import { ModelFiles, validateManifest, Manifest } from '../models/manifest';
import { FaceEngine } from '../engine/engine';
import { OrtNodeRuntime } from './onnx.node';
import { loadNodeDetector } from './detector.node';
import { loadNodeFaceMesh } from './landmarks.node';
import type { NetRuntime } from './net';

/** The models/ folder shipped with the package (build/runtime/node.js and src/runtime/node.ts both sit two levels down); FACESHIFT_MODELS overrides it. */
export const MODELS_DIR = process.env.FACESHIFT_MODELS ? path.resolve(process.env.FACESHIFT_MODELS) : path.resolve(__dirname, '..', '..', 'models');

export function nodeModelFiles(dir = MODELS_DIR): ModelFiles {
  return {
    async read(file: string) {
      const full = path.resolve(dir, file);
      if (!full.startsWith(path.resolve(dir) + path.sep)) throw new Error(`${file} lies outside the models folder`);
      return new Uint8Array(await fs.promises.readFile(full));
    },
    async sha256(bytes: Uint8Array) { return crypto.createHash('sha256').update(bytes).digest('hex'); },
  };
}

export function readManifest(dir = MODELS_DIR): Manifest {
  const file = path.join(dir, 'manifest.json');
  if (!fs.existsSync(file)) throw new Error(`No model manifest at ${file}. Reinstall FaceShift or restore models/ from the repository.`);
  try {
    return validateManifest(JSON.parse(fs.readFileSync(file, 'utf8')));
  } catch (e) {
    const why = (e as Error).message.split('\n')[0].replace(/ Reinstall.*$/, '');
    throw new Error(`The model manifest ${file} is damaged (${why}). Restore models/ from the release or repository, or reinstall FaceShift.`);
  }
}

export async function createNodeEngine(opts: { modelsDir?: string; runtime?: NetRuntime; threads?: number } = {}): Promise<FaceEngine> {
  const dir = opts.modelsDir ?? MODELS_DIR;
  const manifest = readManifest(dir);
  const files = nodeModelFiles(dir);
  const detector = await loadNodeDetector(files, manifest);
  const landmarks = manifest.landmarks ? await loadNodeFaceMesh(files, manifest) : undefined;
  return FaceEngine.create({ manifest, files, runtime: opts.runtime ?? new OrtNodeRuntime(opts.threads ?? 0), detector, landmarks });
}
