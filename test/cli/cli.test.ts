import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import * as crypto from 'crypto';
import sharp from 'sharp';
import { readPsd, initializeCanvas } from 'ag-psd';
import { main, EXIT } from '../../src/cli/main';
import { decodePhoto } from '../../src/cli/photo';
import { photo } from '../helpers/photos';
import { shippedDirections } from '../helpers/manifest';

let tmp: string;
beforeAll(() => { tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'faceshift-cli-')); });
afterAll(() => { fs.rmSync(tmp, { recursive: true, force: true }); });

/** Run the CLI in-process, capturing stdout. */
async function cli(...args: string[]): Promise<{ code: number; stdout: string }> {
  let stdout = '';
  const orig = process.stdout.write.bind(process.stdout);
  const origErr = process.stderr.write.bind(process.stderr);
  (process.stdout as unknown as { write: unknown }).write = (s: string) => { stdout += s; return true; };
  (process.stderr as unknown as { write: unknown }).write = () => true;
  try {
    const code = await main(['node', 'faceshift', ...args]);
    return { code, stdout };
  } finally {
    (process.stdout as unknown as { write: unknown }).write = orig;
    (process.stderr as unknown as { write: unknown }).write = origErr;
  }
}

const sha = (f: string) => crypto.createHash('sha256').update(fs.readFileSync(f)).digest('hex');

function copyIn(src: string, name = path.basename(src)): string {
  const dst = path.join(tmp, name);
  fs.copyFileSync(src, dst);
  return dst;
}

// No canvas in Node: ag-psd only needs image-data objects when reading with useImageData.
initializeCanvas(() => { throw new Error('no canvas in tests'); },
  (width: number, height: number) => ({ width, height, data: new Uint8ClampedArray(width * height * 4), colorSpace: 'srgb' }) as unknown as ImageData);

function readLayers(file: string) {
  return readPsd(fs.readFileSync(file), { useImageData: true, skipThumbnail: true });
}

describe('faceshift command line', () => {
  test('writes a layered PSD: original untouched at the bottom, faces above with a feathered mask', async () => {
    const input = copyIn(photo('cc0_codait_luciano'));
    const before = sha(input);
    const { code, stdout } = await cli(input, '--json');
    expect(code).toBe(EXIT.OK);
    const report = JSON.parse(stdout);
    const r = report.results[0];
    expect(r.status).toBe('ok');
    expect(r.output).toBe(path.join(tmp, 'cc0_codait_luciano.faceshift.psd'));
    expect(r.faces.filter((f: { transformed: boolean }) => f.transformed)).toHaveLength(1);
    for (const k of ['decode', 'detect', 'align', 'transform', 'upscale', 'paste', 'write']) expect(r.timings[k]).toBeGreaterThanOrEqual(0);
    expect(sha(input)).toBe(before); // input never modified

    const psd = readLayers(r.output);
    expect(psd.width).toBe(400);
    expect(psd.children).toHaveLength(2);
    const [bottom, faces] = psd.children!;
    const decoded = await decodePhoto(input);
    expect(Buffer.compare(Buffer.from(bottom.imageData!.data), Buffer.from(decoded.image.data))).toBe(0);
    expect(faces.name).toBe('FaceShift male->female');
    const mask = faces.mask!.imageData!;
    const values = new Set<number>();
    let on = 0;
    for (let i = 0; i < mask.width * mask.height; i++) { values.add(mask.data[i * 4]); if (mask.data[i * 4] > 0) on++; }
    expect(on).toBeGreaterThan(0.2 * mask.width * mask.height);
    expect([...values].filter((v) => v > 0 && v < 255).length).toBeGreaterThan(20); // feathered, not a hard edge
    // the face layer sits over the detected face
    const f = r.faces[0].box;
    expect(faces.left!).toBeLessThanOrEqual(f.x + f.width / 2);
    expect(faces.right!).toBeGreaterThanOrEqual(f.x + f.width / 2);
    // the faces layer actually changes the photo
    const comp = psd.imageData!;
    let changed = 0;
    for (let i = 0; i < comp.data.length; i += 4) if (Math.abs(comp.data[i] - decoded.image.data[i]) > 8) changed++;
    expect(changed).toBeGreaterThan(1000);
  });

  test('never overwrites without --force; --force replaces', async () => {
    const input = copyIn(photo('nasa_astronaut_collins'));
    const out = path.join(tmp, 'existing.psd');
    fs.writeFileSync(out, 'keep me');
    expect((await cli(input, '--out', out, '--no-upscale')).code).toBe(EXIT.SOME_FAILED);
    expect(fs.readFileSync(out, 'utf8')).toBe('keep me');
    expect((await cli(input, '--out', out, '--no-upscale', '--force')).code).toBe(EXIT.OK);
    expect(readLayers(out).children).toHaveLength(2);
  });

  test('a photo without a face is reported, writes nothing, and the batch goes on', async () => {
    const dir = path.join(tmp, 'batch');
    fs.mkdirSync(dir);
    copyIn(photo('neg_cc0_chelsea_cat'), 'batch/cat.png');
    copyIn(photo('wh_obama_official_240p'), 'batch/obama.jpg');
    const { code, stdout } = await cli(dir, '--format', 'png', '--no-upscale', '--json');
    expect(code).toBe(EXIT.SOME_FAILED);
    const rs = JSON.parse(stdout).results;
    expect(rs.map((r: { status: string }) => r.status)).toEqual(['no_face', 'ok']);
    expect(fs.existsSync(path.join(dir, 'cat.faceshift.png'))).toBe(false);
    const png = await sharp(path.join(dir, 'obama.faceshift.png')).metadata();
    expect([png.width, png.height]).toEqual([427, 240]);
  });

  test('unreadable files and bad options get clear errors', async () => {
    const bad = path.join(tmp, 'notaphoto.jpg');
    fs.writeFileSync(bad, 'this is text');
    const r = await cli(bad, '--json');
    expect(r.code).toBe(EXIT.SOME_FAILED);
    expect(JSON.parse(r.stdout).results[0].message).toMatch(/not a readable image/);
    expect((await cli(bad, '--strength', '2')).code).toBe(EXIT.USAGE);
    expect((await cli(bad, '--direction', 'cat2dog')).code).toBe(EXIT.USAGE);
    // every direction of the manifest is accepted (the photo is what fails here, not the option)
    for (const d of shippedDirections()) expect((await cli(bad, '--direction', d, '--json')).code).toBe(EXIT.SOME_FAILED);
    expect((await cli(bad, '--faces', 'some')).code).toBe(EXIT.USAGE);
    const missing = await cli(path.join(tmp, 'nope.jpg'), '--json');
    expect(JSON.parse(missing.stdout).results[0].message).toMatch(/does not exist/);
  });

  test('grayscale, transparent and 16-bit PNGs work; the original keeps its alpha', async () => {
    const base = sharp(photo('nasa_astronaut_collins'));
    const gray = path.join(tmp, 'gray.png');
    await base.clone().grayscale().png().toFile(gray);
    const alpha = path.join(tmp, 'alpha.png');
    const { data, info } = await base.clone().ensureAlpha().raw().toBuffer({ resolveWithObject: true });
    for (let y = 0; y < info.height; y++) for (let x = 0; x < info.width; x++) data[(y * info.width + x) * 4 + 3] = x < 100 ? 0 : 255;
    await sharp(data, { raw: { width: info.width, height: info.height, channels: 4 } }).png().toFile(alpha);
    const deep = path.join(tmp, 'deep.png');
    await base.clone().toColourspace('rgb16').png().toFile(deep);
    expect((await sharp(deep).metadata()).depth).toBe('ushort');
    const { code, stdout } = await cli(gray, alpha, deep, '--no-upscale', '--json');
    expect(code).toBe(EXIT.OK);
    const rs = JSON.parse(stdout).results;
    expect(rs.every((r: { status: string }) => r.status === 'ok')).toBe(true);
    expect(rs[2].notes.join(' ')).toMatch(/16-bit/);
    const psd = readLayers(rs[1].output);
    expect(psd.children![0].imageData!.data[3]).toBe(0); // transparent corner stays transparent
    expect(psd.children![0].imageData!.data[(10 * 512 + 300) * 4 + 3]).toBe(255);
  });
});

describe('large photos', () => {
  test('a 24-megapixel photo works: faces found on a small copy, the PSD keeps every pixel', async () => {
    const big = path.join(tmp, 'big24mp.jpg');
    await sharp(photo('wh_biden_obama_greenroom')).resize(5657, 4243).jpeg({ quality: 85 }).toFile(big); // 24.0 MP
    const { code, stdout } = await cli(big, '--no-upscale', '--json');
    expect(code).toBe(EXIT.OK);
    const r = JSON.parse(stdout).results[0];
    expect([r.width, r.height]).toEqual([5657, 4243]);
    // 2 faces at 2048 px; at 24 MP the laughing three-quarter face (detector score 0.79) is not
    // confirmed by the second look and is below the confident score (0.85) that false faces reach
    // (0.82 on a cockpit crop), so it is dropped rather than risk false faces (issue 12, item 7).
    const transformed = r.faces.filter((f: { transformed: boolean }) => f.transformed).length;
    expect(transformed).toBeGreaterThanOrEqual(1);
    expect(transformed).toBeLessThanOrEqual(2);
    const psd = readLayers(r.output);
    expect([psd.width, psd.height]).toEqual([5657, 4243]);
    const faces = psd.children![1];
    // the faces layer covers only the faces, not the photo
    expect((faces.right! - faces.left!) * (faces.bottom! - faces.top!)).toBeLessThan(0.25 * 5657 * 4243);
  });
});

describe('output names', () => {
  test('two photos that would share an output: the second is refused, not overwritten', async () => {
    const dir = path.join(tmp, 'twins');
    fs.mkdirSync(dir);
    copyIn(photo('wh_obama_official_240p'), 'twins/a.jpg');
    await sharp(photo('wh_obama_official_240p')).png().toFile(path.join(dir, 'a.png'));
    const { code, stdout } = await cli(path.join(dir, 'a.jpg'), path.join(dir, 'a.png'), '--no-upscale', '--json');
    expect(code).toBe(EXIT.SOME_FAILED);
    const rs = JSON.parse(stdout).results;
    expect(rs[0].status).toBe('ok');
    expect(rs[1].message).toMatch(/would be written to .*a\.faceshift\.psd, like .*a\.jpg/);
  });

  test('--out x.png writes a PNG; a clash between --out and --format is a usage error', async () => {
    const input = copyIn(photo('wh_obama_official_240p'), 'fmt.jpg');
    const out = path.join(tmp, 'fmt-out.png');
    expect((await cli(input, '--out', out, '--no-upscale')).code).toBe(EXIT.OK);
    expect((await sharp(out).metadata()).format).toBe('png');
    expect((await cli(input, '--out', path.join(tmp, 'x.png'), '--format', 'psd')).code).toBe(EXIT.USAGE);
  });
});
