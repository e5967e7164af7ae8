/**
 * OrtWebRuntime enters ORT once at a time across all its sessions: a page's background warm-up of
 * one net must not overlap a transform's run of another (on WebGPU that failed to read outputs),
 * nor a transform's loading of its net (in CI's Chromium that failed: "memory access out of bounds").
 */
import { OrtWebRuntime, OrtWebModule } from '../../src/runtime/onnx.web';

function fakeOrt(events: string[]): OrtWebModule {
  class Tensor { constructor(public type: string, public data: Float32Array, public dims: number[]) {} getData() { return Promise.resolve(this.data); } dispose() { /* nothing */ } }
  let n = 0;
  const InferenceSession = {
    async create() {
      const id = `s${n++}`;
      events.push(`${id} create`);
      await new Promise((r) => setTimeout(r, 10));
      events.push(`${id} created`);
      return {
        inputNames: ['input'], outputNames: ['output'],
        async run(feeds: Record<string, Tensor>) {
          events.push(`${id} start`);
          await new Promise((r) => setTimeout(r, 20));
          events.push(`${id} end`);
          return { output: new Tensor('float32', feeds.input.data, feeds.input.dims) };
        },
        async release() { events.push(`${id} release`); await new Promise((r) => setTimeout(r, 10)); events.push(`${id} released`); },
      };
    },
  };
  return { env: { wasm: {} }, Tensor, InferenceSession } as unknown as OrtWebModule;
}

test('runs of two sessions never overlap', async () => {
  const events: string[] = [];
  const rt = new OrtWebRuntime(fakeOrt(events), { device: 'wasm' });
  const [a, b] = [await rt.load(new Uint8Array(1), 'a'), await rt.load(new Uint8Array(1), 'b')];
  const x = { data: new Float32Array(3), dims: [1, 3, 1, 1] };
  await Promise.all([a.run(x), b.run(x), a.run(x)]);
  expect(events.filter((e) => !/create/.test(e))).toEqual(['s0 start', 's0 end', 's1 start', 's1 end', 's0 start', 's0 end']);
});

test('a session is created, and released, only between runs', async () => {
  const events: string[] = [];
  const rt = new OrtWebRuntime(fakeOrt(events), { device: 'wasm' });
  const a = await rt.load(new Uint8Array(1), 'a');
  const x = { data: new Float32Array(3), dims: [1, 3, 1, 1] };
  // the warm-up's run is in progress when a transform loads its net; the run is queued after
  const [, b] = await Promise.all([a.run(x), rt.load(new Uint8Array(1), 'b')]);
  await Promise.all([b.run(x), a.dispose(), b.run(x)]);
  expect(events).toEqual([
    's0 create', 's0 created',
    's0 start', 's0 end', 's1 create', 's1 created',
    's1 start', 's1 end', 's0 release', 's0 released', 's1 start', 's1 end',
  ]);
});
