/**
 * The built page's engine on both onnxruntime-web backends in Chromium: WebGPU (a software
 * adapter on machines without a GPU, about 100x slower, hence one small face, no upscale) and
 * WASM must give the same face, within 2/255 on every patch pixel.
 */
import { useBrowser } from './support';

jest.setTimeout(300_000);

interface Comparison {
  gpuBackend: string; runtime: string; faces: number; box: unknown; boxGpu: unknown;
  maxDiff: number; meanDiff: number; pixels: number; wasmMs: number; gpuMs: number; changed: number;
}

describe('the engine on WebGPU and on WASM in Chromium', () => {
  const env = useBrowser();

  test('one face, upscale off: WebGPU matches WASM within 2/255', async () => {
    const page = await env.browser().context.newPage();
    await page.goto(`http://localhost:${env.server().port}/plugin/index.html?device=wasm`);
    await page.waitForFunction(() => typeof (window as unknown as { faceshift?: unknown }).faceshift === 'object');
    const r = await page.evaluate(async (photoUrl): Promise<Comparison> => {
      // the page's diagnostics handle (src/hosts/photopea/index.ts)
      type Img = { width: number; height: number; data: Uint8ClampedArray };
      type Patch = { box: unknown; rgba: Img; mask: Img };
      type Engine = {
        detect(src: unknown): Promise<unknown[]>;
        run(src: unknown, o: unknown, faces: unknown[]): Promise<{ faces: { patch: Patch }[] }>;
        runtimeName: string;
      };
      const fs = (window as unknown as { faceshift: {
        ready: Promise<{ engine: Engine; backend: string }>;
        createWebEngine(o: unknown): Promise<{ engine: Engine; backend: string }>;
        decodeWireImage(b: ArrayBuffer): Promise<{ image: Img; bitmap: ImageBitmap }>;
        BitmapPhotoSource: new (i: Img, b: ImageBitmap) => unknown;
      } }).faceshift;
      const { engine: wasm, backend } = await fs.ready;
      if (backend !== 'wasm') throw new Error(`expected the wasm engine first, got ${backend}`);
      const { image, bitmap } = await fs.decodeWireImage(await (await fetch(photoUrl)).arrayBuffer());
      const src = new fs.BitmapPhotoSource(image, bitmap);
      const faces = await wasm.detect(src);
      const opts = { direction: 'female2male', upscale: false, faces: 'largest' };
      let t = performance.now();
      const a = await wasm.run(src, opts, faces);
      const wasmMs = performance.now() - t;
      const gpu = await fs.createWebEngine({ baseUrl: 'models/', device: 'webgpu' });
      t = performance.now();
      const b = await gpu.engine.run(src, opts, faces);
      const gpuMs = performance.now() - t;
      const pa = a.faces[0].patch, pb = b.faces[0].patch;
      let max = 0, sum = 0, n = 0, changed = 0;
      for (let i = 0; i < pa.rgba.data.length; i++) {
        if (i % 4 === 3) continue;
        const dv = Math.abs(pa.rgba.data[i] - pb.rgba.data[i]);
        max = Math.max(max, dv); sum += dv; n++;
      }
      // the patch must differ from the photo under its mask (the net really ran)
      const bx = pa.box as { x: number; y: number; width: number; height: number };
      for (let y = 0; y < bx.height; y++) for (let x = 0; x < bx.width; x++) {
        const s = (y * bx.width + x) * 4, p = ((bx.y + y) * image.width + bx.x + x) * 4;
        if (pa.mask.data[y * bx.width + x] > 128 && Math.abs(pa.rgba.data[s] - image.data[p]) > 8) changed++;
      }
      return {
        gpuBackend: gpu.backend, runtime: gpu.engine.runtimeName, faces: faces.length, box: pa.box, boxGpu: pb.box,
        maxDiff: max, meanDiff: sum / n, pixels: n / 3, wasmMs, gpuMs, changed,
      };
    }, `http://localhost:${env.server().port}/photos/nasa_astronaut_collins.png`);
    console.log(`WebGPU vs WASM, one face ${JSON.stringify(r.box)}: max |diff| ${r.maxDiff}/255, mean ${r.meanDiff.toFixed(3)}; `
      + `wasm ${Math.round(r.wasmMs)} ms, webgpu (${r.runtime}) ${Math.round(r.gpuMs)} ms`);
    expect(r.gpuBackend).toBe('webgpu');
    expect(r.faces).toBe(1);
    expect(r.boxGpu).toEqual(r.box);
    expect(r.changed).toBeGreaterThan(100);
    expect(r.maxDiff).toBeLessThanOrEqual(2);
    await page.close();
  });
});
