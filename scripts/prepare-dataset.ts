/**
 * Prepare UTKFace for training with the engine's own detector and alignment.
 *
 *   tsx scripts/prepare-dataset.ts detect  <dataset> [--shard i/n]   -> training/cache/keypoints[.i].jsonl
 *   tsx scripts/prepare-dataset.ts template <dataset>                -> models/templates/utkface-v1.json
 *   tsx scripts/prepare-dataset.ts pack <dataset> [--limit N]        -> training/cache/{faces128,sr192}.{u8,json}
 *   options: --cache DIR (instead of training/cache), --template FILE (instead of models/templates/utkface-v1.json),
 *            --split train|val (only that split's photos),
 *            --limit N (first N labelled photos only; smoke tests)
 *
 * The packs hold crops made by core/align.ts alignFace with the shipped template: exactly the
 * function the engine uses on a user's photo. The photos are never copied into the repository.
 */
import * as fs from 'fs';
import * as path from 'path';
import sharp from 'sharp';
import { toRGBA } from '../src/core/image';
import { warpAffine, fitSimilarity, applyAffine, Point } from '../src/core/geometry';
import { alignFace, AlignTemplate, KEYPOINT_NAMES, validateTemplate } from '../src/core/align';
import { loadNodeDetector } from '../src/runtime/detector.node';
import { nodeModelFiles, readManifest } from '../src/platform/node';
import { LabelRow as Row, PackWriter, readLabels, splitOf } from '../src/eval/dataset';

let CACHE = path.join(__dirname, '..', 'training', 'cache');
let TEMPLATE_PATH = path.join(__dirname, '..', 'models', 'templates', 'utkface-v1.json');
/** --split train|val: only that split's photos (detect, pack), e.g. a small val pack for a test. */
let SPLIT: 'train' | 'val' | undefined;
const inSplit = (r: { file: string }) => !SPLIT || splitOf(r.file) === SPLIT;
/** UTKFace crops are tight; the full-range detector needs context, so pad by half a side. */
const PAD = 0.5;

async function decode(file: string) {
  const { data, info } = await sharp(file).raw().toBuffer({ resolveWithObject: true });
  return toRGBA(data, info.width, info.height, info.channels);
}

async function detect(dataset: string, shard: [number, number], limit: number) {
  fs.mkdirSync(CACHE, { recursive: true });
  const out = path.join(CACHE, `keypoints.${shard[0]}.jsonl`);
  const done = new Set<string>();
  if (fs.existsSync(out)) for (const l of fs.readFileSync(out, 'utf8').split('\n')) if (l) done.add(JSON.parse(l).file);
  const rows = readLabels(dataset).filter(inSplit).slice(0, limit).filter((_, i) => i % shard[1] === shard[0]).filter((r) => !done.has(r.file));
  const det = await loadNodeDetector(nodeModelFiles(), readManifest());
  const fd = fs.openSync(out, 'a');
  let n = 0;
  const t0 = Date.now();
  for (const r of rows) {
    const img = await decode(path.join(dataset, 'images', r.file));
    const P = Math.round(img.width * PAD);
    const big = warpAffine(img, [1, 0, -P, 0, 1, -P], img.width + 2 * P, img.height + 2 * P);
    // one square view (UTKFace crops are 200x200), shown to the detector alone
    const [faces] = await det.detect([big]);
    // The labelled face is the one nearest the centre of the crop.
    const cx = big.width / 2, cy = big.height / 2;
    faces.sort((a, b) => Math.hypot(a.box.x + a.box.width / 2 - cx, a.box.y + a.box.height / 2 - cy)
      - Math.hypot(b.box.x + b.box.width / 2 - cx, b.box.y + b.box.height / 2 - cy));
    const f = faces[0];
    const rec = f ? { file: r.file, score: +f.score.toFixed(4), keypoints: f.keypoints.map((k) => [+(k.x - P).toFixed(2), +(k.y - P).toFixed(2)]) }
      : { file: r.file, score: 0, keypoints: null };
    fs.writeSync(fd, JSON.stringify(rec) + '\n');
    if (++n % 500 === 0) console.log(`shard ${shard[0]}: ${n}/${rows.length} (${((Date.now() - t0) / n).toFixed(1)} ms/img)`);
  }
  fs.closeSync(fd);
  det.dispose();
}

function readKeypoints(): Map<string, { score: number; keypoints: [number, number][] | null }> {
  const m = new Map();
  for (const f of fs.readdirSync(CACHE).filter((f) => /^keypoints\.\d+\.jsonl$/.test(f))) {
    for (const l of fs.readFileSync(path.join(CACHE, f), 'utf8').split('\n')) if (l) { const r = JSON.parse(l); m.set(r.file, r); }
  }
  return m;
}

/** Generalised Procrustes mean of the central keypoints, kept in UTKFace's own framing. */
function template(dataset: string, limit: number) {
  const rows = readLabels(dataset).slice(0, limit);
  const kp = readKeypoints();
  const names = ['rightEye', 'leftEye', 'noseTip', 'mouthCenter'] as const;
  const idx = names.map((n) => KEYPOINT_NAMES.indexOf(n));
  const shapes: Point[][] = [];
  let missed = 0, size = 0;
  for (const r of rows) {
    const k = kp.get(r.file);
    if (!k || !k.keypoints) { missed++; continue; }
    if (splitOf(r.file) === 'val') continue; // the template is fitted on training faces only
    shapes.push(idx.map((i) => ({ x: k.keypoints![i][0], y: k.keypoints![i][1] })));
    size = 200;
  }
  const rawMean = names.map((_, j) => ({ x: shapes.reduce((s, p) => s + p[j].x, 0) / shapes.length, y: shapes.reduce((s, p) => s + p[j].y, 0) / shapes.length }));
  let mean = rawMean;
  for (let it = 0; it < 5; it++) {
    const acc = names.map(() => ({ x: 0, y: 0 }));
    for (const s of shapes) {
      const m = fitSimilarity(s, mean);
      s.forEach((p, j) => { const q = applyAffine(m, p); acc[j].x += q.x; acc[j].y += q.y; });
    }
    const next = acc.map((p) => ({ x: p.x / shapes.length, y: p.y / shapes.length }));
    // keep the raw mean's position and scale, so the crop frames faces as UTKFace does
    const back = fitSimilarity(next, rawMean);
    mean = next.map((p) => applyAffine(back, p));
  }
  const t: AlignTemplate = {
    id: 'utkface-v1',
    keypoints: [...names],
    points: mean.map((p) => [+(p.x / size).toFixed(5), +(p.y / size).toFixed(5)] as [number, number]),
    weights: [1, 1, 0.5, 1],
    derivedFrom: {
      dataset: 'UTKFace (../shared/datasets/utkface), training split',
      detector: 'MediaPipe full-range face detector (models/detector), image padded by half a side with edge pixels',
      method: 'generalised Procrustes mean of eyes, nose tip and mouth centre, in the 200x200 UTKFace frame',
      images: rows.length, detected: rows.length - missed, missed, fittedOn: shapes.length,
    },
  };
  validateTemplate(t);
  fs.writeFileSync(TEMPLATE_PATH, JSON.stringify(t, null, 2) + '\n');
  console.log(JSON.stringify(t, null, 2));
}

async function pack(dataset: string, limit: number) {
  const t = validateTemplate(JSON.parse(fs.readFileSync(TEMPLATE_PATH, 'utf8')));
  const kp = readKeypoints();
  const rows = readLabels(dataset).filter(inSplit).slice(0, limit).filter((r) => kp.get(r.file)?.keypoints);
  const specs = [
    { name: 'faces128', size: 128, keep: (_r: Row) => true },
    // super-resolution targets: the sharper colour faces (median sharpness is about 105)
    { name: 'sr192', size: 192, keep: (r: Row) => r.sharpness >= 150 && !r.grayscale },
  ];
  for (const s of specs) {
    const sel = rows.filter(s.keep);
    if (!sel.length) throw new Error(`No photos qualify for the ${s.name} pack.`);
    const pack = new PackWriter(CACHE, s.name, s.size);
    for (const r of sel) {
      const img = await decode(path.join(dataset, 'images', r.file));
      const k = kp.get(r.file)!.keypoints!.map(([x, y]) => ({ x, y }));
      pack.add(alignFace(img, k, t, s.size).image);
    }
    pack.close(sel.map((r) => ({ file: r.file, age: r.age, gender: r.gender, race: r.race, grayscale: r.grayscale, sharpness: r.sharpness, split: splitOf(r.file) })), t.id);
    console.log(`${s.name}: ${sel.length} crops of ${s.size}px`);
  }
}

async function main() {
  const [cmd, dataset] = process.argv.slice(2);
  if (!cmd || !dataset) { console.error('usage: prepare-dataset.ts detect|template|pack <dataset> [--shard i/n] [--limit N]'); process.exit(2); }
  const arg = (k: string) => { const i = process.argv.indexOf(k); return i > 0 ? process.argv[i + 1] : undefined; };
  if (arg('--cache')) CACHE = path.resolve(arg('--cache')!);
  if (arg('--template')) TEMPLATE_PATH = path.resolve(arg('--template')!);
  if (arg('--split')) SPLIT = arg('--split') === 'val' ? 'val' : 'train';
  const limit = Number(arg('--limit') ?? Infinity);
  if (cmd === 'detect') { const s = (arg('--shard') ?? '0/1').split('/').map(Number); await detect(dataset, [s[0], s[1]], limit); }
  else if (cmd === 'template') template(dataset, limit);
  else if (cmd === 'pack') await pack(dataset, limit);
  else { console.error(`unknown command ${cmd}`); process.exit(2); }
}
if (require.main === module) main().catch((e) => { console.error(e); process.exit(1); });
