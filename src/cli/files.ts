/**
 * The command line's files: which paths are photos, where each output goes, and writing it so
 * that a cancelled or failed run never leaves half a file and never replaces an input. Every
 * problem is named with the user's own path and what to do.
 */
import * as fs from 'fs';
import * as path from 'path';
import { CancelSignal, FaceShiftError, throwIfCancelled } from '../core/errors';
import { errorText } from '../app/messages';

const IMAGE_EXT = /\.(jpe?g|png|webp|tiff?|avif|heic|gif)$/i;

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
    default: return `Could not ${doing} ${userPath}: ${errorText(e)}.`;
  }
}

/** The file a path names, after links: the same file under two names is one file. */
export function identity(p: string): string | null {
  try {
    const st = fs.statSync(p);
    return `${st.dev}:${st.ino}`;
  } catch { return null; }
}

export function realTarget(p: string): string {
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

export function outputPath(input: string, opts: { out?: string; format: 'psd' | 'png' }, batch: boolean): string {
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
 * appeared while this photo was being processed: link() refuses to overwrite). `write` streams the
 * output into the temporary file it is given (nothing holds the whole file in memory).
 */
export async function writeOutput(out: string, write: (tmp: string) => Promise<void>, force: boolean, signal?: CancelSignal): Promise<void> {
  const tmp = `${out}.${process.pid}.tmp`;
  try {
    fs.mkdirSync(path.dirname(out), { recursive: true });
  } catch (e) { throw new FaceShiftError('BAD_INPUT', fsMessage(e, path.dirname(out), 'make the folder')); }
  pendingTemps.add(tmp);
  try {
    await write(tmp);
    // a signal during the write has already removed the temporary file: stop before it is moved
    throwIfCancelled(signal);
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

export function removePendingTemps(): void {
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
