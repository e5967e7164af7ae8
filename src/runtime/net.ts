/** The one interface the engine runs nets through; each runtime (native, web) implements it. */
export interface Tensor { data: Float32Array; dims: number[] }

/** A net's first output, with every output by name (e.g. a transform's `attention` mask). */
export interface NetResult extends Tensor { outputs: Record<string, Tensor> }

export interface Net {
  /** `input` feeds the net's first input; `extra` feeds further inputs by name (e.g. a `condition`). */
  run(input: Tensor, extra?: Record<string, Tensor>): Promise<NetResult>;
  dispose(): Promise<void>;
}

/** What runs the nets: onnxruntime-web on the GPU or on WebAssembly, or onnxruntime-node (native). */
export type Backend = 'webgpu' | 'wasm' | 'native';
/** The backends of a browser page. */
export type WebBackend = Exclude<Backend, 'native'>;

export interface NetRuntime {
  /** e.g. "onnxruntime-node (cpu)", "onnxruntime-web (webgpu)" */
  readonly name: string;
  load(bytes: Uint8Array, id: string): Promise<Net>;
}
