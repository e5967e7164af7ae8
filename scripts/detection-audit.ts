/**
 * Detection audit: the numbers behind issue 12 items 6, 7 and 9.
 *
 *   tsx scripts/detection-audit.ts [--tight N] [--crops N] [--json]
 *
 * - tight: N validation-split UTKFace crops (200x200, the face fills the frame): how many get a face
 * - negatives: the no-face shared photos plus N random crops of them: faces found (should be 0)
 * - photos: faces found on every shared photo with a face, against the hand count
 */
import * as fs from 'fs';
import * as path from 'path';
import sharp from 'sharp';
import { createNodeEngine } from '../src/platform/node';
import { MemoryPhotoSource, decodePhoto } from '../src/cli/photo';
import { cropRGBA, toRGBA } from '../src/core/image';
import { splitOf } from '../src/eval/dataset';

const SHARED = process.env.FACESHIFT_SHARED ?? path.resolve(__dirname, '..', '..', 'shared');
const arg = (k: string, d: number) => { const i = process.argv.indexOf(k); return i > 0 ? Number(process.argv[i + 1]) : d; };

/** A deterministic pseudo-random sequence (mulberry32), so every run looks at the same crops. */
export function rng(seed: number) {
  return () => { seed |= 0; seed = (seed + 0x6d2b79f5) | 0; let t = Math.imul(seed ^ (seed >>> 15), 1 | seed); t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t; return ((t ^ (t >>> 14)) >>> 0) / 4294967296; };
}

async function main() {
  const engine = await createNodeEngine();
  const out: Record<string, unknown> = {};
  const nTight = arg('--tight', 100), nCrops = arg('--crops', 300);
  if (nTight > 0) {
    const dir = path.join(SHARED, 'datasets', 'utkface', 'images');
    const val = fs.readdirSync(dir).sort().filter((f) => splitOf(f) === 'val');
    const step = val.length / nTight;
    const pick = Array.from({ length: nTight }, (_, i) => val[Math.floor(i * step)]);
    let found = 0; const missed: string[] = [];
    for (const f of pick) {
      const { data, info } = await sharp(path.join(dir, f)).raw().toBuffer({ resolveWithObject: true });
      const faces = await engine.detect(new MemoryPhotoSource(toRGBA(data, info.width, info.height, info.channels)));
      if (faces.length) found++; else missed.push(f);
    }
    out.tight = { sampled: pick.length, of: val.length, found, missed };
    console.error(JSON.stringify(out.tight));
  }
  const rows = fs.readFileSync(path.join(SHARED, 'photos', 'photos.csv'), 'utf8').trim().split('\n').slice(1)
    .map((l) => { const c = l.split(','); return { id: c[0], file: c[1], faces: +c[4] }; });
  const negs = rows.filter((r) => r.id.startsWith('neg_'));
  const rand = rng(12);
  let negFaces = 0, cropFaces = 0; const falses: string[] = [];
  for (const r of negs) {
    const img = (await decodePhoto(path.join(SHARED, 'photos', r.file))).image;
    const n = (await engine.detect(new MemoryPhotoSource(img))).length;
    negFaces += n; if (n) falses.push(`${r.id}: ${n}`);
    for (let k = 0; k < Math.ceil(nCrops / negs.length); k++) {
      const side = Math.round(Math.min(img.width, img.height) * (0.1 + 0.6 * rand()));
      const x = Math.floor(rand() * (img.width - side)), y = Math.floor(rand() * (img.height - side));
      const crop = cropRGBA(img, x, y, side, side);
      const m = (await engine.detect(new MemoryPhotoSource(crop))).length;
      cropFaces += m; if (m) falses.push(`${r.id} crop ${x},${y},${side}: ${m}`);
    }
  }
  out.negatives = { photos: negs.length, faces: negFaces, crops: Math.ceil(nCrops / negs.length) * negs.length, cropFaces, falses };
  console.error(JSON.stringify(out.negatives));
  const counts: Record<string, string> = {};
  for (const r of rows.filter((r) => !r.id.startsWith('neg_'))) {
    const img = (await decodePhoto(path.join(SHARED, 'photos', r.file))).image;
    counts[r.id] = `${(await engine.detect(new MemoryPhotoSource(img))).length}/${r.faces}`;
  }
  out.photos = counts;
  console.error(JSON.stringify(counts));
  await engine.dispose();
  if (process.argv.includes('--json')) console.log(JSON.stringify(out, null, 2));
}

if (require.main === module) main().catch((e) => { console.error(e); process.exit(1); });
