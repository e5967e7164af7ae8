/**
 * The command line's PSD writer (src/cli/psd.ts) streams the file row by row. What it writes must
 * be what ag-psd wrote before (the writer it replaced): the same bytes for the same layers, on a
 * real photo with the engine's own face layer and on the edge cases of the format (cut-outs with
 * partly transparent pixels, no face layer, odd names, one-pixel rows, run lengths around 128,
 * PSB sizes). ag-psd's reader then decodes it to the photo, the faces at their box, and the composite.
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { readPsd, writePsdBuffer, initializeCanvas, Layer, Psd } from 'ag-psd';
import { writePsd, PsdContent, packBitsRow } from '../../src/cli/psd';
import { writeOutput } from '../../src/cli/files';
import { compositeLayer, facesToLayer, FaceLayer } from '../../src/core/layer';
import { createGray, createRGBA, RGBAImage } from '../../src/core/image';
import type { FacePatch } from '../../src/core/blend';
import { FaceShiftError } from '../../src/core/errors';
import { createNodeEngine } from '../../src/platform/node';
import { localEngine } from '../../src/app/engine-port';
import { keepLayer, transformDocument } from '../../src/app/transform';
import { decodePhoto, MemoryPhotoSource } from '../../src/cli/photo';
import { photo } from '../helpers/photos';

initializeCanvas(() => { throw new Error('no canvas in tests'); },
  (width: number, height: number) => ({ width, height, data: new Uint8ClampedArray(width * height * 4), colorSpace: 'srgb' }) as unknown as ImageData);

let tmp: string;
beforeAll(() => { tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'faceshift-psd-')); });
afterAll(() => { fs.rmSync(tmp, { recursive: true, force: true }); });

/** What the command line wrote before: the whole document handed to ag-psd at once. */
function agPsd(c: PsdContent): Buffer {
  const { width, height } = c.original;
  const children: Layer[] = [{ name: c.originalName, top: 0, left: 0, bottom: height, right: width, imageData: { width, height, data: c.original.data } as ImageData }];
  if (c.faces) {
    const { box, rgba, mask } = c.faces;
    const m = new Uint8ClampedArray(box.width * box.height * 4);
    for (let i = 0; i < box.width * box.height; i++) { m[i * 4] = m[i * 4 + 1] = m[i * 4 + 2] = mask.data[i]; m[i * 4 + 3] = 255; }
    children.push({
      name: c.facesName, top: box.y, left: box.x, bottom: box.y + box.height, right: box.x + box.width,
      imageData: { width: box.width, height: box.height, data: rgba.data } as ImageData,
      mask: { top: box.y, left: box.x, bottom: box.y + box.height, right: box.x + box.width, defaultColor: 0, imageData: { width: box.width, height: box.height, data: m } as ImageData },
    });
  }
  const composite = c.faces ? compositeLayer(c.original, c.faces) : c.original;
  const psd: Psd = { width, height, children, imageData: { width, height, data: composite.data } as ImageData };
  return writePsdBuffer(psd, { noBackground: true, psb: width > 30000 || height > 30000 });
}

async function streamed(c: PsdContent): Promise<Buffer> {
  const f = path.join(tmp, 'out.psd');
  await writePsd(f, c);
  return fs.readFileSync(f);
}

/** A deterministic pseudo-random byte stream (noise defeats RLE: long literal runs). */
function noise(seed: number) {
  let s = seed >>> 0;
  return () => { s = (s * 1664525 + 1013904223) >>> 0; return s >>> 24; };
}

function patch(x: number, y: number, w: number, h: number, fill: (i: number, j: number) => [number, number, number, number, number]): FacePatch {
  const rgba = createRGBA(w, h), mask = createGray(w, h);
  for (let j = 0; j < h; j++) for (let i = 0; i < w; i++) {
    const [r, g, b, a, m] = fill(i, j);
    rgba.data.set([r, g, b, a], (j * w + i) * 4);
    mask.data[j * w + i] = m;
  }
  return { box: { x, y, width: w, height: h }, rgba, mask };
}

/** A soft round mask over inverted photo pixels: what a face patch looks like to the writer. */
function facePatch(img: RGBAImage, x: number, y: number, s: number): FacePatch {
  return patch(x, y, s, s, (i, j) => {
    const p = ((y + j) * img.width + x + i) * 4;
    const r = Math.hypot(i - s / 2, j - s / 2) / (s / 2);
    return [255 - img.data[p], img.data[p + 1], img.data[p + 2], 255, r < 0.7 ? 255 : r < 1 ? Math.round((1 - r) / 0.3 * 255) : 0];
  });
}

function image(width: number, height: number, px: (x: number, y: number) => [number, number, number, number]): RGBAImage {
  const img = createRGBA(width, height);
  for (let y = 0; y < height; y++) for (let x = 0; x < width; x++) img.data.set(px(x, y), (y * width + x) * 4);
  return img;
}

describe('the streamed PSD is byte for byte what ag-psd writes', () => {
  test('a real photo with the engine\'s face layer (two faces)', async () => {
    const engine = await createNodeEngine({ threads: 1 });
    try {
      const original = (await decodePhoto(photo('wh_biden_obama_greenroom'))).image;
      const r = await transformDocument({ engine: localEngine(engine, 'native'), open: async () => ({ source: new MemoryPhotoSource(original) }), sink: keepLayer },
        { direction: 'male2female', strength: 1, faces: 'all', upscale: false });
      expect(r.transformed.length).toBe(2);
      const c: PsdContent = { original, originalName: 'wh_biden_obama_greenroom.jpg', faces: r.layer, facesName: r.name };
      // streamed first, from the undrawn layer (ag-psd's reference then draws it)
      const bytes = await streamed(c);
      expect(bytes.equals(agPsd(c))).toBe(true);

      // and it decodes to the photo, the faces layer over the box around both faces, and the composite
      const psd = readPsd(bytes, { useImageData: true, skipThumbnail: true });
      const [bottom, faces] = psd.children!;
      expect(Buffer.from(bottom.imageData!.data).equals(Buffer.from(original.data))).toBe(true);
      const box = r.layer.box;
      expect([faces.left, faces.top, faces.right, faces.bottom]).toEqual([box.x, box.y, box.x + box.width, box.y + box.height]);
      for (const { box: b } of r.transformed) { // each face's centre lies in the layer, which is far smaller than the photo
        expect(b.x + b.width / 2).toBeGreaterThan(box.x); expect(b.x + b.width / 2).toBeLessThan(box.x + box.width);
        expect(b.y + b.height / 2).toBeGreaterThan(box.y); expect(b.y + b.height / 2).toBeLessThan(box.y + box.height);
      }
      expect(box.width * box.height).toBeLessThan(0.3 * original.width * original.height);
      expect(Buffer.from(faces.imageData!.data).equals(Buffer.from(r.layer.rgba.data))).toBe(true);
      const mask = faces.mask!.imageData!;
      for (let i = 0; i < box.width * box.height; i++) if (mask.data[i * 4] !== r.layer.mask.data[i]) throw new Error(`mask differs at ${i}`);
      expect(Buffer.from(psd.imageData!.data).equals(Buffer.from(compositeLayer(original, r.layer).data))).toBe(true);
    } finally { await engine.dispose(); }
  });

  test('a cut-out with transparent and partly transparent pixels; overlapping patches', async () => {
    const rnd = noise(7);
    const original = image(301, 97, (x, y) => [rnd(), (x * 3) & 255, y, x < 40 ? 0 : x < 60 ? (x * 11 + y) & 255 : 255]);
    const faces = facesToLayer([
      patch(10, 5, 120, 60, (i, j) => [i, j, 200, 255, (i * 7 + j) & 255]),
      patch(90, 30, 150, 60, (i, j) => [rnd(), 50, i & 255, j % 3 ? 255 : 0, (i * 3) & 255]), // overlaps the first
      patch(260, 0, 41, 97, () => [9, 9, 9, 255, 255]),
    ]);
    const c = { original, originalName: 'cut-out.png', faces, facesName: 'FaceShift male->female' };
    expect((await streamed(c)).equals(agPsd(c))).toBe(true);
  });

  test('no face layer; names with non-ASCII characters and over 255 characters', async () => {
    const original = image(64, 48, (x, y) => [x * 4, y * 5, 128, 255]);
    for (const name of ['Café – été.jpg', 'x'.repeat(300) + '.jpg', '']) {
      const c = { original, originalName: name, faces: null, facesName: '' };
      expect((await streamed(c)).equals(agPsd(c))).toBe(true);
    }
    const faces = facesToLayer([patch(3, 4, 20, 10, () => [1, 2, 3, 255, 128])]);
    const c = { original, originalName: 'a.jpg', faces, facesName: 'FaceShift 男->女 ✓' };
    expect((await streamed(c)).equals(agPsd(c))).toBe(true);
  });

  test('runs around 128 and rows of one, two and three pixels', async () => {
    // rows made of runs of 1..131 equal values and literals of every length, in each channel
    const rnd = noise(3);
    const lengths = [1, 2, 3, 4, 126, 127, 128, 129, 130, 131, 255, 256, 257];
    const original = image(700, lengths.length * 2, (x, y) => {
      const L = lengths[y >> 1];
      const v = y & 1 ? (Math.floor(x / L) % 2 ? 200 : 17) : (x % (L + 1) < L ? rnd() : 5);
      return [v, 255 - v, x % L ? v : rnd(), 255];
    });
    const c = { original, originalName: 'runs.jpg', faces: facesToLayer([patch(0, 0, 700, 3, (i) => [i % 129 ? 1 : 2, 0, 0, 255, i % 128 ? 255 : 0])]), facesName: 'f' };
    expect((await streamed(c)).equals(agPsd(c))).toBe(true);
    for (const [w, h] of [[2, 1], [3, 2], [2, 5]]) {
      const tiny = image(w, h, (x, y) => [x * 90, y * 40, 7, 255]);
      const one = { original: tiny, originalName: 't.png', faces: facesToLayer([patch(0, 0, 1, h, () => [1, 1, 1, 255, 200])]), facesName: 'f' };
      expect((await streamed(one)).equals(agPsd(one))).toBe(true);
    }
    // One pixel wide, ag-psd's composite overflows its scratch buffer (8 bytes a pixel; 1-pixel RLE
    // rows take 4 a channel) and its file ends short. Ours is whole: it decodes to the right pixels.
    for (const h of [1, 5]) {
      const tiny = image(1, h, (x, y) => [90, y * 40, 7, 255]);
      const faces = facesToLayer([patch(0, 0, 1, h, () => [1, 1, 1, 255, 200])])!;
      const one = { original: tiny, originalName: 't.png', faces, facesName: 'f' };
      const bytes = await streamed(one);
      expect(bytes.length).toBeGreaterThan(agPsd(one).length);
      const psd = readPsd(bytes, { useImageData: true, skipThumbnail: true });
      expect([...psd.imageData!.data]).toEqual([...compositeLayer(tiny, faces).data]);
      expect([...psd.children![0].imageData!.data]).toEqual([...tiny.data]);
    }
  });

  test('wider than 30000 pixels: a PSB, with 32-bit row lengths and 64-bit section lengths', async () => {
    const rnd = noise(11);
    const original = image(30001, 3, (x) => [x & 255, rnd(), 0, 255]);
    const c = { original, originalName: 'pano.jpg', faces: facesToLayer([patch(29990, 1, 11, 2, () => [4, 5, 6, 255, 255])]), facesName: 'f' };
    const bytes = await streamed(c);
    expect(bytes.readUInt16BE(4)).toBe(2); // version 2: PSB
    expect(bytes.equals(agPsd(c))).toBe(true);
  });
});

describe('writing without holding the document', () => {
  test('the faces layer is read row by row: its whole box is never drawn', async () => {
    const original = image(400, 300, (x, y) => [x & 255, y & 255, 9, 255]);
    // faces far apart: the layer's box is most of the frame
    const layer = facesToLayer([patch(0, 0, 40, 40, () => [200, 0, 0, 255, 255]), patch(350, 250, 50, 50, () => [0, 200, 0, 255, 128])])!;
    const touched: (string | symbol)[] = [];
    const watched = new Proxy(layer, { get: (t, k, r) => { if (k === 'rgba' || k === 'mask') touched.push(k); return Reflect.get(t, k, r); } }) as FaceLayer;
    const f = path.join(tmp, 'rows.psd');
    await writePsd(f, { original, originalName: 'a', faces: watched, facesName: 'f' });
    expect(touched).toEqual([]);
    const psd = readPsd(fs.readFileSync(f), { useImageData: true, skipThumbnail: true });
    expect(Buffer.from(psd.children![1].imageData!.data).equals(Buffer.from(layer.rgba.data))).toBe(true);
    expect(Buffer.from(psd.imageData!.data).equals(Buffer.from(compositeLayer(original, layer).data))).toBe(true);
  });

  test('a cancelled write stops with CANCELLED, and writeOutput leaves neither the output nor a temporary file', async () => {
    const original = image(2000, 1200, (x, y) => [(x * y) & 255, x & 255, y & 255, 255]);
    const out = path.join(tmp, 'cancelled', 'x.psd');
    const partial = `${out}.${process.pid}.tmp`;
    // cancelled at the writer's fourth look, a few megabytes into the file
    let looks = 0, sizeThen = -1;
    const signal = { get aborted() { if (++looks < 4) return false; if (sizeThen < 0) sizeThen = fs.statSync(partial).size; return true; } };
    await expect(writeOutput(out, (t) => writePsd(t, { original, originalName: 'a', faces: null, facesName: '' }, signal), true, signal))
      .rejects.toMatchObject({ code: 'CANCELLED' });
    expect(sizeThen).toBeGreaterThan(1 << 20);
    expect(fs.readdirSync(path.dirname(out))).toEqual([]);
  });

  test('a failed write leaves an existing output as it was', async () => {
    const out = path.join(tmp, 'kept.psd');
    fs.writeFileSync(out, 'before');
    await expect(writeOutput(out, async (t) => { fs.writeFileSync(t, 'half'); throw Object.assign(new Error('disk full'), { code: 'ENOSPC' }); }, true))
      .rejects.toThrow(FaceShiftError);
    expect(fs.readFileSync(out, 'utf8')).toBe('before');
    expect(fs.readdirSync(tmp).filter((f) => f.endsWith('.tmp'))).toEqual([]);
  });
});

test('packBitsRow reads every step-th byte, as one channel of an RGBA row', () => {
  const rgba = Uint8Array.from([1, 0, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0, 2, 0, 0, 0]);
  const out = new Uint8Array(16);
  const n = packBitsRow(rgba, 0, 4, 4, out, 0);
  // three 1s as a run (header -2), then the last 2 as a one-byte literal
  expect([...out.subarray(0, n)]).toEqual([254, 1, 0, 2]);
});
