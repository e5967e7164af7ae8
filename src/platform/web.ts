/**
 * The engine for browser pages (Photopea page, Photoshop engine page), the counterpart of
 * node.ts: model files fetched from a folder beside the page, onnxruntime-web (WebGPU, else
 * WASM) for the nets and the detector, the tfjs face mesh. The runtime files (ort/, tfjs/) sit beside the page
 * too; nothing is fetched from elsewhere. Wiring only: every piece is a runtime/ adapter.
 */
import * as ort from 'onnxruntime-web/webgpu';
import { validateManifest } from '../models/manifest';
import { FaceEngine } from '../engine/engine';
import type { EngineConfigOverrides } from '../engine/config';
import { OrtWebRuntime, WebDevice } from '../runtime/onnx.web';
import { FaceDetector } from '../runtime/detector';
import { initTfjsWasm } from '../runtime/tfjs';
import { TfjsFaceMesh, landmarksEntry, readLandmarksWeights } from '../runtime/landmarks';
import { resolveUrl, webModelFiles } from '../runtime/files.web';
import type { WebBackend } from '../runtime/net';

export type { WebBackend } from '../runtime/net';
/** SHA-256 for pages (WebCrypto, or JS where it is missing): also what a page keys its caches by. */
export { sha256Web } from '../runtime/files.web';
export type { WebDevice } from '../runtime/onnx.web';

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
  config?: EngineConfigOverrides;
}

export interface WebEngine { engine: FaceEngine; backend: WebBackend }

/** The `device` URL parameter of a page: auto (default), webgpu or wasm. */
export function deviceParam(search: string): WebDevice {
  const d = new URLSearchParams(search).get('device');
  return d === 'webgpu' || d === 'wasm' ? d : 'auto';
}

/**
 * The `warmup` URL parameter: unless it is 0, a page runs its nets once or twice on blank inputs
 * after they load (FaceEngine.warmup), while the user looks at the panel. `warmup=0` measures a cold first run.
 */
export function warmupParam(search: string): boolean {
  return new URLSearchParams(search).get('warmup') !== '0';
}

/**
 * Warm the sessions of the first direction (the one every picker shows first) in the background:
 * nothing in the document changes, and a failure here only means the first run is slow.
 */
export function warmInBackground(engine: FaceEngine, search: string): Promise<void> {
  const first = engine.directions()[0]?.direction;
  if (!first || !warmupParam(search)) return Promise.resolve();
  return engine.warmup(first, true, { run: true }).catch((e: unknown) => console.warn(`FaceShift: warm-up failed (${(e as Error)?.message ?? e}); the first run will be slower.`));
}

export async function createWebEngine(opts: WebEngineOptions): Promise<WebEngine> {
  const runtimeBase = resolveUrl(opts.runtimeUrl ?? './');
  const files = webModelFiles(opts.baseUrl);
  const manifest = validateManifest(JSON.parse(new TextDecoder().decode(await files.read('manifest.json'))));
  const runtime = new OrtWebRuntime(ort, { device: opts.device ?? 'auto', wasmPaths: { wasm: resolveUrl(`ort/${ORT_WASM}`, runtimeBase) } });
  await initTfjsWasm(resolveUrl('tfjs/', runtimeBase));
  const detector = await FaceDetector.load(runtime, files, manifest);
  const landmarks = manifest.landmarks ? await TfjsFaceMesh.load(await readLandmarksWeights(files, manifest), landmarksEntry(manifest)) : undefined;
  const engine = await FaceEngine.create({ manifest, files, runtime, detector, landmarks, config: opts.config });
  return { engine, backend: await runtime.backend() };
}
