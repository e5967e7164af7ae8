/**
 * Browser runtime (Photoshop webview, Photopea page): onnxruntime-web with WebGPU when an
 * adapter exists, WASM otherwise. The '/webgpu' build runs every node (PRelu included) on the GPU.
 * The module is injected, so the same code runs the browser bundle and Node's wasm build (bench).
 */
import type * as OrtWeb from 'onnxruntime-web';
import type { Net, NetResult, NetRuntime, Tensor, WebBackend } from './net';
import { ModelFileError } from '../models/manifest';

/** The onnxruntime-web module: 'onnxruntime-web/webgpu' in browsers, 'onnxruntime-web' (wasm) in Node. */
export type OrtWebModule = typeof OrtWeb;

/** Which backend a page asks for: the best it has (auto), or one of them. */
export type WebDevice = 'auto' | WebBackend;

export interface WebRuntimeOptions {
  device?: WebDevice;
  /**
   * Where ort's runtime files are: a URL prefix for its .wasm and .mjs, or `{ wasm }`, the URL
   * of the .wasm alone (the bundled build then uses its embedded glue and imports no module).
   */
  wasmPaths?: string | { wasm?: string; mjs?: string };
  threads?: number;
}

/** WebGPU is used only when the page can get an adapter. */
export async function hasWebGPU(): Promise<boolean> {
  const gpu = (globalThis.navigator as unknown as { gpu?: { requestAdapter(): Promise<unknown> } } | undefined)?.gpu;
  if (!gpu) return false;
  try { return !!(await gpu.requestAdapter()); } catch { return false; }
}

export class OrtWebRuntime implements NetRuntime {
  name = 'onnxruntime-web';
  private providers: string[] = ['wasm'];
  private ready: Promise<void>;
  /**
   * Every call into ORT (session creation, runs, release) is serialised across all sessions of
   * this runtime: ORT web must not be entered twice at once. On WebGPU two sessions' runs
   * interleaving (a page's background warm-up of the upscaler during a transform's generator run)
   * failed to download their outputs, and a session created while the warm-up's run was
   * suspended on the GPU failed with "memory access out of bounds".
   */
  private queue: Promise<unknown> = Promise.resolve();

  /** Run `fn` after every call queued before it, and before any queued after it. */
  private exclusive<T>(fn: () => Promise<T>): Promise<T> {
    const job = this.queue.then(fn);
    this.queue = job.catch(() => undefined);
    return job;
  }

  constructor(private readonly ort: OrtWebModule, opts: WebRuntimeOptions = {}) {
    if (opts.wasmPaths) this.ort.env.wasm.wasmPaths = opts.wasmPaths;
    // Threads need cross-origin isolation; without it ORT must use one.
    const isolated = (globalThis as unknown as { crossOriginIsolated?: boolean }).crossOriginIsolated === true;
    this.ort.env.wasm.numThreads = isolated ? (opts.threads ?? 0) : 1;
    this.ready = (async () => {
      const device = opts.device ?? 'auto';
      const gpu = device !== 'wasm' && await hasWebGPU();
      if (device === 'webgpu' && !gpu) throw new Error('WebGPU was requested but this browser offers no WebGPU adapter.');
      this.providers = gpu ? ['webgpu', 'wasm'] : ['wasm'];
      this.name = `onnxruntime-web (${gpu ? 'webgpu' : 'wasm'})`;
    })();
  }

  /** Which backend runs the nets: "webgpu" or "wasm". */
  async backend(): Promise<WebBackend> {
    await this.ready;
    return this.providers[0] === 'webgpu' ? 'webgpu' : 'wasm';
  }

  async load(bytes: Uint8Array, id: string): Promise<Net> {
    await this.ready;
    const ort = this.ort;
    let session: OrtWeb.InferenceSession;
    try {
      session = await this.exclusive(() => ort.InferenceSession.create(bytes, { executionProviders: this.providers, graphOptimizationLevel: 'all' }));
    } catch (e) {
      throw new ModelFileError(`Model ${id} could not be loaded by onnxruntime-web: ${(e as Error).message}`);
    }
    const [inName] = session.inputNames;
    const runtime = this;
    return {
      run(input: Tensor, extra: Record<string, Tensor> = {}): Promise<NetResult> {
        return runtime.exclusive(async () => {
          const feeds: Record<string, OrtWeb.Tensor> = { [inName]: new ort.Tensor('float32', input.data, input.dims) };
          for (const [name, t] of Object.entries(extra)) feeds[name] = new ort.Tensor('float32', t.data, t.dims);
          const res = await session.run(feeds);
          const outputs: Record<string, Tensor> = {};
          for (const name of session.outputNames) {
            const out = res[name];
            outputs[name] = { data: (await out.getData()) as Float32Array, dims: [...out.dims] };
            out.dispose();
          }
          return { ...outputs[session.outputNames[0]], outputs };
        });
      },
      dispose() { return runtime.exclusive(() => session.release()); },
    };
  }
}
