/**
 * faceshift: transform the faces in photos from the command line.
 * Writes a layered PSD (original untouched at the bottom, faces above with a layer mask) or a PNG.
 */
import * as fs from 'fs';
import * as path from 'path';
import { Command, InvalidArgumentError, Option } from 'commander';
import { SingleBar, Presets } from 'cli-progress';
import sharp from 'sharp';
import { createNodeEngine, readManifest, MODELS_DIR } from '../runtime/node';
import type { FaceEngine, RunReport, Stage } from '../engine/engine';
import { DEFAULT_MIN_FACE_SIZE } from '../engine/engine';
import { FaceShiftError } from '../engine/errors';
import { parseFaceSelection, FaceSelection } from '../core/faces';
import { listDirections } from '../models/manifest';
import { decodePhoto, MemoryPhotoSource } from './photo';
import { facesToLayer, compositeLayer } from '../core/layer';
import { buildPsd } from './psd';

export const EXIT = { OK: 0, SOME_FAILED: 1, USAGE: 2, CANCELLED: 130 } as const;
const IMAGE_EXT = /\.(jpe?g|png|webp|tiff?|avif|heic|gif)$/i;

export interface CliOptions {
  direction: string; strength: number; faces: FaceSelection; upscale: boolean; format: 'psd' | 'png';
  out?: string; force: boolean; json: boolean; minFace: number; colorMatch?: boolean; threads: number;
}

export interface PhotoResult {
  input: string;
  status: 'ok' | 'no_face' | 'faces_too_small' | 'error' | 'cancelled';
  output?: string;
  message?: string;
  notes?: string[];
  width?: number; height?: number;
  faces?: { index: number; box: { x: number; y: number; width: number; height: number }; score: number; transformed: boolean; skipped?: string }[];
  timings?: Record<string, number>;
}

function num(name: string, lo: number, hi: number) {
  return (v: string) => {
    const n = Number(v);
    if (!Number.isFinite(n) || n < lo || n > hi) throw new InvalidArgumentError(`${name} must be a number from ${lo} to ${hi}.`);
    return n;
  };
}

/** Files to process: each argument is a photo or a folder of photos (not recursive; earlier outputs skipped). */
export function expandInputs(args: string[]): { files: string[]; missing: string[] } {
  const files: string[] = [], missing: string[] = [];
  for (const a of args) {
    if (!fs.existsSync(a)) { missing.push(a); continue; }
    if (fs.statSync(a).isDirectory()) {
      for (const f of fs.readdirSync(a).sort()) {
        const p = path.join(a, f);
        if (IMAGE_EXT.test(f) && !/\.faceshift\./.test(f) && fs.statSync(p).isFile()) files.push(p);
      }
    } else files.push(a);
  }
  return { files, missing };
}

export function outputPath(input: string, opts: Pick<CliOptions, 'out' | 'format'>, batch: boolean): string {
  const name = `${path.parse(input).name}.faceshift.${opts.format}`;
  if (!opts.out) return path.join(path.dirname(input), name);
  const isDir = batch || opts.out.endsWith(path.sep) || opts.out.endsWith('/') || (fs.existsSync(opts.out) && fs.statSync(opts.out).isDirectory());
  return isDir ? path.join(opts.out, name) : opts.out;
}

/**
 * Write beside the target, then move it in place: a cancelled or failed run never leaves a
 * half-written file, and without --force an existing file is never replaced (not even one that
 * appeared while this photo was being processed: link() refuses to overwrite).
 */
export function writeOutput(out: string, bytes: Buffer, force: boolean): void {
  const tmp = `${out}.${process.pid}.tmp`;
  fs.mkdirSync(path.dirname(out), { recursive: true });
  try {
    fs.writeFileSync(tmp, bytes);
    if (force) fs.renameSync(tmp, out);
    else {
      try { fs.linkSync(tmp, out); } catch (e) {
        if ((e as NodeJS.ErrnoException).code === 'EEXIST') throw new FaceShiftError('BAD_INPUT', `${out} exists; not overwritten. Use --force to replace it, or --out to write elsewhere.`);
        throw e;
      }
    }
  } finally {
    fs.rmSync(tmp, { force: true });
  }
}

export async function processPhoto(engine: FaceEngine, input: string, out: string, o: CliOptions,
  onStage: (stage: Stage | 'decode' | 'write', fraction: number) => void, signal: AbortSignal): Promise<PhotoResult> {
  const timings: Record<string, number> = {};
  const t0 = Date.now();
  onStage('decode', 0);
  const photo = await decodePhoto(input);
  timings.decode = Date.now() - t0;
  const src = new MemoryPhotoSource(photo.image);
  let report: RunReport;
  try {
    report = await engine.run(src, {
      direction: o.direction, strength: o.strength, faces: o.faces, upscale: o.upscale, minFaceSize: o.minFace,
      colorMatch: o.colorMatch, signal,
      onProgress: (p) => onStage(p.stage, p.fraction),
    });
  } catch (e) {
    if (e instanceof FaceShiftError && (e.code === 'NO_FACE' || e.code === 'FACE_TOO_SMALL')) {
      return { input, status: e.code === 'NO_FACE' ? 'no_face' : 'faces_too_small', message: e.message, notes: photo.notes,
        width: photo.image.width, height: photo.image.height, timings };
    }
    throw e;
  }
  Object.assign(timings, Object.fromEntries(Object.entries(report.timings).map(([k, v]) => [k, Math.round(v)])));
  onStage('write', 0.99);
  const t1 = Date.now();
  const layer = facesToLayer(report.faces.map((f) => f.patch));
  const composite = layer ? compositeLayer(photo.image, layer) : photo.image;
  const model = engine.manifest.models.find((m) => m.id === report.model) as { source: string; target: string };
  let bytes: Buffer;
  if (o.format === 'psd') {
    bytes = buildPsd({ original: photo.image, originalName: path.basename(input), faces: layer,
      facesName: `FaceShift ${model.source}->${model.target}`, composite });
  } else {
    bytes = await sharp(Buffer.from(composite.data.buffer, composite.data.byteOffset, composite.data.byteLength),
      { raw: { width: composite.width, height: composite.height, channels: 4 }, limitInputPixels: false }).png().toBuffer();
  }
  if (signal.aborted) throw new FaceShiftError('CANCELLED', 'Cancelled. Nothing was written for this photo.');
  writeOutput(out, bytes, o.force);
  timings.write = Date.now() - t1;
  const done = new Set(report.faces.map((f) => f.face));
  const skipped = new Map(report.skipped.map((s) => [s.face, s.reason]));
  return {
    input, status: 'ok', output: out, notes: photo.notes, width: photo.image.width, height: photo.image.height, timings,
    faces: report.detected.map((f, i) => ({
      index: i + 1, score: +f.score.toFixed(3), transformed: done.has(f), skipped: skipped.get(f),
      box: { x: Math.round(f.box.x), y: Math.round(f.box.y), width: Math.round(f.box.width), height: Math.round(f.box.height) },
    })),
  };
}

export async function main(argv = process.argv): Promise<number> {
  let directions: string[] = [];
  try { directions = listDirections(readManifest()).map((d) => d.direction); } catch { /* reported when the engine loads */ }
  const program = new Command()
    .name('faceshift')
    .description('Transform the faces in photos with on-device neural networks; writes a layered PSD (or PNG) beside each photo.')
    .argument('<photos...>', 'photo files or folders of photos')
    .addOption(new Option('-d, --direction <direction>', 'which transform').default('male2female').choices(directions.length ? directions : ['male2female']))
    .option('-s, --strength <0..1.5>', 'how much of the change shows; above 1 it is extrapolated', num('strength', 0, 1.5), 1)
    .option('--faces <which>', 'all | largest | a face number (1 = top-left first)', (v: string) => {
      try { return parseFaceSelection(v); } catch (e) { throw new InvalidArgumentError((e as Error).message); }
    }, 'all' as FaceSelection)
    .option('--no-upscale', 'skip the 4x super-resolution (faster, softer)')
    .addOption(new Option('--format <format>', 'output: layered PSD or composited PNG (default: from --out\'s extension, else psd)').choices(['psd', 'png']))
    .option('-o, --out <file|dir>', 'output file (one photo) or folder (default: beside each photo)')
    .option('-f, --force', 'overwrite existing outputs', false)
    .option('--json', 'print a JSON report to stdout', false)
    .option('--min-face <px>', 'skip faces smaller than this (box side, pixels)', num('min-face', 8, 10000), DEFAULT_MIN_FACE_SIZE)
    .option('--color-match', 'match the new face\'s colours to the photo (default: as the model\'s manifest entry says: on for male/female, off for the race pairs)')
    .option('--no-color-match', 'keep the network\'s colours')
    .option('--threads <n>', 'CPU threads for the nets (0 = all)', num('threads', 0, 256), 0)
    .addHelpText('after', `
Exit codes: 0 every photo done; 1 some photo had no output (no face, unreadable, output exists); 2 bad usage; 130 cancelled.
Models: ${MODELS_DIR}`)
    .exitOverride()
    .configureOutput({ writeErr: (s) => process.stderr.write(s) });
  let inputs: string[];
  let o: CliOptions;
  try {
    program.parse(argv);
    inputs = program.args;
    o = program.opts() as CliOptions;
    const ext = o.out ? path.extname(o.out).toLowerCase().slice(1) : '';
    if (!o.format) o.format = ext === 'png' ? 'png' : 'psd';
    else if ((ext === 'png' || ext === 'psd') && ext !== o.format) {
      process.stderr.write(`faceshift: --out ${o.out} ends in .${ext} but --format is ${o.format}. Make them agree.\n`);
      return EXIT.USAGE;
    }
  } catch (e) {
    const code = (e as { exitCode?: number }).exitCode;
    return code === 0 ? EXIT.OK : EXIT.USAGE;
  }
  const say = (s: string) => { if (!o.json || process.stderr.isTTY) process.stderr.write(s + '\n'); };
  const { files, missing } = expandInputs(inputs);
  const results: PhotoResult[] = missing.map((m) => ({ input: m, status: 'error' as const, message: `${m} does not exist.` }));
  missing.forEach((m) => say(`faceshift: ${m} does not exist.`));
  const batch = files.length > 1 || inputs.some((a) => fs.existsSync(a) && fs.statSync(a).isDirectory());
  if (o.out && files.length > 1 && fs.existsSync(o.out) && !fs.statSync(o.out).isDirectory()) {
    say(`faceshift: --out ${o.out} is a file, but ${files.length} photos were given. Give a folder.`);
    return EXIT.USAGE;
  }
  const controller = new AbortController();
  const onSigint = () => { controller.abort(); };
  process.once('SIGINT', onSigint);
  let engine: FaceEngine | undefined;
  const bar = batch && process.stderr.isTTY ? new SingleBar({ format: '{bar} {percentage}% | {value}/{total} photos | {file} {stage}', stream: process.stderr, hideCursor: true }, Presets.shades_classic) : undefined;
  bar?.start(files.length, 0, { file: '', stage: '' });
  let cancelled = false;
  try {
    const claimed = new Map<string, string>();
    for (const [i, input] of files.entries()) {
      if (controller.signal.aborted) { cancelled = true; break; }
      const out = outputPath(input, o, batch);
      const twin = claimed.get(path.resolve(out));
      if (twin) {
        const r: PhotoResult = { input, status: 'error', output: out, message: `${input} would be written to ${out}, like ${twin} before it. Rename one of them or process them separately.` };
        results.push(r); say(`faceshift: ${r.message}`); bar?.update(i + 1); continue;
      }
      claimed.set(path.resolve(out), input);
      if (fs.existsSync(out) && !o.force) {
        const r: PhotoResult = { input, status: 'error', output: out, message: `${out} exists; not overwritten. Use --force to replace it, or --out to write elsewhere.` };
        results.push(r); say(`faceshift: ${r.message}`); bar?.update(i + 1); continue;
      }
      try {
        engine ??= await createNodeEngine({ threads: o.threads });
        const r = await processPhoto(engine, input, out, o, (stage) => bar?.update(i, { file: path.basename(input), stage }), controller.signal);
        results.push(r);
        if (r.status === 'ok') {
          const n = r.faces!.filter((f) => f.transformed).length;
          say(`${input}: ${n} face(s) transformed -> ${r.output}${r.notes?.length ? ` (${r.notes.join('; ')})` : ''}`);
          for (const f of r.faces!.filter((x) => x.skipped)) say(`  face ${f.index} skipped: ${f.skipped}`);
        } else say(`${input}: ${r.message} No output written.`);
      } catch (e) {
        if (e instanceof FaceShiftError && e.code === 'CANCELLED') { cancelled = true; results.push({ input, status: 'cancelled', message: e.message }); break; }
        const msg = (e as Error).message;
        results.push({ input, status: 'error', message: msg });
        say(`${input}: ${msg}`);
        if (e instanceof FaceShiftError && e.code === 'BAD_OPTION') break;
        if (!(e instanceof FaceShiftError)) { if (/model|manifest/i.test(msg) && !engine) break; }
      }
      bar?.update(i + 1, { file: path.basename(input), stage: 'done' });
    }
  } finally {
    bar?.stop();
    process.removeListener('SIGINT', onSigint);
    await engine?.dispose();
  }
  if (o.json) {
    process.stdout.write(JSON.stringify({
      direction: o.direction, strength: o.strength, upscale: o.upscale, format: o.format, runtime: engine?.runtimeName ?? null, results,
    }, null, 2) + '\n');
  }
  if (controller.signal.aborted) cancelled = true;
  if (cancelled) { say('Cancelled. Outputs already written are kept; nothing else was written.'); return EXIT.CANCELLED; }
  if (!files.length && !missing.length) { say('faceshift: no photos found in the given folders.'); return EXIT.SOME_FAILED; }
  return results.every((r) => r.status === 'ok') ? EXIT.OK : EXIT.SOME_FAILED;
}
