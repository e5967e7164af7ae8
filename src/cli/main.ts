/**
 * faceshift: transform the faces in photos from the command line.
 * Writes a layered PSD (original untouched at the bottom, faces above with a layer mask) or a PNG.
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { pipeline } from 'stream/promises';
import { Command, InvalidArgumentError, Option } from 'commander';
import { SingleBar, Presets } from 'cli-progress';
import sharp from 'sharp';
import { createNodeEngine, readManifest, MODELS_DIR } from '../platform/node';
import type { FaceEngine } from '../engine/engine';
import { DEFAULT_CONFIG } from '../engine/config';
import { FaceShiftError, FaceShiftErrorCode, throwIfCancelled } from '../core/errors';
import { parseFaceSelection, FaceSelection } from '../core/faces';
import { compositeLayerInPlace } from '../core/layer';
import { listDirections } from '../models/manifest';
import { EnginePort, localEngine } from '../app/engine-port';
import { HostWords, PHOTO_WORDS, errorText } from '../app/messages';
import { RunStage, transformDocument } from '../app/transform';
import { DecodedPhoto, decodePhoto, MemoryPhotoSource } from './photo';
import { writePsd } from './psd';
import { expandInputs, identity, inputOverwritten, outputPath, realTarget, removePendingTemps, removeStaleTemps, writeOutput } from './files';

export const EXIT = { OK: 0, SOME_FAILED: 1, USAGE: 2, CANCELLED: 130 } as const;

export interface CliOptions {
  direction: string; strength: number; faces: FaceSelection; upscale: boolean; format: 'psd' | 'png';
  out?: string; force: boolean; json: boolean; minFace: number; colorMatch?: boolean; threads: number;
}

export interface PhotoResult {
  input: string;
  status: 'ok' | 'no_face' | 'faces_too_small' | 'nothing_visible' | 'error' | 'cancelled';
  output?: string;
  message?: string;
  notes?: string[];
  width?: number; height?: number;
  faces?: { index: number; box: { x: number; y: number; width: number; height: number }; score: number; transformed: boolean; skipped?: string }[];
  timings?: Record<string, number>;
}

function num(name: string, lo: number, hi: number, integer = false) {
  return (v: string) => {
    // Number('') and Number(' ') are 0: an empty value is refused, not read as zero
    const n = v.trim() === '' ? NaN : Number(v);
    if (!Number.isFinite(n) || n < lo || n > hi || (integer && !Number.isInteger(n))) {
      throw new InvalidArgumentError(`${name} must be ${integer ? 'a whole number' : 'a number'} from ${lo} to ${hi}.`);
    }
    return n;
  };
}

/** The command line's words for what to do. */
const WORDS: HostWords = { ...PHOTO_WORDS, chooseFace: 'Choose another face, or --faces all.' };

/** What a photo's own problem is called in the report (other codes fail the photo as 'error'). */
const STATUS: Partial<Record<FaceShiftErrorCode, PhotoResult['status']>> = {
  NO_FACE: 'no_face', FACE_TOO_SMALL: 'faces_too_small', NOTHING_VISIBLE: 'nothing_visible', NO_SUCH_FACE: 'error',
};

/** One photo: the use case with the file as its source and a PSD or PNG file as its sink. */
export async function processPhoto(engine: EnginePort, input: string, out: string, o: CliOptions,
  onStage: (stage: Exclude<RunStage, 'read'> | 'decode', fraction: number) => void, signal: AbortSignal): Promise<PhotoResult> {
  let photo: DecodedPhoto | undefined;
  let decodeMs = 0;
  try {
    const r = await transformDocument({
      engine, words: WORDS,
      open: async () => {
        const t = Date.now();
        photo = await decodePhoto(input);
        decodeMs = Date.now() - t;
        return { source: new MemoryPhotoSource(photo.image) };
      },
      sink: {
        write: async (layer, name, call) => {
          const image = photo!.image;
          throwIfCancelled(call.signal);
          if (o.format === 'psd') {
            await writeOutput(out, (tmp) => writePsd(tmp, { original: image, originalName: path.basename(input), faces: layer, facesName: name }, call.signal), o.force, call.signal);
          } else {
            // the photo's own pixels are not needed after this: the composite is made in them, not beside them
            const composite = compositeLayerInPlace(image, layer);
            const png = sharp(Buffer.from(composite.data.buffer, composite.data.byteOffset, composite.data.byteLength),
              { raw: { width: composite.width, height: composite.height, channels: 4 }, limitInputPixels: false }).png();
            await writeOutput(out, (tmp) => pipeline(png, fs.createWriteStream(tmp)), o.force, call.signal);
          }
        },
      },
    }, {
      direction: o.direction, strength: o.strength, faces: o.faces, upscale: o.upscale, minFaceSize: o.minFace, colorMatch: o.colorMatch,
    }, { signal, onProgress: (p) => onStage(p.stage === 'read' ? 'decode' : p.stage, p.fraction) });
    const { read: _open, ...steps } = r.timings;
    const done = new Set(r.transformed);
    const skipped = new Map(r.skipped.map((x) => [x.face, x.reason]));
    return {
      input, status: 'ok', output: out, notes: photo!.notes, width: photo!.image.width, height: photo!.image.height,
      timings: Object.fromEntries(Object.entries({ decode: decodeMs, ...steps }).map(([k, v]) => [k, Math.round(v)])),
      faces: r.detected.map((f, i) => ({
        index: i + 1, score: +f.score.toFixed(3), transformed: done.has(f), skipped: skipped.get(f),
        box: { x: Math.round(f.box.x), y: Math.round(f.box.y), width: Math.round(f.box.width), height: Math.round(f.box.height) },
      })),
    };
  } catch (e) {
    // this photo's own problem ("--faces 3" on a photo with two, no face, ...): reported, and the batch goes on
    const status = e instanceof FaceShiftError ? STATUS[e.code] : undefined;
    if (!status || !photo) throw e;
    return { input, status, message: (e as FaceShiftError).message, notes: photo.notes, width: photo.image.width, height: photo.image.height, timings: { decode: decodeMs } };
  }
}

/**
 * A reader that stops early (`faceshift --help | head -1`, `faceshift photos --json | head`) closes the
 * pipe: the run carries on and finishes its photos, writing nothing more to that stream, instead of
 * dying on EPIPE. For the process's entry point only (it keeps its listeners for the process's life).
 */
export function carryOnWhenPipesClose(): void {
  for (const stream of [process.stdout, process.stderr]) {
    stream.on('error', (e: NodeJS.ErrnoException) => { if (e.code !== 'EPIPE') throw e; });
  }
}

export async function main(argv = process.argv): Promise<number> {
  let directions: string[] = [];
  let manifestProblem: string | undefined;
  try { directions = listDirections(readManifest()).map((d) => d.direction); } catch (e) { manifestProblem = errorText(e); }
  const direction = new Option('-d, --direction <direction>', 'which transform').default('male2female');
  // With a damaged manifest the directions are unknown: take any, and report the manifest once (not the user's choice).
  if (directions.length) direction.choices(directions);
  const program = new Command()
    .name('faceshift')
    .description('Transform the faces in photos with on-device neural networks; writes a layered PSD (or PNG) beside each photo.')
    .argument('<photos...>', 'photo files or folders of photos')
    .addOption(direction)
    .option('-s, --strength <0..1.5>', 'how much of the change shows; above 1 it is extrapolated', num('strength', 0, 1.5), 1)
    .option('--faces <which>', 'all | largest | a face number (1 = top-left first)', (v: string) => {
      try { return parseFaceSelection(v); } catch (e) { throw new InvalidArgumentError((e as Error).message); }
    }, 'all' as FaceSelection)
    .option('--no-upscale', 'skip the 4x super-resolution (faster, softer)')
    .addOption(new Option('--format <format>', 'output: layered PSD or composited PNG (default: from --out\'s extension, else psd)').choices(['psd', 'png']))
    .option('-o, --out <file|dir>', 'output file (one photo) or folder (default: beside each photo)')
    .option('-f, --force', 'overwrite existing outputs (never an input photo)', false)
    .option('--json', 'print a JSON report to stdout', false)
    .option('--min-face <px>', 'skip faces smaller than this (box side, pixels)', num('min-face', 8, 10000), DEFAULT_CONFIG.minFaceSize)
    .option('--color-match', 'treat the new face\'s colours as the model\'s measured colour policy says (the default; a Reinhard match where that policy is none)')
    .option('--no-color-match', 'keep the network\'s colours as they are')
    .option('--threads <n>', 'CPU threads for the nets (0 = all)', num('threads', 0, 256, true), 0)
    .addHelpText('after', `
Exit codes: 0 every photo done; 1 some photo had no output (no face, unreadable, output exists); 2 bad usage; 130/143/129 cancelled (Ctrl-C, SIGTERM, SIGHUP).
Models: ${MODELS_DIR}${manifestProblem ? `\n${manifestProblem}` : ''}`)
    .exitOverride()
    .configureOutput({ writeErr: (s) => process.stderr.write(s) });
  let inputs: string[];
  let o: CliOptions;
  try {
    program.parse(argv);
    inputs = program.args;
    o = program.opts() as CliOptions;
  } catch (e) {
    const code = (e as { exitCode?: number }).exitCode;
    return code === 0 ? EXIT.OK : EXIT.USAGE;
  }
  const usage = (s: string) => { process.stderr.write(`faceshift: ${s}\n`); return EXIT.USAGE; };
  const { files, missing, problems, order } = expandInputs(inputs);
  const batch = files.length + problems.length > 1 || inputs.some((a) => { try { return fs.statSync(a).isDirectory(); } catch { return false; } });
  const outIsDir = !!o.out && (batch || /[\\/]$/.test(o.out) || (fs.existsSync(o.out) && fs.statSync(o.out).isDirectory()));
  const ext = o.out && !outIsDir ? path.extname(o.out).toLowerCase().slice(1) : '';
  if (!o.format) o.format = ext === 'png' ? 'png' : 'psd';
  if (ext && ext !== o.format) {
    return usage(ext === 'png' || ext === 'psd'
      ? `--out ${o.out} ends in .${ext} but --format is ${o.format}. Make them agree.`
      : `--out ${o.out} ends in .${ext}, but FaceShift writes ${o.format === 'png' ? 'PNG' : 'layered PSD'} files. End the name in .${o.format} (or use --format png with .png).`);
  }
  const say = (s: string) => { if (!o.json || process.stderr.isTTY) process.stderr.write(s + '\n'); };
  const results: PhotoResult[] = [];
  const report = (r: PhotoResult, line: string) => { results.push(r); say(line); };
  for (const m of missing) report({ input: m, status: 'error', message: `${m} does not exist.` }, `faceshift: ${m} does not exist.`);
  for (const p of problems) report({ input: p.input, status: 'error', message: p.message }, `faceshift: ${p.message}`);
  if (o.out && files.length > 1 && fs.existsSync(o.out) && !fs.statSync(o.out).isDirectory()) {
    return usage(`--out ${o.out} is a file, but ${files.length} photos were given. Give a folder.`);
  }
  if (manifestProblem) {
    // once, not per photo: every photo would fail the same way
    for (const f of files) results.push({ input: f, status: 'error', message: manifestProblem });
    results.sort((a, b) => order.indexOf(a.input) - order.indexOf(b.input));
    process.stderr.write(`faceshift: ${manifestProblem}\n`);
    if (o.json) process.stdout.write(JSON.stringify({ direction: o.direction, format: o.format, runtime: null, error: manifestProblem, results }, null, 2) + '\n');
    return EXIT.SOME_FAILED;
  }

  // Plan every output before anything is written: no output may be an input, or another photo's output.
  const known = files.map((f) => ({ path: f, real: realTarget(f), id: identity(f) }));
  const plan: { input: string; out: string }[] = [];
  const claimed = new Map<string, string>();
  for (const input of files) {
    const out = outputPath(input, o, batch);
    const victim = inputOverwritten(out, known);
    const twin = claimed.get(realTarget(out));
    if (victim) {
      const msg = victim === input
        ? `${input} would be written over itself (--out ${out}). An input is never replaced, even with --force: use another --out.`
        : `${input} would be written to ${out}, which is the input photo ${victim}. An input is never replaced, even with --force: use another --out.`;
      report({ input, status: 'error', output: out, message: msg }, `faceshift: ${msg}`);
    } else if (twin) {
      const msg = `${input} would be written to ${out}, like ${twin} before it. Rename one of them or process them separately.`;
      report({ input, status: 'error', output: out, message: msg }, `faceshift: ${msg}`);
    } else {
      claimed.set(realTarget(out), input);
      plan.push({ input, out });
    }
  }
  for (const f of removeStaleTemps(plan.map((p) => path.dirname(p.out)))) say(`faceshift: removed ${f}, a temporary file left by an interrupted earlier run.`);

  const controller = new AbortController();
  let signalled: NodeJS.Signals | undefined;
  const onSignal = (sig: NodeJS.Signals) => {
    if (!signalled) signalled = sig;
    removePendingTemps();
    controller.abort();
  };
  const SIGNALS: NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP'];
  for (const sig of SIGNALS) process.on(sig, onSignal);
  let engine: FaceEngine | undefined;
  const bar = batch && process.stderr.isTTY ? new SingleBar({ format: '{bar} {percentage}% | {value}/{total} photos | {file} {stage}', stream: process.stderr, hideCursor: true }, Presets.shades_classic) : undefined;
  bar?.start(plan.length, 0, { file: '', stage: '' });
  let cancelled = false;
  let engineProblem: string | undefined;
  try {
    for (const [i, { input, out }] of plan.entries()) {
      if (controller.signal.aborted) { cancelled = true; break; }
      if (engineProblem) { results.push({ input, status: 'error', message: engineProblem }); continue; }
      if (fs.existsSync(out) && !o.force) {
        const msg = `${out} exists; not overwritten. Use --force to replace it, or --out to write elsewhere.`;
        report({ input, status: 'error', output: out, message: msg }, `faceshift: ${msg}`); bar?.update(i + 1); continue;
      }
      try {
        try {
          // the engine plans its detection views from the smallest face that matters (--min-face)
          engine ??= await createNodeEngine({ threads: o.threads, config: { minFaceSize: o.minFace } });
        } catch (e) {
          // the models, not this photo: said once, and every remaining photo is listed with it
          engineProblem = errorText(e);
          results.push({ input, status: 'error', message: engineProblem });
          process.stderr.write(`faceshift: ${engineProblem}\n`);
          continue;
        }
        const r = await processPhoto(localEngine(engine, 'native'), input, out, o, (stage) => bar?.update(i, { file: path.basename(input), stage }), controller.signal);
        if (r.status === 'ok') {
          const n = r.faces!.filter((f) => f.transformed).length;
          report(r, `${input}: ${n} face(s) transformed -> ${r.output}${r.notes?.length ? ` (${r.notes.join('; ')})` : ''}`);
          for (const f of r.faces!.filter((x) => x.skipped)) say(`  face ${f.index} skipped: ${f.skipped}`);
        } else report(r, `${input}: ${r.message} No output written.`);
      } catch (e) {
        if (e instanceof FaceShiftError && e.code === 'CANCELLED') { cancelled = true; results.push({ input, status: 'cancelled', message: e.message }); break; }
        const msg = errorText(e);
        report({ input, status: 'error', message: msg }, `${input}: ${msg}`);
      }
      bar?.update(i + 1, { file: path.basename(input), stage: 'done' });
    }
  } finally {
    bar?.stop();
    for (const sig of SIGNALS) process.removeListener(sig, onSignal);
    removePendingTemps();
    await engine?.dispose().catch(() => undefined);
  }
  if (controller.signal.aborted) cancelled = true;
  if (cancelled) {
    // every photo still gets its entry
    for (const { input } of plan) if (!results.some((r) => r.input === input)) results.push({ input, status: 'cancelled', message: 'Not processed: cancelled.' });
  }
  // the report lists photos in the order they were found (refusals were decided before the run)
  const rank = new Map(order.map((p, i) => [p, i]));
  results.sort((a, b) => (rank.get(a.input) ?? order.length) - (rank.get(b.input) ?? order.length));
  if (o.json) {
    process.stdout.write(JSON.stringify({
      direction: o.direction, strength: o.strength, upscale: o.upscale, format: o.format, runtime: engine?.runtimeName ?? null, results,
    }, null, 2) + '\n');
  }
  if (cancelled) {
    const sig = signalled ?? 'SIGINT';
    // said even with --json (stdout carries the report; this goes to stderr)
    process.stderr.write(`Cancelled${signalled ? ` (${sig})` : ''}. Temporary files removed; outputs already written are kept; nothing else was written.\n`);
    return 128 + (os.constants.signals[sig] ?? 2);
  }
  if (!files.length && !missing.length && !problems.length) { say('faceshift: no photos found in the given folders.'); return EXIT.SOME_FAILED; }
  return results.every((r) => r.status === 'ok') ? EXIT.OK : EXIT.SOME_FAILED;
}
