/**
 * npm run bench: time every stage of the pipeline (decode, detect, align, transform, upscale,
 * paste, write) with onnxruntime-node (native) and onnxruntime-web (wasm) on the same photos in
 * one run; detection against the nets per photo (issue 15: detect ms / transform + upscale ms, as
 * the command line runs them, after a warm-up photo); and the peak memory of the command line on a
 * 24-megapixel photo.
 *   npx tsx scripts/bench.ts [--runs 2] [--write docs/benchmarks.md]
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { execFileSync } from 'child_process';
import sharp from 'sharp';
import { FaceDetectorLike, FaceEngine } from '../src/engine/engine';
import { localEngine } from '../src/app/engine-port';
import { keepLayer, transformDocument } from '../src/app/transform';
import { nodeModelFiles, readManifest } from '../src/platform/node';
import { loadNodeDetector } from '../src/runtime/detector.node';
import { loadNodeFaceMesh } from '../src/runtime/landmarks.node';
import { OrtNodeRuntime } from '../src/runtime/onnx.node';
import { OrtWebRuntime, OrtWebModule } from '../src/runtime/onnx.web';
import type { NetRuntime } from '../src/runtime/net';
import { decodePhoto, MemoryPhotoSource } from '../src/cli/photo';
import { compositeLayer } from '../src/core/layer';
import { buildPsd } from '../src/cli/psd';

const ROOT = path.join(__dirname, '..');
const SHARED = process.env.FACESHIFT_SHARED ?? path.join(ROOT, '..', 'shared');
const PHOTOS = [
  path.join(ROOT, 'assets', 'sample.jpg'),
  path.join(SHARED, 'photos', 'wh_biden_obama_greenroom.jpg'),
  path.join(SHARED, 'photos', 'wh_flotus_tarmac_children.jpg'),
].filter((p) => fs.existsSync(p));
/** Photos of 1.4-3.9 MP with faces, for detection against the nets (issue 15; the first three are the issue's). */
const RATIO_PHOTOS = ['loc_chinatown_fishmonger.jpg', 'wh_biden_obama_greenroom.jpg', 'wh_biden_official_2013.jpg', 'wh_flotus_tarmac_children.jpg', 'nasa_exp23_launch_day.jpg'];
const STAGES = ['decode', 'detect', 'align', 'transform', 'upscale', 'paste', 'write'] as const;
type Row = Record<(typeof STAGES)[number], number> & { faces: number };

const arg = (k: string, d?: string) => { const i = process.argv.indexOf(k); return i > 0 ? process.argv[i + 1] : d; };
const median = (v: number[]) => { const s = [...v].sort((a, b) => a - b); return s[Math.floor(s.length / 2)]; };

async function timePhoto(engine: FaceEngine, file: string): Promise<Row> {
  let t = performance.now();
  const photo = await decodePhoto(file);
  const decode = performance.now() - t;
  const r = await transformDocument({ engine: localEngine(engine, 'native'), open: async () => ({ source: new MemoryPhotoSource(photo.image) }), sink: keepLayer },
    { direction: 'male2female', strength: 1, faces: 'all', upscale: true });
  t = performance.now();
  const layer = r.written;
  buildPsd({ original: photo.image, originalName: 'x', faces: layer, facesName: r.name, composite: compositeLayer(photo.image, layer) });
  const write = performance.now() - t;
  const { detect, align, transform, upscale, paste } = r.timings;
  return { decode, detect, align, transform, upscale, paste, write, faces: r.transformed.length };
}

async function child24mp(): Promise<void> {
  // Runs the command line's own code path on a 24 MP photo and reports this process's peak memory.
  const { main } = await import('../src/cli/main');
  const file = process.argv[process.argv.indexOf('--child-24mp') + 1];
  const t = performance.now();
  const code = await main(['node', 'faceshift', file, '--out', path.join(os.tmpdir(), 'bench24.psd'), '--force']);
  process.stdout.write(JSON.stringify({ code, seconds: (performance.now() - t) / 1000, maxRssMB: process.resourceUsage().maxRSS / 1024 }) + '\n');
}

async function main() {
  if (process.argv.includes('--child-24mp')) return child24mp();
  const runs = Number(arg('--runs', '2'));
  const manifest = readManifest();
  const files = nodeModelFiles();
  const detector = await loadNodeDetector(files, manifest);
  const landmarks = manifest.landmarks ? await loadNodeFaceMesh(files, manifest) : undefined; // the paste mask, as the CLI has it
  // eslint-disable-next-line @typescript-eslint/no-var-requires
  const ortWeb = require('onnxruntime-web') as OrtWebModule; // Node build of onnxruntime-web: wasm
  const runtimes: [string, NetRuntime][] = [
    ['onnxruntime-node, 2 threads', new OrtNodeRuntime(2)],
    ['onnxruntime-node, 1 thread', new OrtNodeRuntime(1)],
    ['onnxruntime-web wasm, 1 thread', new OrtWebRuntime(ortWeb, { device: 'wasm', threads: 1 })],
  ];
  const results: Record<string, Row> = {};
  for (const [name, runtime] of runtimes) {
    const engine = await FaceEngine.create({ manifest, files, runtime, detector, landmarks });
    await engine.warmup('male2female');
    const rows: Row[] = [];
    for (const f of PHOTOS) {
      await timePhoto(engine, f); // warm-up (first-run allocations)
      for (let r = 0; r < runs; r++) rows.push(await timePhoto(engine, f));
    }
    // per face for the net stages, per photo for the others
    const faces = rows.reduce((s, r) => s + r.faces, 0) / rows.length;
    const agg = {} as Row;
    for (const s of STAGES) agg[s] = median(rows.map((r) => r[s] / (['align', 'transform', 'upscale', 'paste'].includes(s) ? Math.max(1, r.faces) : 1)));
    agg.faces = faces;
    results[name] = agg;
    await engine.dispose();
    process.stderr.write(`${name}: done\n`);
  }

  // Detection against the nets, per photo, in one batch as the command line runs it (the engine of
  // createNodeEngine: onnxruntime-node on all cores; the use case with the photo in memory), after a
  // warm-up photo. Issue 15: the median of detect / (transform + upscale) on 1.4-3.9 MP photos <= 1.
  const ratioRows: string[] = [];
  const ratios: number[] = [];
  {
    let calls = 0, views = 0;
    const counted: FaceDetectorLike = { detect: (v) => { calls++; views += v.length; return detector.detect(v); } };
    const engine = await FaceEngine.create({ manifest, files, runtime: new OrtNodeRuntime(0), detector: counted, landmarks });
    await engine.warmup('male2female');
    const use = (image: Awaited<ReturnType<typeof decodePhoto>>['image']) => transformDocument(
      { engine: localEngine(engine, 'native'), open: async () => ({ source: new MemoryPhotoSource(image) }), sink: keepLayer },
      { direction: 'male2female', strength: 1, faces: 'all', upscale: true });
    await use((await decodePhoto(path.join(ROOT, 'assets', 'sample.jpg'))).image); // warm-up photo
    for (const file of RATIO_PHOTOS) {
      const src = path.join(SHARED, 'photos', file);
      if (!fs.existsSync(src)) continue;
      const { image } = await decodePhoto(src);
      calls = 0; views = 0;
      const r = await use(image);
      const nets = r.timings.transform + r.timings.upscale;
      const ratio = r.timings.detect / nets;
      ratios.push(ratio);
      ratioRows.push(`| ${file} | ${image.width}x${image.height} (${(image.width * image.height / 1e6).toFixed(1)} MP) | ${r.detected.length} / ${r.transformed.length} | ${views} in ${calls} | ${r.timings.detect.toFixed(0)} | ${nets.toFixed(0)} | ${ratio.toFixed(2)} |`);
    }
    await engine.dispose();
  }

  // Paste-back on 2 MP photos (the detail paste with the face-mesh mask; work scales with the face's
  // box): a portrait whose face fills a third of the frame, and a group photo. Target: < 60 ms a face.
  const pasteRows: string[] = [];
  {
    const runtime = new OrtNodeRuntime(1);
    const engine = await FaceEngine.create({ manifest, files, runtime, detector, landmarks });
    for (const [name, file] of [['portrait', 'wh_biden_official_2013.jpg'], ['group', 'wh_biden_obama_greenroom.jpg']]) {
      const src = path.join(SHARED, 'photos', file);
      if (!fs.existsSync(src)) continue;
      const meta = await sharp(src).metadata();
      const k = Math.sqrt(2e6 / (meta.width! * meta.height!));
      const { data, info } = await sharp(src).resize(Math.round(meta.width! * k), Math.round(meta.height! * k)).ensureAlpha().raw().toBuffer({ resolveWithObject: true });
      const image = { width: info.width, height: info.height, data: new Uint8ClampedArray(data.buffer, data.byteOffset, data.byteLength) };
      const photo = new MemoryPhotoSource(image);
      const faces = await engine.detect(photo);
      const per: number[] = [];
      let boxes = '';
      for (let r = 0; r < 6; r++) {
        const rep = await engine.run(photo, { direction: 'male2female' }, faces);
        if (r > 0) per.push(rep.timings.paste / Math.max(1, rep.faces.length)); // the first is a warm-up
        boxes = rep.faces.map((f) => `${f.patch.box.width}x${f.patch.box.height}`).join(', ');
      }
      pasteRows.push(`| ${name} (${file}) | ${info.width}x${info.height} | ${boxes} | ${median(per).toFixed(0)} |`);
    }
    await engine.dispose();
  }

  // 24 MP: the greenroom photo scaled to 6000x4500 (2 faces), run by the CLI in a child process
  const big = path.join(os.tmpdir(), 'faceshift-bench-24mp.jpg');
  if (!fs.existsSync(big)) await sharp(path.join(SHARED, 'photos', 'wh_biden_obama_greenroom.jpg')).resize(5657, 4243).jpeg({ quality: 90 }).toFile(big);
  const meta = await sharp(big).metadata();
  const out = execFileSync(process.execPath, [require.resolve('tsx/cli'), __filename, '--child-24mp', big], { encoding: 'utf8', env: { ...process.env } });
  const mem = JSON.parse(out.trim().split('\n').pop()!);

  const names = Object.keys(results);
  const lines: string[] = [];
  lines.push(`Stage medians in ms (net stages per face, others per photo); photos: ${PHOTOS.map((p) => path.basename(p)).join(', ')}; ${runs} runs each after a warm-up.`);
  lines.push('');
  lines.push(`| stage | ${names.join(' | ')} | wasm / native (1 thread) |`);
  lines.push(`|---|${names.map(() => '---:').join('|')}|---:|`);
  for (const s of STAGES) {
    const ratio = results[names[2]][s] / Math.max(1e-6, results[names[1]][s]);
    lines.push(`| ${s} | ${names.map((n) => results[n][s].toFixed(0)).join(' | ')} | ${['transform', 'upscale'].includes(s) ? ratio.toFixed(2) + 'x' : '-'} |`);
  }
  lines.push('');
  lines.push('Detection against the nets, per photo: one batch as the command line runs it (onnxruntime-node on all cores, after a warm-up photo); nets = transform + upscale of the photo\'s faces; views = detector inputs, in so many calls:');
  lines.push('');
  lines.push('| photo | size | faces found / transformed | views | detect ms | nets ms | detect / nets |');
  lines.push('|---|---|---:|---:|---:|---:|---:|');
  lines.push(...ratioRows);
  lines.push('');
  lines.push(`Median detect / nets: ${median(ratios).toFixed(2)} over these ${ratios.length} photos; ${median(ratios.slice(0, 3)).toFixed(2)} over the first three (issue 15's).`);
  lines.push('');
  lines.push('Paste-back per face on 2 MP photos (detail paste with the face-mesh mask, onnxruntime-node 1 thread, median of 5 after a warm-up; target < 60 ms):');
  lines.push('');
  lines.push('| photo | size | face boxes | paste ms / face |');
  lines.push('|---|---|---|---:|');
  lines.push(...pasteRows);
  lines.push('');
  lines.push(`24 MP photo (${meta.width}x${meta.height}, 2 faces), whole command line (decode, detect, transform, upscale, PSD): ${mem.seconds.toFixed(1)} s, peak resident memory ${mem.maxRssMB.toFixed(0)} MB (exit ${mem.code}).`);
  const text = lines.join('\n');
  console.log(text);
  const w = arg('--write');
  if (w) {
    const cpu = os.cpus()[0]?.model ?? 'unknown CPU';
    fs.writeFileSync(w, `# Benchmarks\n\nMeasured by \`npm run bench\` on ${new Date().toISOString().slice(0, 10)}, ${os.cpus().length} cores (${cpu}), Node ${process.version}.\n\n${text}\n`);
  }
}

main().catch((e) => { console.error(e); process.exit(1); });
