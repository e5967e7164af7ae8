/**
 * faceshift: transform the faces in photos from the command line.
 * Writes a layered PSD (original untouched at the bottom, faces above with a layer mask) or a PNG.
 */
import * as fs from 'fs';
import * as os from 'os';
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
import type { FacePatch } from '../core/blend';

export const EXIT = { OK: 0, SOME_FAILED: 1, USAGE: 2, CANCELLED: 130 } as const;
const IMAGE_EXT = /\.(jpe?g|png|webp|tiff?|avif|heic|gif)$/i;

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

/** A photo that cannot be read, found while listing the inputs: reported, never fatal. */
export interface InputProblem { input: string; message: string }

/**
 * Files to process: each argument is a photo or a folder of photos (not recursive; earlier
 * outputs skipped). Whatever a path turns out to be (missing, a broken link, a FIFO, unreadable),
 * it is reported on its own and the others go on.
 */
export function expandInputs(args: string[]): { files: string[]; missing: string[]; problems: InputProblem[]; order: string[] } {
  const files: string[] = [], missing: string[] = [], problems: InputProblem[] = [], order: string[] = [];
  const check = (p: string, explicit: boolean) => {
    order.push(p);
    const problem = inputProblem(p);
    if (problem === 'missing' && explicit) missing.push(p);
    else if (problem && problem !== 'missing') problems.push({ input: p, message: problem });
    else if (!problem) files.push(p);
  };
  for (const a of args) {
    let st: fs.Stats | undefined;
    try { st = fs.statSync(a); } catch { /* reported by check */ }
    if (st?.isDirectory()) {
      let names: string[];
      try { names = fs.readdirSync(a).sort(); } catch (e) { problems.push({ input: a, message: fsMessage(e, a, 'read the folder') }); continue; }
      for (const f of names) if (IMAGE_EXT.test(f) && !/\.faceshift\./.test(f)) check(path.join(a, f), false);
    } else check(a, true);
  }
  return { files, missing, problems, order };
}

/** Why a path cannot be read as a photo ('missing' when nothing is there), or null. Checked before anything runs, so a FIFO never blocks. */
export function inputProblem(p: string): string | null {
  let st: fs.Stats;
  try { st = fs.statSync(p); } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') {
      try {
        if (fs.lstatSync(p).isSymbolicLink()) return `${p} is a broken link (its target ${fs.readlinkSync(p)} does not exist). Fix or remove the link.`;
      } catch { /* nothing there at all */ }
      return 'missing';
    }
    return fsMessage(e, p, 'read');
  }
  if (!st.isFile()) return `${p} is not a regular file (${st.isFIFO() ? 'a FIFO' : st.isDirectory() ? 'a folder' : st.isSocket() ? 'a socket' : 'a device'}). Give a photo file.`;
  try { fs.accessSync(p, fs.constants.R_OK); } catch (e) { return fsMessage(e, p, 'read'); }
  return null;
}

/** One line for a file-system error, naming the user's path (never a temporary one) and what to do. */
export function fsMessage(e: unknown, userPath: string, doing: string): string {
  const code = (e as NodeJS.ErrnoException).code;
  switch (code) {
    case 'EACCES': case 'EPERM': return `Could not ${doing} ${userPath}: permission denied. Check its permissions${doing === 'read' ? '' : ', or use --out to write elsewhere'}.`;
    case 'EROFS': return `Could not ${doing} ${userPath}: the disk is read-only. Use --out to write elsewhere.`;
    case 'ENOSPC': case 'EDQUOT': return `Could not ${doing} ${userPath}: the disk is full. Free some space or use --out to write elsewhere.`;
    case 'ENOENT': return `Could not ${doing} ${userPath}: the folder does not exist and could not be made. Check the path.`;
    case 'ENOTDIR': return `Could not ${doing} ${userPath}: part of the path is a file, not a folder. Check the path.`;
    case 'EISDIR': return `Could not ${doing} ${userPath}: it is a folder. Give a file name.`;
    default: return `Could not ${doing} ${userPath}: ${oneLine((e as Error).message)}.`;
  }
}

function oneLine(s: string): string {
  return s.split(/\r?\n/).map((l) => l.trim()).filter(Boolean)[0] ?? s;
}

/** The file a path names, after links: the same file under two names is one file. */
function identity(p: string): string | null {
  try {
    const st = fs.statSync(p);
    return `${st.dev}:${st.ino}`;
  } catch { return null; }
}

function realTarget(p: string): string {
  try { return fs.realpathSync(p); } catch {
    try { return path.join(fs.realpathSync(path.dirname(p)), path.basename(p)); } catch { return path.resolve(p); }
  }
}

/**
 * Refuse an output that is an input: with or without --force, writing it would destroy a
 * photo (possibly one not yet read). Compared after resolving links, and by inode, so a hard
 * link or a symlinked folder is caught too.
 */
export function inputOverwritten(out: string, inputs: { path: string; real: string; id: string | null }[]): string | null {
  const real = realTarget(out), id = identity(out);
  const hit = inputs.find((i) => i.real === real || (id !== null && i.id === id));
  return hit ? hit.path : null;
}

export function outputPath(input: string, opts: Pick<CliOptions, 'out' | 'format'>, batch: boolean): string {
  const name = `${path.parse(input).name}.faceshift.${opts.format}`;
  if (!opts.out) return path.join(path.dirname(input), name);
  const isDir = batch || opts.out.endsWith(path.sep) || opts.out.endsWith('/') || (fs.existsSync(opts.out) && fs.statSync(opts.out).isDirectory());
  return isDir ? path.join(opts.out, name) : opts.out;
}

/** Temporary files being written now: removed on a signal. */
const pendingTemps = new Set<string>();
const TMP_SUFFIX = /\.(\d+)\.tmp$/;

/**
 * Write beside the target, then move it in place: a cancelled or failed run never leaves a
 * half-written file, and without --force an existing file is never replaced (not even one that
 * appeared while this photo was being processed: link() refuses to overwrite).
 */
export function writeOutput(out: string, bytes: Buffer, force: boolean): void {
  const tmp = `${out}.${process.pid}.tmp`;
  try {
    fs.mkdirSync(path.dirname(out), { recursive: true });
  } catch (e) { throw new FaceShiftError('BAD_INPUT', fsMessage(e, path.dirname(out), 'make the folder')); }
  pendingTemps.add(tmp);
  try {
    fs.writeFileSync(tmp, bytes);
    if (force) fs.renameSync(tmp, out);
    else {
      try { fs.linkSync(tmp, out); } catch (e) {
        if ((e as NodeJS.ErrnoException).code === 'EEXIST') throw new FaceShiftError('BAD_INPUT', `${out} exists; not overwritten. Use --force to replace it, or --out to write elsewhere.`);
        throw e;
      }
    }
  } catch (e) {
    if (e instanceof FaceShiftError) throw e;
    throw new FaceShiftError('BAD_INPUT', fsMessage(e, out, 'write'));
  } finally {
    fs.rmSync(tmp, { force: true });
    pendingTemps.delete(tmp);
  }
}

function removePendingTemps(): void {
  for (const t of pendingTemps) { try { fs.rmSync(t, { force: true }); } catch { /* best effort */ } }
  pendingTemps.clear();
}

function processAlive(pid: number): boolean {
  try { process.kill(pid, 0); return true; } catch (e) { return (e as NodeJS.ErrnoException).code === 'EPERM'; }
}

/**
 * Temporary outputs (`<name>.psd.<pid>.tmp`) that a killed earlier run (SIGKILL, power loss)
 * left in these folders: removed when that process is gone. Returns what was removed.
 */
export function removeStaleTemps(dirs: Iterable<string>): string[] {
  const removed: string[] = [];
  for (const dir of new Set(dirs)) {
    let names: string[];
    try { names = fs.readdirSync(dir); } catch { continue; }
    for (const n of names) {
      const m = TMP_SUFFIX.exec(n);
      if (!m || !/\.(psd|png)$/i.test(n.slice(0, m.index))) continue;
      const pid = Number(m[1]);
      if (pid === process.pid || processAlive(pid)) continue;
      const f = path.join(dir, n);
      try { if (fs.lstatSync(f).isFile()) { fs.rmSync(f); removed.push(f); } } catch { /* not ours to fight over */ }
    }
  }
  return removed;
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
    // "--faces 3" on a photo with two faces: this photo's problem, not the batch's
    if (e instanceof FaceShiftError && e.code === 'BAD_OPTION' && /was asked for/.test(e.message)) {
      return { input, status: 'error', message: `${e.message} Choose another face, or --faces all.`, notes: photo.notes,
        width: photo.image.width, height: photo.image.height, timings };
    }
    if (e instanceof FaceShiftError && (e.code === 'NO_FACE' || e.code === 'FACE_TOO_SMALL')) {
      return { input, status: e.code === 'NO_FACE' ? 'no_face' : 'faces_too_small', message: e.message, notes: photo.notes,
        width: photo.image.width, height: photo.image.height, timings };
    }
    throw e;
  }
  Object.assign(timings, Object.fromEntries(Object.entries(report.timings).map(([k, v]) => [k, Math.round(v)])));
  if (!report.faces.some((f) => visiblePixels(f.patch) > 0)) {
    const why = o.strength === 0 ? 'the strength is 0' : 'the face lies in fully transparent pixels';
    return { input, status: 'nothing_visible', message: `Nothing visible would change (${why}).`, notes: photo.notes,
      width: photo.image.width, height: photo.image.height, timings };
  }
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

/** Pixels of a patch that would show: under the mask and not transparent in the photo. */
function visiblePixels(p: FacePatch): number {
  let n = 0;
  for (let i = 0; i < p.mask.data.length; i++) if (p.mask.data[i] > 0 && p.rgba.data[i * 4 + 3] > 0) n++;
  return n;
}

export async function main(argv = process.argv): Promise<number> {
  let directions: string[] = [];
  let manifestProblem: string | undefined;
  try { directions = listDirections(readManifest()).map((d) => d.direction); } catch (e) { manifestProblem = oneLine((e as Error).message); }
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
    .option('--min-face <px>', 'skip faces smaller than this (box side, pixels)', num('min-face', 8, 10000), DEFAULT_MIN_FACE_SIZE)
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
          engine ??= await createNodeEngine({ threads: o.threads });
        } catch (e) {
          // the models, not this photo: said once, and every remaining photo is listed with it
          engineProblem = oneLine((e as Error).message);
          results.push({ input, status: 'error', message: engineProblem });
          process.stderr.write(`faceshift: ${engineProblem}\n`);
          continue;
        }
        const r = await processPhoto(engine, input, out, o, (stage) => bar?.update(i, { file: path.basename(input), stage }), controller.signal);
        if (r.status === 'ok') {
          const n = r.faces!.filter((f) => f.transformed).length;
          report(r, `${input}: ${n} face(s) transformed -> ${r.output}${r.notes?.length ? ` (${r.notes.join('; ')})` : ''}`);
          for (const f of r.faces!.filter((x) => x.skipped)) say(`  face ${f.index} skipped: ${f.skipped}`);
        } else report(r, `${input}: ${r.message} No output written.`);
      } catch (e) {
        if (e instanceof FaceShiftError && e.code === 'CANCELLED') { cancelled = true; results.push({ input, status: 'cancelled', message: e.message }); break; }
        const msg = oneLine((e as Error).message);
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
