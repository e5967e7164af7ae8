/**
 * Issue 12 items 6 to 9: faces the detector used to miss (tight headshots, small faces in small
 * photos, a face on its side) and things it took for faces. Measured on real photos.
 */
import * as fs from 'fs';
import * as path from 'path';
import sharp from 'sharp';
import { createNodeEngine } from '../../src/platform/node';
import { FaceEngine, smallestDetectableFace } from '../../src/engine/engine';
import { MemoryPhotoSource, decodePhoto } from '../../src/cli/photo';
import { alignFace } from '../../src/core/align';
import { warpAffine } from '../../src/core/geometry';
import { RGBAImage, cropRGBA, toRGBA } from '../../src/core/image';
import { splitOf } from '../../src/eval/dataset';
import { rng } from '../../scripts/detection-audit';
import { SHARED, photo, photoRows } from '../helpers/photos';

const UTK = path.join(SHARED, 'datasets', 'utkface', 'images');

let engine: FaceEngine;
beforeAll(async () => { engine = await createNodeEngine(); });
afterAll(async () => { await engine.dispose(); });

const detect = (img: RGBAImage) => engine.detect(new MemoryPhotoSource(img));

async function raw(s: ReturnType<typeof sharp>): Promise<RGBAImage> {
  const { data, info } = await s.ensureAlpha().raw().toBuffer({ resolveWithObject: true });
  return toRGBA(data, info.width, info.height, 4);
}

/** Validation-split UTKFace photos (never trained on), evenly spread over the sorted list. */
function validationPhotos(n: number): string[] {
  const val = fs.readdirSync(UTK).sort().filter((f) => splitOf(f) === 'val');
  return Array.from({ length: n }, (_, i) => path.join(UTK, val[Math.floor((i * val.length) / n)]));
}

/** Is the face, aligned on its keypoints, upright where the template puts it? (detected again on the crop) */
async function alignedUpright(img: RGBAImage, keypoints: { x: number; y: number }[]): Promise<boolean> {
  const crop = alignFace(img, keypoints, engine.template, 128).image;
  const again = await detect(warpAffine(crop, [1, 0, -64, 0, 1, -64], 256, 256));
  if (again.length !== 1) return false;
  const [re, le] = again[0].keypoints;
  const [tx, ty] = engine.template.points[0];
  return Math.abs(Math.atan2(le.y - re.y, le.x - re.x)) < 10 * Math.PI / 180 && Math.hypot(re.x - 64 - tx * 128, re.y - 64 - ty * 128) < 12;
}

const haveUtk = fs.existsSync(UTK);

describe('tight headshots (6)', () => {
  (haveUtk ? test : test.skip)('99 % or more of 100 validation-split UTKFace crops (200x200, face filling the frame) get their face', async () => {
    let found = 0;
    const missed: string[] = [];
    for (const f of validationPhotos(100)) {
      const faces = await detect(await raw(sharp(f)));
      if (faces.length) found++; else missed.push(path.basename(f));
    }
    expect(found).toBeGreaterThanOrEqual(99);
  }, 600000);
});

describe('false faces (7)', () => {
  test('random crops of the no-face photos give no face', async () => {
    const rand = rng(12);
    const falses: string[] = [];
    for (const r of photoRows().filter((p) => p.id.startsWith('neg_'))) {
      const img = (await decodePhoto(r.file)).image;
      for (let k = 0; k < 40; k++) {
        const side = Math.round(Math.min(img.width, img.height) * (0.1 + 0.6 * rand()));
        const x = Math.floor(rand() * (img.width - side)), y = Math.floor(rand() * (img.height - side));
        const n = (await detect(cropRGBA(img, x, y, side, side))).length;
        if (n) falses.push(`${r.id} ${x},${y},${side}`);
      }
    }
    expect(falses).toEqual([]);
  }, 600000);

  test('the photos with faces keep every real face they had, and none beyond the hand count', async () => {
    // faces found before the second look was added, on the photos where it found only real faces;
    // wh_obama_phone_oval had one false face more than its hand count before
    const before: Record<string, number> = {
      nasa_astronaut_collins: 1, wh_obama_official_2012: 1, wh_obama_official_240p: 1, wh_biden_official_2013: 1,
      wh_biden_obama_greenroom: 2, wh_obama_biden_backstage_bw: 1, wh_flotus_tarmac_children: 3, ccbysa_henner_glasses: 1,
      ccby_chris_pratt: 1, cc0_codait_luciano: 1, loc_chinatown_fishmonger: 1, wh_obama_phone_oval: 1,
    };
    for (const r of photoRows().filter((p) => before[p.id])) {
      const faces = await detect((await decodePhoto(r.file)).image);
      expect([r.id, faces.length >= before[r.id] && faces.length <= r.faces]).toEqual([r.id, true]);
    }
  }, 600000);
});

describe('a face on its side (8)', () => {
  test.each([90, 180, 270])('rotated %d degrees: found and aligned upright, or not returned; never a misaligned face', async (deg) => {
    const img = await raw(sharp(photo('nasa_astronaut_collins')).rotate(deg));
    const faces = await detect(img);
    expect(faces.length).toBeLessThanOrEqual(1);
    for (const f of faces) expect(await alignedUpright(img, f.keypoints)).toBe(true);
    expect(faces).toHaveLength(1); // and here the turned views do find it
  });
});

describe('small faces in small photos (9)', () => {
  /** UTKFace crops shrunk to `face` px (the detector's box is about the crop's side), laid out on a grey photo. */
  async function crowd(width: number, height: number, cols: number, rows: number, face: number) {
    const files = validationPhotos(cols * rows + 20).slice(20);
    const cw = width / cols, ch = height / rows;
    const side = face;
    const parts = await Promise.all(files.slice(0, cols * rows).map(async (f, i) => ({
      input: await sharp(f).resize(side, side).toBuffer(),
      left: Math.round((i % cols) * cw + (cw - side) / 2), top: Math.round(Math.floor(i / cols) * ch + (ch - side) / 2),
    })));
    return raw(sharp({ create: { width, height, channels: 3, background: '#8a8f88' } }).composite(parts));
  }

  test('a 600x450 crowd of twelve 50-60 px faces: found as in a large photo', async () => {
    // before the fine tiles: 2 of 12 (50 px), 3 (55 px), 1 (60 px); after: 10, 10, 11. The two
    // missed are cut-out squares the detector finds hard at any size (one it sees, the second look refuses).
    for (const face of [50, 60]) {
      const img = await crowd(600, 450, 4, 3, face);
      expect((await detect(img)).length).toBeGreaterThanOrEqual(10);
    }
  }, 300000);

  test('a 20000x200 strip of ~52 px faces: found, and the "no face" promise matches what is found', async () => {
    const img = await crowd(20000, 200, 40, 1, 52);
    const faces = await detect(img);
    expect(faces.length).toBeGreaterThanOrEqual(34); // before: 0 of 40; after: 36
    expect(smallestDetectableFace(20000, 200)).toBeLessThanOrEqual(52);
    expect(smallestDetectableFace(600, 450)).toBeLessThanOrEqual(50);
  }, 300000);
});
