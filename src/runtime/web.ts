/**
 * Browser wiring (Photopea page, Photoshop engine page), the counterpart of node.ts: model files
 * fetched from a folder beside the page, onnxruntime-web (WebGPU, else WASM), the tfjs detector.
 * The runtime files (ort/, tfjs/) sit beside the page too; nothing is fetched from elsewhere.
 */
import * as ort from 'onnxruntime-web/webgpu';
import { FaceEngine } from '../engine/engine';
import { Manifest, ModelFiles, validateManifest } from '../models/manifest';
import { OrtWebRuntime, WebDevice } from './onnx.web';
import { FaceDetector, initTfjsWasm, readDetectorWeights } from './detector';
import { FaceMesh, TfjsFaceMesh, landmarksEntry, readLandmarksWeights } from './landmarks';
import { sha256Hex } from './sha256';

/**
 * The binary of onnxruntime-web/webgpu (its asyncify build). It is the only runtime file ORT
 * fetches: with its URL given, the bundle uses its embedded Emscripten glue, so no .mjs is
 * imported at run time (module loading is what file-like schemes in webviews refuse most often).
 */
export const ORT_WASM = 'ort-wasm-simd-threaded.asyncify.wasm';

export interface WebEngineOptions {
  /** The models folder: a URL, absolute or relative to the page (e.g. "models/"). */
  baseUrl: string;
  device?: WebDevice;
  /** The folder holding ort/ (ORT_WASM) and tfjs/ (tfjs-backend-wasm*.wasm); default: the page's folder. */
  runtimeUrl?: string;
}

export interface WebEngine { engine: FaceEngine; backend: 'webgpu' | 'wasm' }

function resolve(url: string, base?: string): string {
  return new URL(url, base ?? document.baseURI).href;
}

/** GET a file as bytes; XMLHttpRequest where fetch refuses the scheme (some webviews' file URLs). */
async function getBytes(url: string): Promise<Uint8Array> {
  let res: Response;
  try {
    res = await fetch(url);
  } catch (e) {
    return new Promise((ok, fail) => {
      const x = new XMLHttpRequest();
      x.open('GET', url);
      x.responseType = 'arraybuffer';
      x.onload = () => (x.status === 0 || (x.status >= 200 && x.status < 300) ? ok(new Uint8Array(x.response as ArrayBuffer)) : fail(new Error(`HTTP ${x.status}`)));
      x.onerror = () => fail(new Error((e as Error).message));
      x.send();
    });
  }
  if (!res.ok) throw new Error(`HTTP ${res.status} for ${url}`);
  return new Uint8Array(await res.arrayBuffer());
}

/** Model files under a base URL, hashed with WebCrypto (or in JS where WebCrypto is missing). */
export function webModelFiles(baseUrl: string): ModelFiles {
  const base = resolve(baseUrl.endsWith('/') ? baseUrl : `${baseUrl}/`);
  return {
    read: (file) => getBytes(resolve(file, base)),
    async sha256(bytes) {
      const subtle = globalThis.crypto?.subtle;
      if (!subtle) return sha256Hex(bytes);
      const digest = new Uint8Array(await subtle.digest('SHA-256', bytes as Uint8Array<ArrayBuffer>));
      return Array.from(digest, (b) => b.toString(16).padStart(2, '0')).join('');
    },
  };
}

export async function createWebEngine(opts: WebEngineOptions): Promise<WebEngine> {
  const runtimeBase = resolve(opts.runtimeUrl ?? './');
  const files = webModelFiles(opts.baseUrl);
  const manifest = validateManifest(JSON.parse(new TextDecoder().decode(await files.read('manifest.json'))));
  const runtime = new OrtWebRuntime(ort, { device: opts.device ?? 'auto', wasmPaths: { wasm: resolve(`ort/${ORT_WASM}`, runtimeBase) } });
  await initTfjsWasm(resolve('tfjs/', runtimeBase));
  const detector = await FaceDetector.load(await readDetectorWeights(files, manifest));
  const landmarks = manifest.landmarks ? await TfjsFaceMesh.load(await readLandmarksWeights(files, manifest), landmarksEntry(manifest)) : undefined;
  const engine = await FaceEngine.create({ manifest, files, runtime, detector, landmarks });
  return { engine, backend: await runtime.backend() };
}

/**
 * The face mesh (landmarks for face-shaped paste-back masks), the counterpart of
 * landmarks.node.ts: weights from the models folder, tfjs's .wasm files from runtimeUrl's tfjs/.
 */
export async function loadWebFaceMesh(files: ModelFiles, manifest: Manifest, runtimeUrl?: string): Promise<FaceMesh> {
  const entry = landmarksEntry(manifest);
  await initTfjsWasm(resolve('tfjs/', resolve(runtimeUrl ?? './')));
  return TfjsFaceMesh.load(await readLandmarksWeights(files, manifest), entry);
}
