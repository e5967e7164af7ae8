/**
 * npm run bench: time every stage of the pipeline (decode, detect, align, transform, upscale,
 * paste, write) with onnxruntime-node (native) and onnxruntime-web (wasm) on the same photos in
 * one run; detection against the nets per photo (issue 15: detect ms / transform + upscale ms, as
 * the command line runs them, after a warm-up photo); the PSD write on 2-3 MP photos; and the peak
 * memory of the command line (a child process each) on 24 and 100 MP photos made from a real one
 * (targets: under 700 MB and 2 GB). Also each net alone (session creation, first run, steady run;
 * WASM over native) and the Photopea page in headless Chromium, cold and warmed (scripts/bench-browser.ts).
 *   npx tsx scripts/bench.ts [--runs 2] [--only memory|nets|browser|paste] [--write docs/benchmarks.md]
 * With --write, the notes after the "Notes" line of the existing file are kept.
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
import { findTransform, findUpscaler, readVerified } from '../src/models/manifest';
import { benchBrowser, BrowserBench } from './bench-browser';
import { writePsd } from '../src/cli/psd';

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
  // the write as the command line does it: the layered PSD streamed into a file
  const out = path.join(os.tmpdir(), `faceshift-bench-${process.pid}.psd`);
  t = performance.now();
  await writePsd(out, { original: photo.image, originalName: 'x', faces: r.written, facesName: r.name });
  const write = performance.now() - t;
  fs.rmSync(out, { force: true });
  const { detect, align, transform, upscale, paste } = r.timings;
  return { decode, detect, align, transform, upscale, paste, write, faces: r.transformed.length };
}

/**
 * The child for one memory run: the built command line (build/cli/main.js, as bin/faceshift.js
 * runs it) on one photo, then one JSON line with this process's peak memory. Plain Node, so the
 * peak is the command line's own (tsx would add its compiler's).
 */
const CHILD = `
const [mainJs, file, out] = process.argv.slice(1);
const write = process.stdout.write.bind(process.stdout);
let report = '';
process.stdout.write = (s) => { report += s; return true; };
const t = performance.now();
require(mainJs).main(['node', 'faceshift', file, '--out', out, '--force', '--json']).then((code) => {
  process.stdout.write = write;
  require('fs').rmSync(out, { force: true });
  const r = JSON.parse(report).results[0];
  write(JSON.stringify({ code, seconds: (performance.now() - t) / 1000, maxRssMB: process.resourceUsage().maxRSS / 1024,
    faces: (r.faces || []).filter((f) => f.transformed).length, writeMs: r.timings && r.timings.write }) + '\\n');
});
`;

/** The test photos for memory: the greenroom photo (2 faces) scaled up, and a grid of six portraits and group photos scaled up (faces all over the frame). */
async function bigPhotos(): Promise<{ name: string; file: string; width: number; height: number }[]> {
  const src = path.join(SHARED, 'photos');
  const made: { name: string; file: string; width: number; height: number }[] = [];
  const scaled = async (name: string, w: number, h: number) => {
    const file = path.join(os.tmpdir(), `faceshift-bench-${name}.jpg`);
    if (!fs.existsSync(file)) await sharp(path.join(src, 'wh_biden_obama_greenroom.jpg'), { limitInputPixels: false }).resize(w, h).jpeg({ quality: 90 }).toFile(file);
    made.push({ name, file, width: w, height: h });
  };
  const grid = async (name: string, cols: number, rows: number, cell: number) => {
    const file = path.join(os.tmpdir(), `faceshift-bench-${name}.jpg`);
    const photos = ['wh_biden_obama_greenroom.jpg', 'wh_biden_official_2013.jpg', 'wh_obama_official_2012.jpg', 'ccby_chris_pratt.jpeg', 'wh_flotus_tarmac_children.jpg', 'cc0_codait_luciano.png'];
    if (!fs.existsSync(file)) {
      const parts = [];
      for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) {
        const input = await sharp(path.join(src, photos[(r * cols + c) % photos.length])).resize(cell, cell, { fit: 'cover' }).removeAlpha().toBuffer();
        parts.push({ input, left: c * cell, top: r * cell });
      }
      await sharp({ create: { width: cols * cell, height: rows * cell, channels: 3, background: '#808080' }, limitInputPixels: false }).composite(parts).jpeg({ quality: 90 }).toFile(file);
    }
    made.push({ name, file, width: cols * cell, height: rows * cell });
  };
  await scaled('greenroom-24mp', 5657, 4243);
  await scaled('greenroom-100mp', 11547, 8660);
  await grid('grid-24mp', 3, 2, 2000);
  await grid('grid-100mp', 4, 3, 2887);
  return made;
}

/** Peak memory of the command line, one child process per photo and format. */
async function memoryRows(): Promise<string[]> {
  execFileSync(process.execPath, [require.resolve('typescript/bin/tsc'), '-p', path.join(ROOT, 'tsconfig.json')], { stdio: 'inherit' }); // npm run build:cli
  const mainJs = path.join(ROOT, 'build', 'cli', 'main.js');
  const rows: string[] = [];
  for (const p of await bigPhotos()) {
    const mp = (p.width * p.height) / 1e6;
    const target = mp > 50 ? 2000 : 700;
    for (const format of p.name.startsWith('greenroom') ? ['psd', 'png'] : ['psd']) {
      const out = path.join(os.tmpdir(), `faceshift-bench-${p.name}.faceshift.${format}`);
      const text = execFileSync(process.execPath, ['-e', CHILD, mainJs, p.file, out], { encoding: 'utf8', env: { ...process.env } });
      const m = JSON.parse(text.trim().split('\n').pop()!);
      rows.push(`| ${p.name} | ${p.width}x${p.height} (${mp.toFixed(0)} MP) | ${m.faces} | ${format.toUpperCase()} | ${m.seconds.toFixed(1)} | ${m.writeMs} | ${m.maxRssMB.toFixed(0)} | ${target} | ${m.code === 0 && m.maxRssMB < target ? 'yes' : 'NO'} |`);
      process.stderr.write(`${rows[rows.length - 1]}\n`);
    }
  }
  return rows;
}

function memoryTable(rows: string[]): string[] {
  return [
    'Peak memory of the whole command line (decode, detect, transform, upscale, write), the built CLI in one child process per run, `--direction male2female`, peak resident set in MB:',
    '',
    '| photo | size | faces | output | s | write ms | peak MB | target MB | under |',
    '|---|---|---:|---|---:|---:|---:|---:|---|',
    ...rows,
  ];
}

/**
 * Each net alone, one thread each: onnxruntime-node against onnxruntime-web's WASM build in this
 * process, on a blank input at the net's size (the upscaler on a 128 px face). The runs of the two
 * runtimes alternate, so load on the machine hits both alike. "first" is the first run of a fresh
 * session (in a fresh process for the first WASM session: its code is still in V8's baseline tier).
 */
/**
 * Paste-back on 2 MP photos (the detail paste with the face-mesh mask; work scales with the face's
 * box): a portrait whose face fills a third of the frame, and a group photo. Target: < 60 ms a face.
 */
async function pasteRows(manifest: ReturnType<typeof readManifest>, files: ReturnType<typeof nodeModelFiles>, detector: FaceDetectorLike, landmarks: Awaited<ReturnType<typeof loadNodeFaceMesh>> | undefined): Promise<string[]> {
  const rows: string[] = [];
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
    rows.push(`| ${name} (${file}) | ${info.width}x${info.height} | ${boxes} | ${median(per).toFixed(0)} |`);
  }
  await engine.dispose();
  return rows;
}

async function netRows(steady = 8): Promise<string[]> {
  const manifest = readManifest();
  const files = nodeModelFiles();
  // eslint-disable-next-line @typescript-eslint/no-var-requires
  const ortWeb = require('onnxruntime-web') as OrtWebModule;
  const nets = [findTransform(manifest, 'male2female'), findTransform(manifest, 'white2black'), findUpscaler(manifest)!];
  const rows: string[] = [];
  for (const entry of nets) {
    const bytes = await readVerified(files, entry);
    const size = 128;
    const input = { data: new Float32Array(3 * size * size), dims: [1, 3, size, size] };
    const extra = 'condition' in entry && entry.condition ? { [entry.condition.name]: { data: Float32Array.from(entry.condition.values), dims: [1, entry.condition.values.length] } } : undefined;
    const fig: Record<string, { create: number; first: number; t: number[] }> = {};
    const nets2: Record<string, Awaited<ReturnType<NetRuntime['load']>>> = {};
    for (const [name, rt] of [['native', new OrtNodeRuntime(1)], ['wasm', new OrtWebRuntime(ortWeb, { device: 'wasm', threads: 1 })]] as [string, NetRuntime][]) {
      let t = performance.now();
      nets2[name] = await rt.load(bytes, entry.id);
      const create = performance.now() - t;
      t = performance.now();
      await nets2[name].run(input, extra);
      fig[name] = { create, first: performance.now() - t, t: [] };
    }
    for (let r = 0; r < steady + 4; r++) {
      for (const name of ['native', 'wasm']) {
        const t = performance.now();
        await nets2[name].run(input, extra);
        if (r >= 4) fig[name].t.push(performance.now() - t); // 4 more warm-up runs: V8 optimises the WASM's hot code meanwhile
      }
    }
    for (const n of Object.values(nets2)) await n.dispose();
    const n = fig.native, w = fig.wasm;
    const ms = (v: number) => v.toFixed(0);
    rows.push(`| ${entry.id} | ${ms(n.create)} / ${ms(n.first)} / ${ms(median(n.t))} | ${ms(w.create)} / ${ms(w.first)} / ${ms(median(w.t))} | ${(median(w.t) / median(n.t)).toFixed(2)}x | ${(w.first / n.first).toFixed(1)}x |`);
    process.stderr.write(`${rows[rows.length - 1]}\n`);
  }
  return rows;
}

function netTable(rows: string[], steady = 8): string[] {
  return [
    `Each net alone, one thread, blank 128 px input; ms as session creation / first run / median of ${steady} runs after 5 (the two runtimes alternating):`,
    '',
    '| net | onnxruntime-node | onnxruntime-web wasm | wasm / native, steady | wasm / native, first run |',
    '|---|---:|---:|---:|---:|',
    ...rows,
  ];
}

function browserTable(b: BrowserBench[], nodeWasm?: { transform: number; upscale: number }): string[] {
  const f = (v: number | undefined) => (v === undefined ? '-' : v.toFixed(0));
  const lines = [
    'The Photopea page in headless Chromium (WASM, one thread; the Photopea emulator of test/browser), one face (nasa_astronaut_collins.png), male2female with upscaling, three transforms in a row after the page is ready; ms from the use case\'s own timings, s from the click to the status line:',
    '',
    '| page | ready s | warm-up s | run | total s | transform | upscale | transform + upscale | / Node wasm |',
    '|---|---:|---:|---:|---:|---:|---:|---:|---:|',
  ];
  for (const x of b) {
    x.runs.forEach((r, i) => {
      const tu = (r.timings.transform ?? 0) + (r.timings.upscale ?? 0);
      const ratio = nodeWasm ? `${(tu / (nodeWasm.transform + nodeWasm.upscale)).toFixed(2)}x` : '-';
      lines.push(`| ${x.warmup ? 'warm-up on (default)' : 'warmup=0 (cold)'} | ${i ? '' : x.readyS.toFixed(1)} | ${i ? '' : x.warmS.toFixed(1)} | ${i + 1} | ${r.seconds.toFixed(1)} | ${f(r.timings.transform)} | ${f(r.timings.upscale)} | ${tu.toFixed(0)} | ${ratio} |`);
    });
  }
  if (nodeWasm) lines.push('', `Node wasm (this run's stage table, per face): transform ${nodeWasm.transform.toFixed(0)} + upscale ${nodeWasm.upscale.toFixed(0)} ms.`);
  return lines;
}

function pasteTable(rows: string[]): string[] {
  return ['Paste-back per face on 2 MP photos (detail paste with the face-mesh mask, onnxruntime-node 1 thread, median of 5 after a warm-up; target < 60 ms):',
    '', '| photo | size | face boxes | paste ms / face |', '|---|---|---|---:|', ...rows];
}

function writeDoc(file: string, text: string): void {
  const cpu = os.cpus()[0]?.model ?? 'unknown CPU';
  const old = fs.existsSync(file) ? fs.readFileSync(file, 'utf8') : '';
  const at = old.search(/^Notes$/m);
  const notes = at >= 0 ? `\n${old.slice(at)}` : '';
  fs.writeFileSync(file, `# Benchmarks\n\nMeasured by \`npm run bench\` on ${new Date().toISOString().slice(0, 10)}, ${os.cpus().length} cores (${cpu}), Node ${process.version}.\n\n${text}\n${notes}`);
}

async function main() {
  if (arg('--only') === 'memory') {
    const text = memoryTable(await memoryRows()).join('\n');
    console.log(text);
    return;
  }
  if (arg('--only') === 'nets') {
    console.log(netTable(await netRows()).join('\n'));
    return;
  }
  if (arg('--only') === 'paste') {
    const manifest = readManifest(), files = nodeModelFiles();
    const landmarks = manifest.landmarks ? await loadNodeFaceMesh(files, manifest) : undefined;
    console.log(pasteTable(await pasteRows(manifest, files, await loadNodeDetector(files, manifest), landmarks)).join('\n'));
    return;
  }
  if (arg('--only') === 'browser') {
    console.log(browserTable(await benchBrowser()).join('\n'));
    return;
  }
  const runs = Number(arg('--runs', '2'));
  const writes: Record<string, number[]> = {};
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
      for (let r = 0; r < runs; r++) {
        const row = await timePhoto(engine, f);
        rows.push(row);
        (writes[path.basename(f)] ??= []).push(row.write);
      }
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

  const pastes = await pasteRows(manifest, files, detector, landmarks);
  const nets = await netRows();
  const browser = await benchBrowser();
  const memory = await memoryRows();

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
  lines.push(...netTable(nets));
  lines.push('');
  lines.push(...browserTable(browser, results[names[2]]));
  lines.push('');
  lines.push(...pasteTable(pastes));
  lines.push('');
  lines.push('Writing the layered PSD (original, faces layer with mask, composite; streamed into a file), median ms per photo over every run:');
  lines.push('');
  lines.push('| photo | size | write ms |');
  lines.push('|---|---|---:|');
  for (const [name, ms] of Object.entries(writes)) {
    const meta = await sharp(PHOTOS.find((p) => path.basename(p) === name)!).metadata();
    lines.push(`| ${name} | ${meta.width}x${meta.height} (${((meta.width! * meta.height!) / 1e6).toFixed(1)} MP) | ${median(ms).toFixed(0)} |`);
  }
  lines.push('');
  lines.push(...memoryTable(memory));
  const text = lines.join('\n');
  console.log(text);
  const w = arg('--write');
  if (w) writeDoc(w, text);
}

main().catch((e) => { console.error(e); process.exit(1); });
