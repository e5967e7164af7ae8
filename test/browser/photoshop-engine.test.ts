/**
 * The Photoshop panel's engine page (dist/photoshop/engine) in Chromium: window.uxpHost is shimmed
 * to collect replies, and the panel's JSON protocol messages (init, detect, regions, transform,
 * and a bad request) are posted to it the way the webview delivers them.
 */
import sharp from 'sharp';
import { useBrowser } from './support';
import { photo } from '../helpers/photos';
import { shippedDirections, shippedTransform } from '../helpers/manifest';
import { Reply, Request, decodeWireImage, encodeWireImage } from '../../src/engine/protocol';
import type { DetectedFace } from '../../src/core/faces';
import type { Box } from '../../src/core/geometry';
import { cropRGBA } from '../../src/core/image';

jest.setTimeout(240_000);

declare const window: Window & { __replies: Reply[]; uxpHost: { postMessage(m: unknown): void } };

describe('Photoshop engine page in Chromium (uxpHost shimmed)', () => {
  const env = useBrowser();

  test('init, detect, regions, transform over the JSON protocol', async () => {
    const page = await env.browser().context.newPage();
    // the webview's bridge to the panel: JSON only, so replies are copied through JSON
    await page.addInitScript(() => {
      window.__replies = [];
      window.uxpHost = { postMessage: (m: unknown) => { window.__replies.push(JSON.parse(JSON.stringify(m))); } };
    });
    await page.goto(`http://127.0.0.1:${env.server().port}/ps/engine/index.html?device=wasm`);

    const send = (msg: Request, asString = false) => page.evaluate(([m, s]) => { window.postMessage(s ? JSON.stringify(m) : m, '*'); }, [msg, asString] as const);
    const reply = async <T extends Reply['type']>(id: string, type: T | 'error'): Promise<Extract<Reply, { type: T | 'error' }>> => {
      await page.waitForFunction(([i, t]) => window.__replies.some((r) => r.id === i && (r.type === t || r.type === 'error')), [id, type] as const, { timeout: 200_000 });
      return page.evaluate(([i, t]) => window.__replies.find((r) => r.id === i && (r.type === t || r.type === 'error')), [id, type] as const) as never;
    };

    // init (as a JSON string, as some bridges deliver it), sent twice like the panel's retry
    await send({ type: 'init', id: 'i1' }, true);
    await send({ type: 'init', id: 'i1' });
    const ready = await reply('i1', 'ready');
    expect(ready).toMatchObject({ type: 'ready', backend: 'wasm' });
    if (ready.type !== 'ready') throw new Error(ready.message);
    // every direction of models/manifest.json, in its order (no code per direction)
    expect(ready.directions.map((x) => x.direction)).toEqual(shippedDirections());
    expect(ready.directions.length).toBeGreaterThanOrEqual(6);
    expect(ready.runtime).toMatch(/onnxruntime-web/);

    // the panel reads a small preview of the layer, then full-resolution regions per face
    const { data, info } = await sharp(photo('nasa_astronaut_collins')).ensureAlpha().raw().toBuffer({ resolveWithObject: true });
    const image = { width: info.width, height: info.height, data: new Uint8ClampedArray(data.buffer, data.byteOffset, data.byteLength) };
    const size = { width: image.width, height: image.height };
    await send({ type: 'detect', id: 'd1', photo: size, preview: encodeWireImage(image, 4) });
    const faces = await reply('d1', 'faces');
    if (faces.type !== 'faces') throw new Error(faces.message);
    expect(faces.faces).toHaveLength(1);

    await send({ type: 'regions', id: 'r1', photo: size, faces: faces.faces, direction: 'female2male' });
    const regions = await reply('r1', 'regions');
    if (regions.type !== 'regions') throw new Error(regions.message);
    expect(regions.boxes).toHaveLength(1);
    const box: Box = regions.boxes[0];

    const crop = cropRGBA(image, box.x, box.y, box.width, box.height);
    const t0 = Date.now();
    await send({
      type: 'transform', id: 't1', photo: size, faces: faces.faces as DetectedFace[],
      regions: [{ box, image: encodeWireImage(crop, 4) }], options: { direction: 'female2male', strength: 1, upscale: false },
    });
    const result = await reply('t1', 'result');
    if (result.type !== 'result') throw new Error(result.message);
    console.log(`engine page transform (wasm, upscale off, first run incl. model load): ${Date.now() - t0} ms`);
    expect(result.model).toBe(shippedTransform('female2male').id);
    expect(result.upscaler).toBeNull();
    expect(result.patches).toHaveLength(1);
    const p = result.patches[0];
    const rgba = decodeWireImage(p.rgba), mask = decodeWireImage(p.mask);
    expect([rgba.width, rgba.height]).toEqual([p.box.width, p.box.height]);
    expect(mask.data.length).toBe(p.box.width * p.box.height);
    expect(Math.max(...mask.data)).toBe(255);
    // the patch lies inside the region that was sent
    expect(p.box.x).toBeGreaterThanOrEqual(box.x);
    expect(p.box.y + p.box.height).toBeLessThanOrEqual(box.y + box.height);
    const progress = await page.evaluate(() => window.__replies.filter((r) => r.id === 't1' && r.type === 'progress').map((r) => (r as { stage: string }).stage));
    expect(progress).toEqual(expect.arrayContaining(['align', 'transform', 'paste']));

    // a request the engine cannot serve gets an error reply with a message, not silence
    await send({ type: 'transform', id: 't2', photo: size, faces: faces.faces, regions: [], options: { direction: 'cat2dog' } });
    const bad = await reply('t2', 'result');
    expect(bad.type).toBe('error');
    if (bad.type === 'error') expect(bad.message).toMatch(/No model for direction "cat2dog"/);
    await page.close();
  });
});
