/**
 * The models judged on what the user gets: the composited photo.
 *
 *   npx tsx scripts/eval-composite.ts [--models models] [--limit 100] [--scales 1,3] [--paste detail,replace]
 *                                     [--directions male2female,...] [--out docs/eval-composite.json]
 *
 * For each direction, validation photos of the source domain (UTKFace val split: adults, colour;
 * never trained on) go through the whole pipeline as the command line runs it: detect, align,
 * transform, upscale, paste, composite; at their own size (200 px) and enlarged 3x (Lanczos), so
 * faces are portrait-sized. The composited photo is then cut to the judges' framing (the template's
 * aligned crop, as the judges were validated on) and judged:
 *   - gender: a flip counts where BOTH GEAR and FaceRes' gender head call the target (GEAR alone
 *     leans "male"); race: GEAR's argmax, with its recall on real target-domain val faces as the ceiling;
 *   - identity: FaceRes descriptor cosine, composite vs photo;
 * each beside the no-op (the unchanged photo, judged the same way). Judges' nets are evaluation only.
 */
import * as fs from 'fs';
import * as path from 'path';
import * as crypto from 'crypto';
import sharp from 'sharp';
import { Command } from 'commander';
import { createNodeEngine } from '../src/platform/node';
import { decodePhoto, MemoryPhotoSource } from '../src/cli/photo';
import { facesToLayer, compositeLayer } from '../src/core/layer';
import { alignFace } from '../src/core/align';
import { cosineSimilarity, quantile, mean } from '../src/core/metrics';
import { TransformModel, listDirections } from '../src/models/manifest';
import type { RGBAImage } from '../src/core/image';
import type { DetectedFace } from '../src/core/faces';
import {
  Judges, PackItem, Rate, Verdict, adultColour, domainOf, isDomain, isDomainCross, pct, rate, rateStr, table, r4,
} from './eval';
import { readLabels, splitOf } from './prepare-dataset';

const ROOT = path.resolve(__dirname, '..');

export interface CompositeResult {
  direction: string; model: string; scale: number; paste: string; n: number; missed: number;
  flip: Rate; flipNoOp: Rate; realTarget: Rate; judge: string;
  identityMedian: number; identityMean: number; seconds: number;
}

/** UTKFace's labels (scripts/prepare-dataset.ts reads them) with its split (5 % of files by hash are val). */
export function labelsWithSplit(dataset: string): PackItem[] {
  return readLabels(dataset).map((r) => ({ ...r, split: splitOf(r.file) }));
}

/** Val items of a domain in a fixed order that does not follow the file list's (file names start with the age). */
export function valItems(items: PackItem[], keep: (it: PackItem) => boolean, limit: number): PackItem[] {
  const key = (it: PackItem) => crypto.createHash('sha1').update('eval:' + it.file).digest('hex');
  return items.filter((it) => it.split === 'val' && keep(it)).map((it) => ({ it, k: key(it) }))
    .sort((a, b) => (a.k < b.k ? -1 : 1)).slice(0, limit).map((x) => x.it);
}

/** The flip verdict: gender needs both judges, race takes GEAR. */
function flipped(v: Verdict, target: string): boolean {
  const cross = isDomainCross(v, target);
  return cross === null ? isDomain(v, target) : isDomain(v, target) && cross;
}

async function loadPhoto(file: string, scale: number): Promise<RGBAImage> {
  if (scale === 1) return (await decodePhoto(file)).image;
  const meta = await sharp(file).metadata();
  const { data, info } = await sharp(file).resize(Math.round(meta.width! * scale), Math.round(meta.height! * scale), { kernel: 'lanczos3' })
    .ensureAlpha().raw().toBuffer({ resolveWithObject: true });
  return { width: info.width, height: info.height, data: new Uint8ClampedArray(data.buffer, data.byteOffset, data.byteLength) };
}

export async function evaluateComposites(o: {
  models: string; dataset: string; limit: number; scales: number[]; pastes: ('detail' | 'replace')[];
  directions?: string[]; strength?: number; log?: (s: string) => void;
}): Promise<CompositeResult[]> {
  const log = o.log ?? ((s: string) => console.error(s));
  const engine = await createNodeEngine({ modelsDir: o.models, threads: 1 });
  const judges = await Judges.load();
  const labels = labelsWithSplit(o.dataset);
  /** The face nearest the photo's centre (UTKFace photos are centred on their labelled face), or none. */
  const findFace = async (photo: RGBAImage) => {
    const found = await engine.detect(new MemoryPhotoSource(photo));
    const cx = photo.width / 2, cy = photo.height / 2;
    const dist = (f: DetectedFace) => Math.hypot(f.box.x + f.box.width / 2 - cx, f.box.y + f.box.height / 2 - cy);
    return found.sort((a, b) => dist(a) - dist(b))[0] as DetectedFace | undefined;
  };
  const frame = (img: RGBAImage, face: DetectedFace) => alignFace(img, face.keypoints, engine.template, 128).image;
  const directions = o.directions ?? listDirections(engine.manifest).map((d) => d.direction);
  const results: CompositeResult[] = [];
  const realCache = new Map<string, Verdict[]>();
  const real = async (domain: string) => {
    if (!realCache.has(domain)) {
      const d = domainOf(domain);
      const crops: RGBAImage[] = [];
      for (const it of valItems(labels, (x) => adultColour(x) && x[d.attribute] === d.value, o.limit)) {
        const photo = await loadPhoto(path.join(o.dataset, 'images', it.file), 1);
        const face = await findFace(photo);
        if (face) crops.push(frame(photo, face));
      }
      realCache.set(domain, await judges.judge(crops));
    }
    return realCache.get(domain)!;
  };
  for (const direction of directions) {
    const model = engine.manifest.models.find((m): m is TransformModel => m.task === 'transform' && m.direction === direction)!;
    const src = domainOf(model.source);
    const items = valItems(labels, (it) => adultColour(it) && it[src.attribute] === src.value, o.limit);
    const realVerdicts = await real(model.target);
    for (const scale of o.scales) {
      const t0 = Date.now();
      const before: RGBAImage[] = [];
      const after: Record<string, RGBAImage[]> = Object.fromEntries(o.pastes.map((p) => [p, []]));
      let missed = 0;
      for (const it of items) {
        const photo = await loadPhoto(path.join(o.dataset, 'images', it.file), scale);
        const source = new MemoryPhotoSource(photo);
        const face = await findFace(photo);
        if (!face) { missed++; continue; }
        before.push(frame(photo, face));
        for (const paste of o.pastes) {
          const r = await engine.run(source, { direction, paste, strength: o.strength ?? 1 }, [face]);
          const layer = facesToLayer(r.faces.map((f) => f.patch));
          after[paste].push(frame(layer ? compositeLayer(photo, layer) : photo, face));
        }
      }
      const vb = await judges.judge(before);
      for (const paste of o.pastes) {
        const va = await judges.judge(after[paste]);
        const sims = va.map((v, i) => cosineSimilarity(v.descriptor, vb[i].descriptor));
        const gender = src.attribute === 'gender';
        const res: CompositeResult = {
          direction, model: model.id, scale, paste, n: va.length, missed,
          flip: rate(va.map((v) => flipped(v, model.target))), flipNoOp: rate(vb.map((v) => flipped(v, model.target))),
          realTarget: rate(realVerdicts.map((v) => flipped(v, model.target))),
          judge: gender ? 'GEAR and FaceRes agree' : 'GEAR',
          identityMedian: r4(quantile(sims, 0.5)), identityMean: r4(mean(sims)), seconds: Math.round((Date.now() - t0) / 1000),
        };
        results.push(res);
        log(`${direction} x${scale} ${paste}: flip ${rateStr(res.flip)} (no-op ${pct(res.flipNoOp.rate)}, real ${pct(res.realTarget.rate)}), identity median ${res.identityMedian}, n ${res.n}, missed ${missed}, ${res.seconds} s`);
      }
    }
  }
  await engine.dispose();
  return results;
}

export function compositeTable(rs: CompositeResult[]): string {
  return table([
    ['direction', 'size', 'paste', 'n', 'flip', 'no-op', 'real target', 'x0.9 real', 'identity (median)', 'judge'],
    ...rs.map((r) => [r.direction, `x${r.scale}`, r.paste, String(r.n), rateStr(r.flip), pct(r.flipNoOp.rate), pct(r.realTarget.rate),
      pct(0.9 * r.realTarget.rate), r.identityMedian.toFixed(3), r.judge]),
  ]);
}

async function main() {
  const o = new Command()
    .option('--models <dir>', 'models folder', path.join(ROOT, 'models'))
    .option('--dataset <dir>', 'UTKFace folder', path.join(ROOT, '..', 'shared', 'datasets', 'utkface'))
    .option('--limit <n>', 'faces per direction', '100')
    .option('--scales <list>', 'photo scales', '1,3')
    .option('--paste <list>', 'paste-back modes', 'detail,replace')
    .option('--strength <k>', 'strength', '1')
    .option('--directions <list>', 'directions (default: every one in the manifest)')
    .option('--out <file>', 'JSON report')
    .parse().opts();
  const results = await evaluateComposites({
    models: o.models, dataset: o.dataset, limit: +o.limit, scales: o.scales.split(',').map(Number),
    pastes: o.paste.split(','), directions: o.directions?.split(','), strength: +o.strength,
  });
  console.log(compositeTable(results));
  if (o.out) {
    fs.mkdirSync(path.dirname(path.resolve(o.out)), { recursive: true });
    fs.writeFileSync(o.out, JSON.stringify({ date: new Date().toISOString().slice(0, 10), models: path.relative(ROOT, path.resolve(o.models)), results }, null, 2) + '\n');
  }
}
if (require.main === module) main().catch((e) => { console.error(`eval-composite: ${(e as Error).message}`); process.exit(1); });
