/** Native CPU runtime for Node (command line, tests): onnxruntime-node. */
// Before onnxruntime-node loads: no telemetry (it would write ~/.cache/Microsoft/DeveloperTools/.onnxruntime).
import './ort-privacy';
import * as ort from 'onnxruntime-node';
import type { Net, NetRuntime, Tensor } from './net';

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
      throw new Error(`Model ${id} could not be loaded by onnxruntime-node: ${(e as Error).message}`);
    }
    const [inName] = session.inputNames;
    const [outName] = session.outputNames;
    return {
      async run(input: Tensor): Promise<Tensor> {
        // Data made in another JS realm (e.g. a previous run's output under a test sandbox) fails ort's type check: copy it.
        const data = input.data instanceof Float32Array ? input.data : Float32Array.from(input.data);
        const res = await session.run({ [inName]: new ort.Tensor('float32', data, input.dims) });
        const out = res[outName];
        return { data: out.data as Float32Array, dims: [...out.dims] };
      },
      async dispose() { await session.release(); },
    };
  }
}
