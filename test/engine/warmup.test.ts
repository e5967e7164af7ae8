/**
 * engine.warmup: loads the nets a direction needs; with `run`, runs them on blank inputs (the
 * generator at its size, the upscaler on a quarter-side input) so a page's first transform skips
 * the WASM's slow first runs; the document is never touched (no source is read), and cancel stops it.
 */
import { FaceEngine } from '../../src/engine/engine';
import { findTransform, findUpscaler } from '../../src/models/manifest';
import { nodeModelFiles, readManifest } from '../../src/platform/node';
import type { Net, NetRuntime, Tensor } from '../../src/runtime/net';
import { errorCode } from '../../src/core/errors';

/** Records which net ran on which shapes; answers zeros of the output's shape. */
function recordingRuntime(log: { id: string; dims: number[]; extra: string[] }[]): NetRuntime {
  return {
    name: 'recording',
    async load(_bytes: Uint8Array, id: string): Promise<Net> {
      return {
        async run(input: Tensor, extra: Record<string, Tensor> = {}) {
          log.push({ id, dims: [...input.dims], extra: Object.keys(extra) });
          const k = id.startsWith('srresnet') ? 4 : 1;
          const dims = [1, 3, input.dims[2] * k, input.dims[3] * k];
          return { data: new Float32Array(dims.reduce((a, b) => a * b)), dims, outputs: {} };
        },
        async dispose() { /* nothing held */ },
      };
    },
  };
}

async function engineWith(log: { id: string; dims: number[]; extra: string[] }[]) {
  return FaceEngine.create({ manifest: readManifest(), files: nodeModelFiles(), runtime: recordingRuntime(log), detector: { detect: async () => [] } });
}

describe('engine.warmup', () => {
  const manifest = readManifest();
  const gen = findTransform(manifest, 'male2female');
  const up = findUpscaler(manifest)!;

  test('without run: the nets load, nothing runs', async () => {
    const log: { id: string; dims: number[]; extra: string[] }[] = [];
    await (await engineWith(log)).warmup('male2female');
    expect(log).toEqual([]);
  });

  test('with run: generator at its size and upscaler on a small input, twice each, alternating', async () => {
    const log: { id: string; dims: number[]; extra: string[] }[] = [];
    await (await engineWith(log)).warmup('male2female', true, { run: true });
    const s = gen.input.size, q = s / 4;
    const g = { id: gen.id, dims: [1, 3, s, s], extra: gen.condition ? [gen.condition.name] : [] };
    const u = { id: up.id, dims: [1, 3, q, q], extra: [] };
    expect(log).toEqual([g, u, g, u]);
  });

  test('upscale off: only the generator; runs: 1', async () => {
    const log: { id: string; dims: number[]; extra: string[] }[] = [];
    await (await engineWith(log)).warmup('male2female', false, { run: true, runs: 1 });
    expect(log.map((r) => r.id)).toEqual([gen.id]);
  });

  test('a cancelled warm-up stops before the next run', async () => {
    const log: { id: string; dims: number[]; extra: string[] }[] = [];
    const err = await (await engineWith(log)).warmup('male2female', true, { run: true, signal: { aborted: true } }).catch((e) => e);
    expect(errorCode(err)).toBe('CANCELLED');
    expect(log).toEqual([]);
  });
});
