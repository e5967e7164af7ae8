/**
 * Issue 12, "Nothing lost, whatever the input": the command line tried as a hostile user would.
 * Every test works on copies in a temporary folder.
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import * as crypto from 'crypto';
import { spawn, spawnSync } from 'child_process';
import sharp from 'sharp';
import { main, EXIT } from '../../src/cli/main';
import { fsMessage } from '../../src/cli/files';
import { photo } from '../helpers/photos';
import { MODELS } from '../helpers/manifest';

const ROOT = path.resolve(__dirname, '..', '..');
/** One process (no wrapper that would relay or swallow signals) running the TypeScript sources. */
const NODE_TS = ['--require', require.resolve('tsx/cjs')];
const RUNNER = path.join(ROOT, 'test', 'helpers', 'run-cli.ts');

let tmp: string;
beforeAll(() => { tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'faceshift-bad-')); });
afterAll(() => { fs.rmSync(tmp, { recursive: true, force: true }); });

/** Run the CLI in-process, capturing stdout and stderr. */
async function cli(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = '', stderr = '';
  const orig = process.stdout.write.bind(process.stdout);
  const origErr = process.stderr.write.bind(process.stderr);
  (process.stdout as unknown as { write: unknown }).write = (s: string) => { stdout += s; return true; };
  (process.stderr as unknown as { write: unknown }).write = (s: string) => { stderr += s; return true; };
  try {
    const code = await main(['node', 'faceshift', ...args]);
    return { code, stdout, stderr };
  } finally {
    (process.stdout as unknown as { write: unknown }).write = orig;
    (process.stderr as unknown as { write: unknown }).write = origErr;
  }
}

/** The CLI as a child process (for signals, environment and HOME). */
function child(args: string[], env: NodeJS.ProcessEnv = {}) {
  return spawn(process.execPath, [...NODE_TS, RUNNER, ...args], { cwd: ROOT, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
}

function finished(p: ReturnType<typeof child>): Promise<{ code: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string }> {
  let stdout = '', stderr = '';
  p.stdout!.on('data', (d) => { stdout += d; });
  p.stderr!.on('data', (d) => { stderr += d; });
  return new Promise((resolve) => p.on('close', (code, signal) => resolve({ code, signal, stdout, stderr })));
}

const sha = (f: string) => crypto.createHash('sha256').update(fs.readFileSync(f)).digest('hex');

function dir(name: string): string {
  const d = path.join(tmp, name);
  fs.mkdirSync(d, { recursive: true });
  return d;
}

function copy(id: string, to: string): string {
  fs.copyFileSync(photo(id), to);
  return to;
}

const json = (s: string) => JSON.parse(s) as { results: { input: string; status: string; message?: string; output?: string }[] };

describe('an input is never an output (1, 2)', () => {
  test('--out naming the input itself is refused, with or without --force; the photo is untouched', async () => {
    const d = dir('self');
    const h = path.join(d, 'h.png');
    await sharp(photo('wh_obama_official_240p')).png().toFile(h);
    const before = sha(h);
    for (const force of [[], ['--force']]) {
      const r = await cli(h, '--out', h, ...force, '--no-upscale', '--json');
      expect(r.code).toBe(EXIT.SOME_FAILED);
      expect(json(r.stdout).results[0].message).toMatch(/would be written over itself .*never replaced, even with --force/);
      expect(r.stderr.trim().split('\n')).toHaveLength(1);
      expect(sha(h)).toBe(before);
    }
    // h.jpg --out h.jpg: refused too (a .jpg name is never written as a PSD)
    const j = copy('wh_obama_official_240p', path.join(d, 'h.jpg'));
    expect((await cli(j, '--out', j, '--force')).code).toBe(EXIT.USAGE);
    // through a link: a link to the input is the input
    const link = path.join(d, 'link.png');
    fs.symlinkSync(h, link);
    const r = await cli(h, '--out', link, '--force', '--json');
    expect(json(r.stdout).results[0].message).toMatch(/never replaced/);
    expect(sha(h)).toBe(before);
    expect(sha(j)).toBe(sha(photo('wh_obama_official_240p')));
  });

  test('p.png and p.faceshift.png together with --force: the second input is never written over', async () => {
    const d = dir('pair');
    const p = copy('wh_obama_official_240p', path.join(d, 'p.png'));
    const q = path.join(d, 'p.faceshift.png');
    await sharp(photo('nasa_astronaut_collins')).png().toFile(q);
    const before = sha(q);
    const r = await cli(p, q, '--format', 'png', '--force', '--no-upscale', '--json');
    expect(sha(q)).toBe(before);
    const rs = json(r.stdout).results;
    const first = rs.find((x) => x.input === p)!;
    expect(first.status).toBe('error');
    expect(first.message).toMatch(/is the input photo .*p\.faceshift\.png/);
    // the batch went on: the second photo was processed into its own output
    expect(rs.find((x) => x.input === q)!.status).toBe('ok');
    expect(fs.existsSync(path.join(d, 'p.faceshift.faceshift.png'))).toBe(true);
  });

  test('a hard link to an input counts as the input', async () => {
    const d = dir('hard');
    const a = copy('wh_obama_official_240p', path.join(d, 'a.jpg'));
    const out = path.join(d, 'out');
    fs.mkdirSync(out);
    fs.linkSync(a, path.join(out, 'a.faceshift.png'));
    const before = sha(a);
    const r = await cli(a, '--out', out + path.sep, '--format', 'png', '--force', '--json');
    expect(json(r.stdout).results[0].message).toMatch(/over itself .*never replaced/);
    expect(sha(a)).toBe(before);
  });
});

describe('signals and leftovers (3)', () => {
  test('SIGTERM and SIGHUP: cleaned up, said so, exit 128+n, no temporary file left', async () => {
    for (const [sig, code] of [['SIGTERM', 143], ['SIGHUP', 129]] as const) {
      const d = dir(`sig-${sig}`);
      for (const n of ['a', 'b', 'c', 'd']) copy('wh_obama_official_240p', path.join(d, `${n}.jpg`));
      const out = dir(`sig-${sig}-out`);
      const p = child([d, '--out', out, '--no-upscale', '--json']);
      const done = finished(p);
      // signal once the first photo is written, while the batch is still running
      await new Promise<void>((resolve) => {
        const poll = setInterval(() => {
          if (fs.readdirSync(out).some((f) => f.endsWith('.psd'))) { clearInterval(poll); p.kill(sig); resolve(); }
        }, 50);
      });
      const r = await done;
      expect(r.code).toBe(code);
      expect(r.stderr).toMatch(new RegExp(`Cancelled \\(${sig}\\)`));
      expect(fs.readdirSync(out).filter((f) => f.endsWith('.tmp'))).toEqual([]);
      // every photo has its entry, the unprocessed ones as cancelled
      const rs = json(r.stdout).results;
      expect(rs).toHaveLength(4);
      expect(rs.some((x) => x.status === 'cancelled')).toBe(true);
    }
  });

  test('temporary files of a killed earlier run are removed by the next run; a live run\'s are kept', async () => {
    const d = dir('stale');
    const input = copy('wh_obama_official_240p', path.join(d, 'x.jpg'));
    const gone = spawnSync(process.execPath, ['-e', '0']).pid!; // a process that has exited
    const stale = path.join(d, `x.faceshift.psd.${gone}.tmp`);
    const live = path.join(d, `y.faceshift.psd.${process.pid}.tmp`);
    const other = path.join(d, `notes.${gone}.tmp`); // not one of ours
    for (const f of [stale, live, other]) fs.writeFileSync(f, 'partial');
    const r = await cli(input, '--no-upscale');
    expect(r.code).toBe(EXIT.OK);
    expect(fs.existsSync(stale)).toBe(false);
    expect(r.stderr).toMatch(/removed .*interrupted earlier run/);
    expect(fs.existsSync(live)).toBe(true);
    expect(fs.existsSync(other)).toBe(true);
  });
});

describe('a batch always finishes (4, 5)', () => {
  test('a dangling symlink and a FIFO in a folder are reported per photo; the others are done; JSON is printed', async () => {
    const d = dir('links');
    copy('wh_obama_official_240p', path.join(d, 'a.jpg'));
    fs.symlinkSync(path.join(d, 'gone.jpg'), path.join(d, 'b.jpg'));
    spawnSync('mkfifo', [path.join(d, 'c.jpg')]);
    copy('nasa_astronaut_collins', path.join(d, 'd.png'));
    const r = await cli(d, '--no-upscale', '--json');
    expect(r.code).toBe(EXIT.SOME_FAILED);
    const rs = json(r.stdout).results;
    const by = (n: string) => rs.find((x) => x.input === path.join(d, n))!;
    expect(by('a.jpg').status).toBe('ok');
    expect(by('d.png').status).toBe('ok');
    expect(by('b.jpg').message).toMatch(/broken link .*gone\.jpg/);
    expect(by('c.jpg').message).toMatch(/not a regular file \(a FIFO\)/);
  });

  test('--faces 2 on a folder: a photo with one face is reported, the next photos still run', async () => {
    const d = dir('faces2');
    copy('wh_obama_official_240p', path.join(d, 'a.jpg'));
    copy('wh_biden_obama_greenroom', path.join(d, 'b.jpg'));
    copy('nasa_astronaut_collins', path.join(d, 'c.png'));
    const r = await cli(d, '--faces', '2', '--no-upscale', '--json');
    expect(r.code).toBe(EXIT.SOME_FAILED);
    const rs = json(r.stdout).results;
    expect(rs.map((x) => x.status)).toEqual(['error', 'ok', 'error']);
    expect(rs[0].message).toMatch(/Face 2 was asked for, but 1 face\(s\) were found/);
    expect(fs.existsSync(path.join(d, 'b.faceshift.psd'))).toBe(true);
  });

  test('a reader that stops early (`| head`): the photos are still done, no EPIPE crash', async () => {
    const d = dir('pipe');
    copy('wh_obama_official_240p', path.join(d, 'a.jpg'));
    copy('nasa_astronaut_collins', path.join(d, 'b.png'));
    const p = child([d, '--no-upscale', '--json', '--threads', '1']);
    p.stdout!.destroy(); // the reader is gone before the report is written
    let stderr = '';
    p.stderr!.on('data', (x) => { stderr += x; });
    const code = await new Promise<number | null>((resolve) => p.on('close', (c) => resolve(c)));
    expect(stderr).not.toMatch(/EPIPE|Unhandled/);
    expect(code).toBe(EXIT.OK);
    expect(fs.existsSync(path.join(d, 'a.faceshift.psd'))).toBe(true);
    expect(fs.existsSync(path.join(d, 'b.faceshift.psd'))).toBe(true);
  }, 120000);
});

describe('wrong results refused (10)', () => {
  test('--out with an extension that is not the format is refused; nothing is written', async () => {
    const d = dir('ext');
    const h = copy('wh_obama_official_240p', path.join(d, 'h.jpg'));
    for (const out of ['o.jpg', 'o.tif', 'o.psd.bak']) {
      const r = await cli(h, '--out', path.join(d, out));
      expect(r.code).toBe(EXIT.USAGE);
      expect(r.stderr).toMatch(/writes layered PSD files/);
      expect(fs.existsSync(path.join(d, out))).toBe(false);
    }
    expect((await cli(h, '--out', path.join(d, 'o.jpg'), '--format', 'png')).code).toBe(EXIT.USAGE);
  });

  test('--strength \'\' and --threads 1.5 are usage errors (exit 2)', async () => {
    const h = copy('wh_obama_official_240p', path.join(dir('opts'), 'h.jpg'));
    for (const args of [['--strength', ''], ['--strength', ' '], ['--threads', '1.5'], ['--threads', '']]) {
      expect((await cli(h, ...args)).code).toBe(EXIT.USAGE);
    }
    expect(fs.readdirSync(path.dirname(h))).toEqual(['h.jpg']);
  });

  test('a fully transparent PNG: nothing visible would change, so it says so and writes nothing', async () => {
    const d = dir('clear');
    const { data, info } = await sharp(photo('nasa_astronaut_collins')).ensureAlpha().raw().toBuffer({ resolveWithObject: true });
    for (let i = 3; i < data.length; i += 4) data[i] = 0;
    const f = path.join(d, 'clear.png');
    await sharp(data, { raw: { width: info.width, height: info.height, channels: 4 } }).png().toFile(f);
    const r = await cli(f, '--no-upscale', '--json');
    expect(r.code).toBe(EXIT.SOME_FAILED);
    const x = json(r.stdout).results[0];
    expect(x.status).toBe('nothing_visible');
    expect(x.message).toMatch(/Nothing visible would change \(the face lies in fully transparent pixels\)/);
    expect(fs.readdirSync(d)).toEqual(['clear.png']);
  });
});

describe('messages (11, 12)', () => {
  test('a damaged models/manifest.json is named once with the fix; --help still works; no direction is blamed', async () => {
    const models = dir('models-damaged');
    const text = fs.readFileSync(path.join(MODELS, 'manifest.json'), 'utf8');
    fs.writeFileSync(path.join(models, 'manifest.json'), text.slice(0, Math.floor(text.length / 2)));
    const d = dir('mf');
    for (const n of ['a', 'b', 'c']) copy('wh_obama_official_240p', path.join(d, `${n}.jpg`));
    const env = { FACESHIFT_MODELS: models };
    const r = await finished(child([d, '-d', 'female2male', '--json'], env));
    expect(r.code).toBe(EXIT.SOME_FAILED);
    const lines = r.stderr.trim().split('\n');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toContain(path.join(models, 'manifest.json'));
    expect(lines[0]).toMatch(/damaged .*Restore models\/ .*or reinstall/);
    expect(lines[0]).not.toMatch(/allowed choices/);
    expect(json(r.stdout).results).toHaveLength(3);
    const help = await finished(child(['--help'], env));
    expect(help.code).toBe(0);
    expect(help.stdout).toMatch(/--direction/);
    expect(help.stdout).toMatch(/manifest\.json is damaged/);
  });

  test('permission denied names the file; a read-only folder names the user\'s output path', async () => {
    // as root every file is readable: run the check as nobody then
    const asRoot = process.getuid?.() === 0;
    const d = dir('perm');
    fs.chmodSync(tmp, 0o755);
    fs.chmodSync(d, 0o777);
    const f = copy('wh_obama_official_240p', path.join(d, 'locked.jpg'));
    const ok = copy('wh_obama_official_240p', path.join(d, 'ok.jpg'));
    fs.chmodSync(f, 0o000);
    fs.chmodSync(ok, 0o644);
    const ro = dir('perm-ro');
    fs.chmodSync(ro, 0o555);
    const run = async (...args: string[]) => (asRoot
      ? finished(spawn(process.execPath, [...NODE_TS, RUNNER, ...args], { cwd: ROOT, uid: 65534, gid: 65534, env: { ...process.env, HOME: d }, stdio: ['ignore', 'pipe', 'pipe'] }))
      : cli(...args));
    const r = await run(f, '--json');
    expect(json(r.stdout).results[0].message).toBe(`Could not read ${f}: permission denied. Check its permissions.`);
    const w = await run(ok, '--out', path.join(ro, 'x.psd'), '--no-upscale', '--json');
    fs.chmodSync(f, 0o644);
    fs.chmodSync(ro, 0o755);
    const msg = json(w.stdout).results[0].message!;
    expect(msg).toBe(`Could not write ${path.join(ro, 'x.psd')}: permission denied. Check its permissions, or use --out to write elsewhere.`);
  });

  test('full and read-only disks are named with the user\'s path, in one line', () => {
    const err = (code: string) => Object.assign(new Error(`${code}: raw text, write '/x/y.psd.123.tmp'`), { code });
    expect(fsMessage(err('ENOSPC'), '/photos/a.faceshift.psd', 'write')).toBe('Could not write /photos/a.faceshift.psd: the disk is full. Free some space or use --out to write elsewhere.');
    expect(fsMessage(err('EROFS'), '/photos/a.faceshift.psd', 'write')).toBe('Could not write /photos/a.faceshift.psd: the disk is read-only. Use --out to write elsewhere.');
    expect(fsMessage(err('ENOENT'), '/mnt/gone', 'make the folder')).toMatch(/^Could not make the folder \/mnt\/gone: /);
  });

  test('HEIC says in one line that it is unsupported and what to do', async () => {
    // an HEIF container whose image is HEVC: libvips reads the header but has no HEVC decoder
    const d = dir('heic');
    const f = path.join(d, 'phone.heic');
    fs.writeFileSync(f, Buffer.concat([
      Buffer.from('00000018667479706865696300000000686569636d696631', 'hex'),
      crypto.randomBytes(256),
    ]));
    const r = await cli(f, '--json');
    const msg = json(r.stdout).results[0].message!;
    expect(msg).toMatch(/HEIC\/HEIF photo, which this build cannot decode .*Convert it to JPEG or PNG/);
    expect(msg.split('\n')).toHaveLength(1);
  });

  test('a FIFO given as input is refused up front, without waiting on it', async () => {
    const d = dir('fifo');
    const f = path.join(d, 'pipe.jpg');
    spawnSync('mkfifo', [f]);
    const t0 = Date.now();
    const r = await cli(f, '--json');
    expect(Date.now() - t0).toBeLessThan(10000);
    expect(json(r.stdout).results[0].message).toBe(`${f} is not a regular file (a FIFO). Give a photo file.`);
  });
});

describe('privacy (13)', () => {
  test('a run writes nothing outside its outputs: HOME pointed at an empty folder stays empty', async () => {
    const home = dir('home');
    const d = dir('home-photos');
    const f = copy('wh_obama_official_240p', path.join(d, 'a.jpg'));
    const r = await finished(child([f, '--no-upscale'], { HOME: home, XDG_CACHE_HOME: '', ORT_DISABLE_TELEMETRY: '' }));
    expect(r.code).toBe(EXIT.OK);
    expect(r.stderr).not.toMatch(/[Tt]elemetry/);
    expect(fs.readdirSync(home)).toEqual([]);
    expect(fs.readdirSync(d).sort()).toEqual(['a.faceshift.psd', 'a.jpg']);
  });
});
