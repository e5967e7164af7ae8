/** The one interface the engine runs nets through; each runtime (native, web) implements it. */
export interface Tensor { data: Float32Array; dims: number[] }

export interface Net {
  run(input: Tensor): Promise<Tensor>;
  dispose(): Promise<void>;
}

export interface NetRuntime {
  /** e.g. "onnxruntime-node (cpu)", "onnxruntime-web (webgpu)" */
  readonly name: string;
  load(bytes: Uint8Array, id: string): Promise<Net>;
}
