/**
 * The models judged on what the user gets: the composited photo.
 *
 *   npx tsx scripts/eval-composite.ts [--models models] [--limit 100] [--scales 1,3] [--paste detail,replace]
 *                                     [--directions male2female,...] [--out docs/eval-composite.json] [--per-photo]
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
import sharp from 'sharp';
import { Command } from 'commander';
import { createNodeEngine } from '../src/platform/node';
import { decodePhoto, MemoryPhotoSource } from '../src/cli/photo';
import { facesToLayer, compositeLayer } from '../src/core/layer';
import { alignFace } from '../src/core/align';
import { cosineSimilarity, quantile, mean, seamStep } from '../src/core/metrics';
import { cropRGBA } from '../src/core/image';
import { ColorPolicy, isColorPolicy } from '../src/core/color';
import { TransformModel, listDirections } from '../src/models/manifest';
import type { RGBAImage } from '../src/core/image';
import type { DetectedFace } from '../src/core/faces';
import { evalItems, labelsWithSplit } from '../src/eval/dataset';
import { adultColour, domainOf } from '../src/eval/domains';
import { Judges, Verdict, flipped, isDomain, isDomainCross } from '../src/eval/judges';
import { Paired, PhotoVerdict, Rate, pairedFlips, pct, r4, rate, rateStr, table } from '../src/eval/stats';

const ROOT = path.resolve(__dirname, '..');

export interface CompositeResult {
  direction: string; model: string; scale: number; paste: string;
  /** The colour policy used ('model' when the manifest's own). */
  color: string; split: 'train' | 'val'; n: number; missed: number;
  flip: Rate; flipNoOp: Rate; realTarget: Rate; judge: string;
  identityMedian: number; identityMean: number;
  /** Median colour step the paste adds at the mask's edge (metrics.seamStep, Delta E). */
  seamMedian: number; seconds: number;
  /** Gender only: each judge's own rate of calling the composite the target (GEAR, FaceRes' gender head). */
  byJudge?: { gear: Rate; faceres: Rate };
  /** Per photo (UTKFace file name, in order): flipped or not, for paired comparisons of models and pastes on the same photos. */
  photos?: PhotoVerdict[];
}

async function loadPhoto(file: string, scale: number): Promise<RGBAImage> {
  if (scale === 1) return (await decodePhoto(file)).image;
  const meta = await sharp(file).metadata();
  const { data, info } = await sharp(file).resize(Math.round(meta.width! * scale), Math.round(meta.height! * scale), { kernel: 'lanczos3' })
    .ensureAlpha().raw().toBuffer({ resolveWithObject: true });
  return { width: info.width, height: info.height, data: new Uint8ClampedArray(data.buffer, data.byteOffset, data.byteLength) };
}

export async function evaluateComposites(o: {
  models: string; dataset: string; limit: number; scales: number[]; pastes: string[];
  directions?: string[]; strength?: number; log?: (s: string) => void;
  /** Colour policies to compare (default: the manifest's per model). */
  colors?: (ColorPolicy | 'model')[];
  /** Which photos: 'val' (default; never trained on) or 'train' (for choices that must not look at val). */
  split?: 'train' | 'val';
  /** Record each photo's verdict in the results (for paired comparisons). */
  perPhoto?: boolean;
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
      for (const it of evalItems(labels, (x) => adultColour(x) && x[d.attribute] === d.value, o.limit)) {
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
    const split = o.split ?? 'val';
    const items = evalItems(labels, (it) => adultColour(it) && it[src.attribute] === src.value, o.limit, split);
    // a paste mode, or detail:<photoDetail> (e.g. detail:0.7) to compare how much of the photo's detail is kept
    const variants = o.pastes.flatMap((paste) => (o.colors ?? ['model' as const]).map((color) => ({ paste, color, key: `${paste}/${color}` })));
    const realVerdicts = await real(model.target);
    for (const scale of o.scales) {
      const t0 = Date.now();
      const before: RGBAImage[] = [];
      const after: Record<string, RGBAImage[]> = Object.fromEntries(variants.map((v) => [v.key, []]));
      const seams: Record<string, number[]> = Object.fromEntries(variants.map((v) => [v.key, []]));
      let missed = 0;
      const files: string[] = [];
      for (const it of items) {
        const photo = await loadPhoto(path.join(o.dataset, 'images', it.file), scale);
        const source = new MemoryPhotoSource(photo);
        const face = await findFace(photo);
        if (!face) { missed++; continue; }
        before.push(frame(photo, face));
        files.push(it.file);
        for (const { paste, color, key } of variants) {
          const [mode, detail] = paste.split(':');
          if (mode !== 'detail' && mode !== 'replace') throw new Error(`unknown paste mode "${paste}" (detail, replace or detail:<0..1>)`);
          const r = await engine.run(source, {
            direction, paste: mode, strength: o.strength ?? 1, ...(color === 'model' ? {} : { colorPolicy: color }),
            ...(detail !== undefined ? { photoDetail: Number(detail) } : {}),
          }, [face]);
          const layer = facesToLayer(r.faces.map((f) => f.patch));
          after[key].push(frame(layer ? compositeLayer(photo, layer) : photo, face));
          for (const { patch: { box, rgba, mask } } of r.faces) seams[key].push(seamStep(rgba, cropRGBA(photo, box.x, box.y, box.width, box.height), mask));
        }
      }
      const vb = await judges.judge(before);
      for (const { paste, color, key } of variants) {
        const va = await judges.judge(after[key]);
        const sims = va.map((v, i) => cosineSimilarity(v.descriptor, vb[i].descriptor));
        const gender = src.attribute === 'gender';
        const flips = va.map((v) => flipped(v, model.target));
        const res: CompositeResult = {
          direction, model: model.id, scale, paste, color: color === 'model' ? `model (${model.colorPolicy ?? 'reinhard'})` : color, split,
          n: va.length, missed,
          flip: rate(flips), flipNoOp: rate(vb.map((v) => flipped(v, model.target))),
          realTarget: rate(realVerdicts.map((v) => flipped(v, model.target))),
          judge: gender ? 'GEAR and FaceRes agree' : 'GEAR',
          identityMedian: r4(quantile(sims, 0.5)), identityMean: r4(mean(sims)),
          seamMedian: r4(seams[key].length ? quantile(seams[key], 0.5) : 0), seconds: Math.round((Date.now() - t0) / 1000),
          ...(gender ? { byJudge: { gear: rate(va.map((v) => isDomain(v, model.target))), faceres: rate(va.map((v) => isDomainCross(v, model.target)!)) } } : {}),
          ...(o.perPhoto ? { photos: files.map((file, i) => ({ file, flip: flips[i] })) } : {}),
        };
        results.push(res);
        const each = res.byJudge ? ` (GEAR ${pct(res.byJudge.gear.rate)}, FaceRes ${pct(res.byJudge.faceres.rate)})` : '';
        log(`${direction} x${scale} ${paste} ${res.color} (${split}): flip ${rateStr(res.flip)}${each} (no-op ${pct(res.flipNoOp.rate)}, real ${pct(res.realTarget.rate)}), identity median ${res.identityMedian}, seam ${res.seamMedian}, n ${res.n}, missed ${missed}, ${res.seconds} s`);
      }
    }
  }
  await engine.dispose();
  return results;
}

/** Race directions change skin tone: a policy that matches lightness or removes the overall shift undoes the change itself. */
export const RACE_POLICIES = ['none'];

/**
 * The colour policy per direction, from composites of photos the models trained on (--split train:
 * the choice must not look at the validation photos): the highest flip rate over all sizes, and among
 * the policies within `tolerance` of it (about one face at each size), the smallest seam. Race
 * directions keep the net's colours (RACE_POLICIES): their change is largely skin tone, which the seam
 * measure would count as a step at the mask's edge and the other policies remove.
 */
export function chooseColorPolicies(rs: CompositeResult[], tolerance = 0.05, isRace = (direction: string) => domainOf(direction.split('2')[0]).attribute === 'race'):
  Record<string, { policy: string; flip: number; seam: number }> {
  const out: Record<string, { policy: string; flip: number; seam: number }> = {};
  for (const direction of [...new Set(rs.map((r) => r.direction))]) {
    const byPolicy = new Map<string, CompositeResult[]>();
    for (const r of rs.filter((x) => x.direction === direction && (!isRace(direction) || RACE_POLICIES.includes(x.color)))) {
      byPolicy.set(r.color, [...(byPolicy.get(r.color) ?? []), r]);
    }
    const scored = [...byPolicy].map(([policy, xs]) => {
      const n = xs.reduce((t, x) => t + x.n, 0);
      return { policy, flip: r4(xs.reduce((t, x) => t + x.flip.rate * x.n, 0) / Math.max(1, n)), seam: r4(mean(xs.map((x) => x.seamMedian))) };
    });
    const best = Math.max(...scored.map((x) => x.flip));
    out[direction] = scored.filter((x) => x.flip >= best - tolerance).sort((x, y) => x.seam - y.seam)[0];
  }
  return out;
}

/** Set each model's `colorPolicy` in the manifest text, keeping its formatting. */
export function spliceColorPolicies(manifestText: string, byId: Record<string, string>): string {
  let text = manifestText;
  for (const [id, policy] of Object.entries(byId)) {
    const at = text.indexOf(`"id": "${id}"`);
    if (at < 0) throw new Error(`model ${id} is not in the manifest`);
    const re = /"colorPolicy": "[a-z]+"/g;
    re.lastIndex = at;
    const m = re.exec(text);
    const next = text.indexOf('"id": "', at + 1);
    if (!m || (next >= 0 && m.index > next)) throw new Error(`model ${id} has no colorPolicy field to set`);
    text = text.slice(0, m.index) + `"colorPolicy": "${policy}"` + text.slice(m.index + m[0].length);
  }
  return text;
}

/** A paired comparison of two evaluations of one direction at one size, on the photos both judged. */
export interface PairedRow extends Paired { direction: string; scale: number; split: string; first: string; second: string }

const variantName = (r: CompositeResult) => `${r.model} ${r.paste} ${r.color}`;

/**
 * Paired comparisons from --per-photo results: within the run, each variant of a direction and size
 * against the first (e.g. detail vs replace paste); with an earlier report, each result against the
 * one there of the same direction, size, split, paste and colour (e.g. a candidate model vs the
 * shipped one). Two rates on the same photos differ by the discordant photos only: these and the
 * exact McNemar p say whether a difference of a few points is more than chance.
 */
export function pairedComparisons(results: CompositeResult[], earlier: CompositeResult[] = []): PairedRow[] {
  const rows: PairedRow[] = [];
  const add = (a: CompositeResult, b: CompositeResult) => rows.push({
    direction: a.direction, scale: a.scale, split: a.split, first: variantName(a), second: variantName(b), ...pairedFlips(a.photos!, b.photos!),
  });
  const withPhotos = results.filter((r) => r.photos);
  const same = (a: CompositeResult, b: CompositeResult) => a.direction === b.direction && a.scale === b.scale && a.split === b.split;
  for (const r of withPhotos) {
    const first = withPhotos.find((x) => same(x, r))!;
    if (first !== r) add(r, first);
  }
  for (const r of withPhotos) {
    const e = earlier.find((x) => x.photos && same(x, r) && x.paste === r.paste && x.color === r.color);
    if (e) add(r, e);
  }
  return rows;
}

export function pairedTable(rows: PairedRow[]): string {
  return table([
    ['direction', 'size', 'split', 'first', 'second', 'photos', 'only first flips', 'only second flips', 'p (exact McNemar)'],
    ...rows.map((r) => [r.direction, `x${r.scale}`, r.split, r.first, r.second, String(r.n), String(r.onlyFirst), String(r.onlySecond), r.p.toFixed(3)]),
  ]);
}

export function compositeTable(rs: CompositeResult[]): string {
  return table([
    ['direction', 'size', 'paste', 'colour', 'n', 'flip', 'no-op', 'real target', 'x0.9 real', 'identity (median)', 'seam (dE)', 'judge'],
    ...rs.map((r) => [r.direction, `x${r.scale}`, r.paste, r.color, String(r.n), rateStr(r.flip), pct(r.flipNoOp.rate), pct(r.realTarget.rate),
      pct(0.9 * r.realTarget.rate), r.identityMedian.toFixed(3), r.seamMedian.toFixed(2), r.judge]),
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
    .option('--colors <list>', 'colour policies to compare: reinhard,lightness,tone,none,model (default: model)')
    .option('--split <split>', 'val (default) or train', 'val')
    .option('--out <file>', 'JSON report')
    .option('--per-photo', 'record each photo\'s verdict in the report (paired comparisons of models and pastes)')
    .option('--from <file>', 'take the results from this earlier --out report instead of running')
    .option('--compare <file>', 'with --per-photo: paired counts against an earlier --per-photo report (same directions, sizes and pastes)')
    .option('--choose <file>', 'with --split train and --colors: choose each direction\'s colour policy, write the choice here and in the manifest')
    .parse().opts();
  const results: CompositeResult[] = o.from ? JSON.parse(fs.readFileSync(o.from, 'utf8')).results : await evaluateComposites({
    models: o.models, dataset: o.dataset, limit: +o.limit, scales: o.scales.split(',').map(Number),
    pastes: o.paste.split(','), directions: o.directions?.split(','), strength: +o.strength, split: o.split, perPhoto: !!o.perPhoto,
    colors: o.colors?.split(',').map((c: string) => {
      if (c !== 'model' && !isColorPolicy(c)) throw new Error(`unknown colour policy "${c}"`);
      return c as ColorPolicy | 'model';
    }),
  });
  console.log(compositeTable(results));
  const paired = pairedComparisons(results, o.compare ? JSON.parse(fs.readFileSync(o.compare, 'utf8')).results : []);
  if (paired.length) console.log(`\n${pairedTable(paired)}`);
  if (o.choose) {
    if (results.some((r) => r.split !== 'train')) throw new Error('--choose looks only at training photos: run with --split train');
    const chosen = chooseColorPolicies(results);
    const manifestPath = path.join(o.models, 'manifest.json');
    const manifest = JSON.parse(fs.readFileSync(manifestPath, 'utf8')) as { models: { id: string; direction?: string }[] };
    const byId = Object.fromEntries(manifest.models.filter((m) => m.direction && chosen[m.direction]).map((m) => [m.id, chosen[m.direction!].policy]));
    fs.writeFileSync(manifestPath, spliceColorPolicies(fs.readFileSync(manifestPath, 'utf8'), byId));
    fs.writeFileSync(o.choose, JSON.stringify({
      date: new Date().toISOString().slice(0, 10),
      rule: 'per direction: the highest flip rate over both sizes on training-split composites (the choice never looks at validation photos); '
        + 'among policies within 5 points of it, the smallest seam (median colour step the paste adds at the mask edge, Delta E). '
        + 'Race directions keep the net\'s colours (none): their change is largely skin tone, which the seam measure counts as a step '
        + 'and the other policies undo (with lightness, white->black changed the skin\'s ITA by -0.2 degrees instead of darkening it).',
      command: `tsx scripts/eval-composite.ts ${process.argv.slice(2).join(' ')}`,
      chosen: Object.fromEntries(Object.entries(chosen).map(([d, c]) => [d, c.policy])),
      scores: chosen, results,
    }, null, 2) + '\n');
    for (const [d, c] of Object.entries(chosen)) console.log(`${d}: ${c.policy} (flip ${pct(c.flip)}, seam ${c.seam})`);
  }
  if (o.out) {
    fs.mkdirSync(path.dirname(path.resolve(o.out)), { recursive: true });
    fs.writeFileSync(o.out, JSON.stringify({ date: new Date().toISOString().slice(0, 10), models: path.relative(ROOT, path.resolve(o.models)), results, ...(paired.length ? { paired } : {}) }, null, 2) + '\n');
  }
}
if (require.main === module) main().catch((e) => { console.error(`eval-composite: ${(e as Error).message}`); process.exit(1); });
