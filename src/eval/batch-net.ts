/**
 * A model under evaluation, run as the command line runs it (onnxruntime-node, sha256-checked
 * bytes), on batches of crops of one size (the eval's models take dynamic batch and spatial axes).
 */
import { RGBAImage, toPlanar, fromPlanar } from '../core/image';
import { ModelEntry, ModelFiles, readVerified } from '../models/manifest';
import type { Net as RuntimeNet, NetRuntime } from '../runtime/net';

export class BatchNet {
  private constructor(readonly spec: ModelEntry, private readonly net: RuntimeNet) {}

  static async load(files: ModelFiles, spec: ModelEntry, runtime: NetRuntime): Promise<BatchNet> {
    return new BatchNet(spec, await runtime.load(await readVerified(files, spec), spec.id));
  }

  /** Run images (one size) through the net in small batches; outputs are 8-bit, as a host would paste them. */
  async run(images: RGBAImage[], batch = 4): Promise<RGBAImage[]> {
    const out: RGBAImage[] = [];
    for (let s = 0; s < images.length; s += batch) {
      const b = images.slice(s, s + batch);
      const { width: w, height: h } = b[0];
      const data = new Float32Array(b.length * 3 * w * h);
      b.forEach((img, k) => data.set(toPlanar(img, this.spec.input.range), k * 3 * w * h));
      let y: { data: Float32Array; dims: number[] };
      try {
        y = await this.net.run({ data, dims: [b.length, 3, h, w] });
      } catch (e) {
        throw new Error(`${this.spec.id} failed on a ${b.length}x3x${h}x${w} input (${(e as Error).message}). `
          + 'The eval needs batch and spatial axes to be dynamic, as training/export_onnx.py exports them.');
      }
      const [, , oh, ow] = y.dims;
      b.forEach((_, k) => out.push(fromPlanar(y.data.subarray(k * 3 * oh * ow, (k + 1) * 3 * oh * ow), ow, oh, this.spec.output.range)));
    }
    return out;
  }

  release(): Promise<void> { return this.net.dispose(); }
}
