/**
 * Before/after pictures for the README and the model card, made with the shipped models on the
 * licensed test photos (../shared/photos; never UTKFace photos, which may not be committed):
 *   npx tsx scripts/gallery.ts   -> docs/before-after.png, docs/gallery.png, docs/gallery-race.png
 */
import * as path from 'path';
import sharp from 'sharp';
import { createNodeEngine } from '../src/platform/node';
import { decodePhoto, MemoryPhotoSource } from '../src/cli/photo';
import { compositeLayer } from '../src/core/layer';
import { localEngine } from '../src/app/engine-port';
import { keepLayer, transformDocument } from '../src/app/transform';
import type { RGBAImage } from '../src/core/image';

const ROOT = path.join(__dirname, '..');
const SHARED = process.env.FACESHIFT_SHARED ?? path.join(ROOT, '..', 'shared');
const png = (img: RGBAImage) => sharp(Buffer.from(img.data.buffer, img.data.byteOffset, img.data.byteLength), { raw: { width: img.width, height: img.height, channels: 4 } });

async function pair(engine: Awaited<ReturnType<typeof createNodeEngine>>, file: string, direction: string, crop?: { left: number; top: number; width: number; height: number }, h = 320) {
  const { image } = await decodePhoto(file);
  const r = await transformDocument({ engine: localEngine(engine, 'native'), open: async () => ({ source: new MemoryPhotoSource(image) }), sink: keepLayer },
    { direction, strength: 1, faces: 'all', upscale: true });
  const after = compositeLayer(image, r.written);
  const c = crop ?? { left: 0, top: 0, width: image.width, height: image.height };
  const tile = async (img: RGBAImage) => png(img).extract(c).resize({ height: h }).png().toBuffer();
  const [a, b] = await Promise.all([tile(image), tile(after)]);
  const w = (await sharp(a).metadata()).width!;
  return { w, h, a, b };
}

/** Rows of before | after, 10 px apart. */
async function sheet(rows: { w: number; h: number; a: Buffer; b: Buffer }[], file: string) {
  const W = Math.max(...rows.map((r) => r.w)) * 2 + 10;
  const H = rows.length * 330;
  const composites: { input: Buffer; left: number; top: number }[] = [];
  rows.forEach((r, i) => { composites.push({ input: r.a, left: 0, top: i * 330 }, { input: r.b, left: r.w + 10, top: i * 330 }); });
  await sharp({ create: { width: W, height: H, channels: 3, background: '#ffffff' } }).composite(composites).png().toFile(file);
}

async function main() {
  const engine = await createNodeEngine();
  const p = (f: string) => path.join(SHARED, 'photos', f);
  // README: the bundled sample (a woman) female->male, and a man male->female
  const rows = [
    await pair(engine, path.join(ROOT, 'assets', 'sample.jpg'), 'female2male', { left: 120, top: 20, width: 220, height: 220 }),
    await pair(engine, p('ccby_chris_pratt.jpeg'), 'male2female', { left: 80, top: 100, width: 360, height: 360 }),
    await pair(engine, p('wh_obama_official_2012.jpg'), 'male2female', { left: 300, top: 60, width: 400, height: 400 }),
    await pair(engine, p('cc0_codait_luciano.png'), 'male2female', { left: 90, top: 40, width: 220, height: 220 }),
  ];
  await sheet(rows, path.join(ROOT, 'docs', 'gallery.png'));
  // the race pairs (colour matching off, as their manifest entries say); the only East Asian
  // faces among the test photos are in a black-and-white scan, so asian->white is shown there
  const race = [
    await pair(engine, p('ccby_chris_pratt.jpeg'), 'white2black', { left: 80, top: 100, width: 360, height: 360 }),
    await pair(engine, p('ccby_chris_pratt.jpeg'), 'white2asian', { left: 80, top: 100, width: 360, height: 360 }),
    await pair(engine, p('wh_obama_official_2012.jpg'), 'black2white', { left: 300, top: 60, width: 400, height: 400 }),
    await pair(engine, p('nasa_astronaut_collins.png'), 'white2black', { left: 150, top: 60, width: 220, height: 220 }),
    await pair(engine, p('nasa_astronaut_collins.png'), 'white2asian', { left: 150, top: 60, width: 220, height: 220 }),
    await pair(engine, p('loc_chinatown_fishmonger.jpg'), 'asian2white', { left: 1010, top: 230, width: 360, height: 360 }),
  ];
  await sheet(race, path.join(ROOT, 'docs', 'gallery-race.png'));
  const first = rows[0];
  await sharp({ create: { width: first.w * 2 + 10, height: first.h, channels: 3, background: '#ffffff' } })
    .composite([{ input: first.a, left: 0, top: 0 }, { input: first.b, left: first.w + 10, top: 0 }]).png().toFile(path.join(ROOT, 'docs', 'before-after.png'));
  await engine.dispose();
  console.log('docs/before-after.png, docs/gallery.png, docs/gallery-race.png written');
}
main().catch((e) => { console.error(e); process.exit(1); });
