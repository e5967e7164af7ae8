/**
 * The command line's output for the bundled sample matches the golden output: the CLI really runs
 * on assets/sample.jpg, and each written file is decoded and compared with the reference pixels in
 * test/cli/golden/ (the composite; for a PSD also every layer, its mask and the layer structure).
 * A picture the size of the photo is kept as the part that differs from the photo (its box is in
 * sample-golden.json): outside it the output must be the photo itself.
 *
 * Not a byte comparison: onnxruntime picks its CPU kernels by instruction set (AVX2, AVX-512 ...),
 * so the same code writes files that differ in a few pixels by 1/255 from one processor to the next
 * (CI on 2026-12-02: all four sha256 differed from the ones captured on an earlier machine). The
 * tolerance admits that and little more: every channel within 2/255 and at most 0.5 % of the
 * pixels different at all (a strength of 0.9 instead of 1 fails it; a change of a few pixels by
 * 1/255 would not). The sha256 of each file is still recorded in
 * sample-golden.json, for a same-machine byte check by hand.
 *
 * Regenerate only for a deliberate change of the output:
 *   FACESHIFT_UPDATE_GOLDEN=1 npx jest test/cli/sample-golden.test.ts
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import * as crypto from 'crypto';
import sharp from 'sharp';
import { readPsd, initializeCanvas } from 'ag-psd';
import { main, EXIT } from '../../src/cli/main';
import { decodePhoto } from '../../src/cli/photo';

const ROOT = path.resolve(__dirname, '..', '..');
const SAMPLE = path.join(ROOT, 'assets', 'sample.jpg');
const GOLDEN = path.join(__dirname, 'sample-golden.json');
const REFERENCE = path.join(__dirname, 'golden');
const UPDATE = process.env.FACESHIFT_UPDATE_GOLDEN === '1';
/** Largest difference of one channel, in 1/255, and the share of pixels that may differ at all. */
const MAX_CHANNEL_DIFF = 2;
const MAX_DIFFERENT_SHARE = 0.005;

initializeCanvas(() => { throw new Error('no canvas in tests'); },
  (width: number, height: number) => ({ width, height, data: new Uint8ClampedArray(width * height * 4), colorSpace: 'srgb' }) as unknown as ImageData);

interface Case { name: string; args: string[]; sha256: string; layers?: LayerShape[]; pictures?: string[]; changed?: Record<string, Box | null> }
interface Box { x: number; y: number; width: number; height: number }
interface LayerShape { name: string; left: number; top: number; right: number; bottom: number; mask: boolean }
const golden = JSON.parse(fs.readFileSync(GOLDEN, 'utf8')) as { about: string; cases: Case[] };

/** An RGBA picture by name: the composite, or a PSD layer's pixels or mask. */
interface Picture { key: string; width: number; height: number; rgba: Uint8Array }

let tmp: string;
let photo: Picture;
beforeAll(async () => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'faceshift-golden-'));
  const { image } = await decodePhoto(SAMPLE);
  photo = { key: 'photo', width: image.width, height: image.height, rgba: Uint8Array.from(image.data) };
});
afterAll(() => { fs.rmSync(tmp, { recursive: true, force: true }); });

async function quietly(argv: string[]): Promise<number> {
  const out = process.stdout.write.bind(process.stdout), err = process.stderr.write.bind(process.stderr);
  (process.stdout as unknown as { write: unknown }).write = () => true;
  (process.stderr as unknown as { write: unknown }).write = () => true;
  try { return await main(argv); } finally {
    (process.stdout as unknown as { write: unknown }).write = out;
    (process.stderr as unknown as { write: unknown }).write = err;
  }
}

function rgbaOf(img: { width: number; height: number; data: ArrayLike<number> }): Uint8Array {
  return Uint8Array.from(img.data as ArrayLike<number>);
}

/** What the file shows: its pictures and, for a PSD, the layer structure. */
async function decode(file: string): Promise<{ pictures: Picture[]; layers?: LayerShape[] }> {
  if (file.endsWith('.psd')) {
    const psd = readPsd(fs.readFileSync(file), { useImageData: true, skipThumbnail: true });
    const pictures: Picture[] = [{ key: 'composite', width: psd.width, height: psd.height, rgba: rgbaOf(psd.imageData!) }];
    const layers: LayerShape[] = [];
    (psd.children ?? []).forEach((l, i) => {
      layers.push({ name: l.name ?? '', left: l.left ?? 0, top: l.top ?? 0, right: l.right ?? 0, bottom: l.bottom ?? 0, mask: !!l.mask });
      if (l.imageData) pictures.push({ key: `layer${i}`, width: l.imageData.width, height: l.imageData.height, rgba: rgbaOf(l.imageData) });
      if (l.mask?.imageData) pictures.push({ key: `layer${i}-mask`, width: l.mask.imageData.width, height: l.mask.imageData.height, rgba: rgbaOf(l.mask.imageData) });
    });
    return { pictures, layers };
  }
  return { pictures: [await readPng(file, 'composite')] };
}

function referenceFile(c: Case, key: string): string {
  return path.join(REFERENCE, `${c.name.replace(/\.[a-z]+$/, '')}.${key}.png`);
}

const fullSize = (p: Picture) => p.width === photo.width && p.height === photo.height;

/** The box of the pixels where a full-size picture differs from the photo (null: nowhere). */
function changedBox(p: Picture): Box | null {
  let x0 = p.width, y0 = p.height, x1 = -1, y1 = -1;
  for (let y = 0; y < p.height; y++) for (let x = 0; x < p.width; x++) {
    const i = (y * p.width + x) * 4;
    if (p.rgba[i] !== photo.rgba[i] || p.rgba[i + 1] !== photo.rgba[i + 1] || p.rgba[i + 2] !== photo.rgba[i + 2] || p.rgba[i + 3] !== photo.rgba[i + 3]) {
      x0 = Math.min(x0, x); x1 = Math.max(x1, x); y0 = Math.min(y0, y); y1 = Math.max(y1, y);
    }
  }
  return x1 < 0 ? null : { x: x0, y: y0, width: x1 - x0 + 1, height: y1 - y0 + 1 };
}

function crop(p: Picture, b: Box): Picture {
  const rgba = new Uint8Array(b.width * b.height * 4);
  for (let y = 0; y < b.height; y++) rgba.set(p.rgba.subarray(((b.y + y) * p.width + b.x) * 4, ((b.y + y) * p.width + b.x + b.width) * 4), y * b.width * 4);
  return { key: p.key, width: b.width, height: b.height, rgba };
}

async function readPng(file: string, key = path.basename(file)): Promise<Picture> {
  const { data, info } = await sharp(file).ensureAlpha().raw().toBuffer({ resolveWithObject: true });
  return { key, width: info.width, height: info.height, rgba: new Uint8Array(data) };
}

async function writePng(p: Picture, file: string): Promise<void> {
  await sharp(Buffer.from(p.rgba), { raw: { width: p.width, height: p.height, channels: 4 } }).png({ compressionLevel: 9 }).toFile(file);
}

/** What the picture should be: the stored one, or for a full-size one the photo with its stored changed part. */
async function expected(c: Case, p: Picture): Promise<Picture> {
  if (!fullSize(p)) return readPng(referenceFile(c, p.key));
  const rgba = Uint8Array.from(photo.rgba);
  const box = c.changed?.[p.key];
  if (box) {
    const part = await readPng(referenceFile(c, p.key));
    for (let y = 0; y < box.height; y++) rgba.set(part.rgba.subarray(y * box.width * 4, (y + 1) * box.width * 4), ((box.y + y) * photo.width + box.x) * 4);
  }
  return { key: p.key, width: photo.width, height: photo.height, rgba };
}

async function capture(c: Case, pictures: Picture[]): Promise<void> {
  fs.mkdirSync(REFERENCE, { recursive: true });
  const stem = c.name.replace(/\.[a-z]+$/, '') + '.';
  for (const f of fs.readdirSync(REFERENCE)) if (f.startsWith(stem)) fs.rmSync(path.join(REFERENCE, f));
  c.changed = {};
  for (const p of pictures) {
    if (!fullSize(p)) { await writePng(p, referenceFile(c, p.key)); continue; }
    const box = changedBox(p);
    c.changed[p.key] = box;
    if (box) await writePng(crop(p, box), referenceFile(c, p.key));
  }
}

/** Largest channel difference and the share of pixels with any difference. */
function difference(a: Uint8Array, b: Uint8Array): { max: number; share: number } {
  let max = 0, different = 0;
  for (let i = 0; i < a.length; i += 4) {
    let d = 0;
    for (let k = 0; k < 4; k++) d = Math.max(d, Math.abs(a[i + k] - b[i + k]));
    if (d > 0) different++;
    if (d > max) max = d;
  }
  return { max, share: different / (a.length / 4) };
}

describe('the CLI on the bundled sample', () => {
  test.each(golden.cases.map((c) => [c.name, c] as const))('%s matches the golden output', async (_name, c) => {
    const out = path.join(tmp, c.name);
    const code = await quietly(['node', 'faceshift', SAMPLE, ...c.args, '--out', out]);
    expect(code).toBe(EXIT.OK);
    const { pictures, layers } = await decode(out);
    if (UPDATE) {
      await capture(c, pictures);
      c.sha256 = crypto.createHash('sha256').update(fs.readFileSync(out)).digest('hex');
      c.pictures = pictures.map((p) => p.key);
      if (layers) c.layers = layers; else delete c.layers;
      fs.writeFileSync(GOLDEN, JSON.stringify(golden, null, 2) + '\n');
    }
    expect(layers).toEqual(c.layers);
    expect(pictures.map((p) => p.key)).toEqual(c.pictures);
    for (const p of pictures) {
      const ref = await expected(c, p);
      expect([p.key, p.width, p.height]).toEqual([p.key, ref.width, ref.height]);
      const d = difference(p.rgba, ref.rgba);
      expect({ picture: p.key, withinTolerance: d.max <= MAX_CHANNEL_DIFF && d.share <= MAX_DIFFERENT_SHARE, ...d })
        .toMatchObject({ picture: p.key, withinTolerance: true });
    }
  });
});
