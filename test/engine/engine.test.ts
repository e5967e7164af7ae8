import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { createNodeEngine, MODELS_DIR } from '../../src/platform/node';
import { FaceEngine, PhotoSource } from '../../src/engine/engine';
import { EngineService } from '../../src/engine/service';
import { Reply, Request, WirePatch, encodeWireImage, decodeWireImage } from '../../src/engine/protocol';
import { DetectedFace, selectFaces } from '../../src/core/faces';
import { decodePhoto, MemoryPhotoSource } from '../../src/cli/photo';
import { cropRGBA, RGBAImage } from '../../src/core/image';
import { meanITA } from '../../src/core/metrics';
import type { Box } from '../../src/core/geometry';
import { photo } from '../helpers/photos';
import { shippedDirections, shippedTransform } from '../helpers/manifest';

let engine: FaceEngine;
beforeAll(async () => { engine = await createNodeEngine(); });
afterAll(async () => { await engine.dispose(); });

/** A PhotoSource that records what was read. */
class CountingSource implements PhotoSource {
  regionPixels = 0;
  previewSide = 0;
  private inner: MemoryPhotoSource;
  constructor(private img: RGBAImage) { this.inner = new MemoryPhotoSource(img); }
  get width() { return this.img.width; }
  get height() { return this.img.height; }
  async readPreview(maxSide: number) { const p = await this.inner.readPreview(maxSide); this.previewSide = Math.max(p.width, p.height); return p; }
  async readRegion(box: Box) { this.regionPixels += box.width * box.height; return this.inner.readRegion(box); }
}

async function load(id: string) { return (await decodePhoto(photo(id))).image; }

describe('engine', () => {
  test('returns one patch per face, inside the photo, with a feathered mask; reads only face regions at full size', async () => {
    const img = await load('wh_biden_obama_greenroom');
    const src = new CountingSource(img);
    const r = await engine.run(src, { direction: 'male2female', upscale: false }, await engine.detect(src));
    expect(r.faces).toHaveLength(2);
    expect(src.previewSide).toBeLessThanOrEqual(2048);
    expect(src.regionPixels).toBeLessThan(0.25 * img.width * img.height);
    for (const f of r.faces) {
      const { box, mask, rgba } = f.patch;
      expect(box.x).toBeGreaterThanOrEqual(0);
      expect(box.y).toBeGreaterThanOrEqual(0);
      expect(box.x + box.width).toBeLessThanOrEqual(img.width);
      expect(box.y + box.height).toBeLessThanOrEqual(img.height);
      expect(rgba.width).toBe(box.width);
      const soft = mask.data.filter((v) => v > 0 && v < 255).length;
      expect(mask.data.filter((v) => v === 255).length).toBeGreaterThan(0);
      expect(soft).toBeGreaterThan(0.05 * mask.data.length);
    }
    for (const k of ['align', 'transform', 'paste'] as const) expect(r.timings[k]).toBeGreaterThan(0);
    expect(r.timings.upscale).toBe(0);
    for (const f of r.faces) expect(f.cropSize).toBe(shippedTransform('male2female').input.size);
  });

  test('strength scales the change (to 150 %); 0 changes nothing; the old paste-back scales the mask', async () => {
    const img = await load('nasa_astronaut_collins');
    const faces = await engine.detect(new MemoryPhotoSource(img));
    const run = (strength: number, paste: 'detail' | 'replace' = 'detail') =>
      engine.run(new MemoryPhotoSource(img), { direction: 'male2female', upscale: false, strength, paste }, faces).then((r) => r.faces[0].patch);
    /** mean |patch - photo| over the fully masked pixels */
    const change = (p: Awaited<ReturnType<typeof run>>) => {
      let s = 0, n = 0;
      for (let i = 0; i < p.mask.data.length; i++) {
        if (p.mask.data[i] < 255) continue;
        const x = p.box.x + (i % p.box.width), y = p.box.y + Math.floor(i / p.box.width);
        for (let c = 0; c < 3; c++) s += Math.abs(p.rgba.data[i * 4 + c] - img.data[(y * img.width + x) * 4 + c]);
        n++;
      }
      return s / n / 3;
    };
    const [none, half, full, more] = await Promise.all([0, 0.5, 1, 1.5].map((k) => run(k)));
    expect(change(none)).toBeLessThan(0.5);
    expect(change(half)).toBeGreaterThan(0.35 * change(full));
    expect(change(half)).toBeLessThan(0.65 * change(full));
    expect(change(more)).toBeGreaterThan(change(full));
    expect(Math.max(...half.mask.data)).toBe(255); // the layer mask stays whole: strength is in the pixels
    const oldHalf = await run(0.5, 'replace');
    expect(Math.max(...oldHalf.mask.data)).toBeLessThanOrEqual(128);
    await expect(engine.run(new MemoryPhotoSource(img), { direction: 'male2female', strength: 1.6 }, faces)).rejects.toThrow(/between 0 and 1.5/);
  });

  test('upscaling gives a 4x face before paste-back', async () => {
    const img = await load('ccby_chris_pratt');
    const src = new MemoryPhotoSource(img);
    const r = await engine.run(src, { direction: 'male2female' }, await engine.detect(src));
    expect(r.upscaler).toMatch(/srresnet/);
    expect(r.timings.upscale).toBeGreaterThan(0);
  });

  test('unknown direction (face selection and the minimum size are the use case\'s: test/app/transform.test.ts)', async () => {
    const small = await load('wh_obama_official_240p');
    const src = new MemoryPhotoSource(small);
    await expect(engine.run(src, { direction: 'cat2dog' }, await engine.detect(src))).rejects.toThrow(/No model for direction "cat2dog". Available directions: .*male2female/);
  });

  test('every direction of the manifest runs; the manifest decides the colour policy', async () => {
    const img = await load('ccby_chris_pratt');
    const faces = await engine.detect(new MemoryPhotoSource(img));
    const dirs = shippedDirections();
    expect(dirs).toEqual(expect.arrayContaining(['male2female', 'female2male', 'white2black', 'black2white', 'white2asian', 'asian2white']));
    for (const direction of dirs) {
      const model = shippedTransform(direction); // its colour policy is pinned in test/models/manifest.test.ts
      const opts = { direction, upscale: false };
      const largest = selectFaces(faces, 'largest');
      const byDefault = (await engine.run(new MemoryPhotoSource(img), opts, largest)).faces[0].patch;
      const policy = model.colorPolicy ?? 'reinhard';
      const explicit = (await engine.run(new MemoryPhotoSource(img), { ...opts, colorPolicy: policy }, largest)).faces[0].patch;
      expect(Buffer.from(explicit.rgba.data).equals(Buffer.from(byDefault.rgba.data))).toBe(true);
      // another policy gives other colours: reinhard against lightness, tone or none, and none against reinhard
      const other = policy === 'reinhard' ? 'none' : 'reinhard';
      const flipped = (await engine.run(new MemoryPhotoSource(img), { ...opts, colorPolicy: other }, largest)).faces[0].patch;
      const { box, rgba, mask } = byDefault;
      const orig = cropRGBA(img, box.x, box.y, box.width, box.height);
      let changed = 0, changedVsFlipped = 0, inside = 0;
      for (let i = 0; i < mask.data.length; i++) {
        if (mask.data[i] < 255) continue;
        inside++;
        for (let c = 0; c < 3; c++) {
          changed += Math.abs(rgba.data[i * 4 + c] - orig.data[i * 4 + c]);
          changedVsFlipped += Math.abs(rgba.data[i * 4 + c] - flipped.rgba.data[i * 4 + c]);
        }
      }
      expect(inside).toBeGreaterThan(1000);
      expect(changed / (3 * inside)).toBeGreaterThan(2); // the face really changed
      expect(changedVsFlipped / (3 * inside)).toBeGreaterThan(0.2); // and the policy is honoured
    }
  });

  test('white -> black darkens the skin of a white face; black -> white lightens a black face (ITA)', async () => {
    // skin tone as the individual typology angle of the face's fully masked pixels: lower is darker
    for (const [photoId, direction, sign] of [['ccby_chris_pratt', 'white2black', -1], ['wh_obama_phone_oval', 'black2white', 1]] as const) {
      const img = await load(photoId);
      const src = new MemoryPhotoSource(img);
      const { box, rgba, mask } = (await engine.run(src, { direction, upscale: false }, selectFaces(await engine.detect(src), 'largest'))).faces[0].patch;
      const core = Array.from(mask.data, (v) => (v === 255 ? 255 : 0));
      const before = meanITA(cropRGBA(img, box.x, box.y, box.width, box.height), core);
      const after = meanITA(rgba, core);
      // degrees (an unchanged face moves ~0): measured -11 / +21 with the v1 race models, -7.3 / +7.6 with v4,
      // -7.3 / +4.8 with white->black v4 and black->white v5 (v5 lightens this face less than v4 while the race
      // judge calls its composites white more often: 93 against 86 % on validation); +3.8 since the mask's wide fade at
      // the crop's top (the forehead band there, lightened most, is no longer fully masked; the pixels left are unchanged)
      expect(sign * (after - before)).toBeGreaterThan(3);
    }
  });

  test('a cancelled run stops with CANCELLED and returns nothing', async () => {
    const img = await load('wh_flotus_tarmac_children');
    const ctl = new AbortController();
    const src = new MemoryPhotoSource(img);
    const p = engine.run(src, {
      direction: 'male2female', signal: ctl.signal,
      onProgress: (s) => { if (s.stage === 'transform') ctl.abort(); },
    }, await engine.detect(src));
    await expect(p).rejects.toMatchObject({ code: 'CANCELLED' });
  });

  test('a damaged model file is refused with a clear error', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'faceshift-models-'));
    fs.cpSync(MODELS_DIR, dir, { recursive: true });
    const manifest = JSON.parse(fs.readFileSync(path.join(dir, 'manifest.json'), 'utf8'));
    const gen = manifest.models.find((m: { direction?: string }) => m.direction === 'male2female');
    const file = path.join(dir, gen.file);
    const bytes = fs.readFileSync(file);
    bytes[bytes.length >> 1] ^= 0xff;
    fs.writeFileSync(file, bytes);
    const broken = await createNodeEngine({ modelsDir: dir });
    const img = await load('nasa_astronaut_collins');
    const src = new MemoryPhotoSource(img);
    const err = await broken.run(src, { direction: 'male2female' }, await broken.detect(src)).then(() => new Error('no error'), (e: unknown) => e as Error);
    expect(err.message).toMatch(new RegExp(`${gen.file} is damaged or not the shipped version.*Restore it`));
    expect(err).toMatchObject({ code: 'MODEL' }); // a FaceShiftError: hosts map its code
    await broken.dispose();
    fs.rmSync(dir, { recursive: true, force: true });
  });
});

describe('engine service (the JSON protocol the Photoshop webview speaks)', () => {
  test('detect -> regions -> transform over JSON, with progress; cancel stops a job', async () => {
    const service = new EngineService(engine, 'native');
    const replies: Reply[] = [];
    const send = async (req: Request) => {
      // a real JSON round trip, as through the webview bridge
      await service.handle(JSON.parse(JSON.stringify(req)), (r) => replies.push(JSON.parse(JSON.stringify(r))));
      return replies[replies.length - 1];
    };
    const ready = await send({ type: 'init', id: '1' });
    expect(ready).toMatchObject({ type: 'ready', backend: 'native' });
    expect((ready as { directions: { direction: string }[] }).directions.map((d) => d.direction)).toEqual(expect.arrayContaining(['male2female', 'female2male']));

    const img = await load('wh_biden_obama_greenroom');
    const preview = await new MemoryPhotoSource(img).readPreview(1024);
    const photoSize = { width: img.width, height: img.height };
    const faces = await send({ type: 'detect', id: '2', photo: photoSize, preview: encodeWireImage(preview) });
    expect(faces.type).toBe('faces');
    const found = (faces as Extract<Reply, { type: 'faces' }>).faces as DetectedFace[];
    expect(found).toHaveLength(2);
    const regions = await send({ type: 'regions', id: '3', photo: photoSize, faces: found, direction: 'male2female' });
    const boxes = (regions as Extract<Reply, { type: 'regions' }>).boxes;
    const result = await send({
      type: 'transform', id: '4', photo: photoSize, faces: found,
      regions: boxes.map((b) => ({ box: b, image: encodeWireImage(cropRGBA(img, b.x, b.y, b.width, b.height)) })),
      options: { direction: 'male2female', upscale: false },
    });
    expect(result.type).toBe('result');
    expect(replies.some((r) => r.type === 'progress' && r.id === '4')).toBe(true);
    const patches: WirePatch[] = (result as Extract<Reply, { type: 'result' }>).patches;
    expect(patches).toHaveLength(2);
    for (const p of patches) {
      expect(decodeWireImage(p.mask).data.length).toBe(p.box.width * p.box.height);
      expect(decodeWireImage(p.rgba).data.length).toBe(p.box.width * p.box.height * 4);
    }
    // a transform without the pixels it needs is refused clearly
    const missing = await send({ type: 'transform', id: '5', photo: photoSize, faces: found, regions: [], options: { direction: 'male2female' } });
    expect(missing).toMatchObject({ type: 'error', code: 'BAD_INPUT' });
    // a model problem keeps its code across the bridge (it was INTERNAL before ModelFileError became a FaceShiftError)
    const unknown = await send({ type: 'transform', id: '5b', photo: photoSize, faces: found, regions: [], options: { direction: 'cat2dog' } });
    expect(unknown).toMatchObject({ type: 'error', code: 'MODEL', message: expect.stringMatching(/No model for direction "cat2dog"/) });
    // cancel
    const job = service.handle({
      type: 'transform', id: '6', photo: photoSize, faces: found,
      regions: boxes.map((b) => ({ box: b, image: encodeWireImage(cropRGBA(img, b.x, b.y, b.width, b.height)) })),
      options: { direction: 'male2female' },
    }, (r) => replies.push(r));
    await service.handle({ type: 'cancel', id: '7', target: '6' }, () => undefined);
    await job;
    expect(replies[replies.length - 1]).toMatchObject({ id: '6', type: 'error', code: 'CANCELLED' });
  });
});
