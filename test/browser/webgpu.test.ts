/**
 * The built engine page on both onnxruntime-web backends in Chromium: WebGPU (a software adapter
 * on machines without a GPU, about 100x slower, hence one small face, no upscale) and WASM must
 * give the same face, within 2/255 on every patch pixel. Both engines are driven through the
 * protocol the Photoshop panel speaks (no hooks in the pages): the same preview, faces and
 * regions go to each. The WebGPU page gets its transform right after its handshake, while its
 * background warm-up is running: loading a net then must wait for the warm-up's run (CI's
 * Chromium failed with "memory access out of bounds" when it did not).
 */
import sharp from 'sharp';
import { openEnginePage, useBrowser } from './support';
import { photo } from '../helpers/photos';
import { decodeWireImage, encodeWireImage } from '../../src/engine/protocol';
import type { DetectedFace } from '../../src/core/faces';
import { cropRGBA } from '../../src/core/image';

jest.setTimeout(300_000);

describe('the engine on WebGPU and on WASM in Chromium', () => {
  const env = useBrowser();

  test('one face, upscale off: WebGPU matches WASM within 2/255', async () => {
    const base = `http://127.0.0.1:${env.server().port}/ps/engine/index.html`;
    const [wasm, gpu] = [await openEnginePage(env.browser(), `${base}?device=wasm`), await openEnginePage(env.browser(), `${base}?device=webgpu`)];
    const { data, info } = await sharp(photo('nasa_astronaut_collins')).ensureAlpha().raw().toBuffer({ resolveWithObject: true });
    const image = { width: info.width, height: info.height, data: new Uint8ClampedArray(data.buffer, data.byteOffset, data.byteLength) };
    const size = { width: image.width, height: image.height };

    const backends: string[] = [];
    const init = async (e: typeof wasm, id: string) => {
      await e.send({ type: 'init', id });
      const ready = await e.reply(id, 'ready');
      if (ready.type !== 'ready') throw new Error(ready.message);
      backends.push(ready.backend);
    };
    await init(wasm, 'w0');

    // detection and regions from the wasm page; both engines then transform the very same input
    await wasm.send({ type: 'detect', id: 'w1', photo: size, preview: encodeWireImage(image, 4) });
    const found = await wasm.reply('w1', 'faces');
    if (found.type !== 'faces') throw new Error(found.message);
    expect(found.faces).toHaveLength(1);
    const faces = found.faces as DetectedFace[];
    await wasm.send({ type: 'regions', id: 'w2', photo: size, faces, direction: 'female2male' });
    const regions = await wasm.reply('w2', 'regions');
    if (regions.type !== 'regions') throw new Error(regions.message);
    const wireRegions = regions.boxes.map((b) => ({ box: b, image: encodeWireImage(cropRGBA(image, b.x, b.y, b.width, b.height), 4) }));
    const options = { direction: 'female2male', upscale: false };

    const patches = [];
    const ms: number[] = [];
    let runtime = '';
    for (const [e, id] of [[wasm, 'w3'], [gpu, 'g3']] as const) {
      if (id === 'g3') await init(gpu, 'g0');
      const t = Date.now();
      await e.send({ type: 'transform', id, photo: size, faces, regions: wireRegions, options });
      const r = await e.reply(id, 'result', 280_000);
      if (r.type !== 'result') throw new Error(r.message);
      ms.push(Date.now() - t);
      patches.push(r.patches[0]);
      if (id === 'g3') {
        await e.send({ type: 'init', id: 'g4' });
        const again = await e.reply('g4', 'ready');
        if (again.type === 'ready') runtime = again.runtime;
      }
    }
    const [pa, pb] = patches;
    expect(pb.box).toEqual(pa.box);
    const a = decodeWireImage(pa.rgba), b = decodeWireImage(pb.rgba), mask = decodeWireImage(pa.mask);
    let max = 0, sum = 0, n = 0, changed = 0;
    for (let i = 0; i < a.data.length; i++) {
      if (i % 4 === 3) continue;
      const dv = Math.abs(a.data[i] - b.data[i]);
      max = Math.max(max, dv); sum += dv; n++;
    }
    // the patch must differ from the photo under its mask (the net really ran)
    const bx = pa.box;
    for (let y = 0; y < bx.height; y++) for (let x = 0; x < bx.width; x++) {
      const s = (y * bx.width + x) * 4, p = ((bx.y + y) * image.width + bx.x + x) * 4;
      if (mask.data[y * bx.width + x] > 128 && Math.abs(a.data[s] - image.data[p]) > 8) changed++;
    }
    console.log(`WebGPU vs WASM, one face ${JSON.stringify(pa.box)}: max |diff| ${max}/255, mean ${(sum / n).toFixed(3)}; `
      + `wasm ${ms[0]} ms, webgpu (${runtime}) ${ms[1]} ms`);
    expect(backends).toEqual(['wasm', 'webgpu']);
    expect(runtime).toMatch(/webgpu/);
    expect(changed).toBeGreaterThan(100);
    expect(max).toBeLessThanOrEqual(2);
    await wasm.page.close();
    await gpu.page.close();
  });
});
