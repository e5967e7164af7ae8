/** Native CPU runtime for Node (command line, tests): onnxruntime-node. */
// Before onnxruntime-node loads: no telemetry (it would write ~/.cache/Microsoft/DeveloperTools/.onnxruntime).
import './ort-privacy';
import * as ort from 'onnxruntime-node';
import type { Net, NetResult, NetRuntime, Tensor } from './net';
import { ModelFileError } from '../models/manifest';

export class OrtNodeRuntime implements NetRuntime {
  readonly name = 'onnxruntime-node (cpu)';
  constructor(private readonly threads = 0) {}

  async load(bytes: Uint8Array, id: string): Promise<Net> {
    let session: ort.InferenceSession;
    try {
      session = await ort.InferenceSession.create(bytes, {
        executionProviders: ['cpu'], intraOpNumThreads: this.threads, graphOptimizationLevel: 'all',
      });
    } catch (e) {
      throw new ModelFileError(`Model ${id} could not be loaded by onnxruntime-node: ${(e as Error).message}`);
    }
    const [inName] = session.inputNames;
    // Data made in another JS realm (e.g. a previous run's output under a test sandbox) fails ort's type check: copy it.
    const tensor = (t: Tensor) => new ort.Tensor('float32', t.data instanceof Float32Array ? t.data : Float32Array.from(t.data), t.dims);
    return {
      async run(input: Tensor, extra: Record<string, Tensor> = {}): Promise<NetResult> {
        const feeds: Record<string, ort.Tensor> = { [inName]: tensor(input) };
        for (const [name, t] of Object.entries(extra)) feeds[name] = tensor(t);
        const res = await session.run(feeds);
        const outputs: Record<string, Tensor> = {};
        for (const name of session.outputNames) outputs[name] = { data: res[name].data as Float32Array, dims: [...res[name].dims] };
        return { ...outputs[session.outputNames[0]], outputs };
      },
      async dispose() { await session.release(); },
    };
  }
}
