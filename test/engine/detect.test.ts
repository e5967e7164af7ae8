import sharp from 'sharp';
import { createNodeEngine } from '../../src/platform/node';
import type { FaceEngine } from '../../src/engine/engine';
import { MemoryPhotoSource, decodePhoto } from '../../src/cli/photo';
import { alignFace } from '../../src/core/align';
import { warpAffine } from '../../src/core/geometry';
import { photoRows, photo } from '../helpers/photos';

let engine: FaceEngine;
beforeAll(async () => { engine = await createNodeEngine(); });
afterAll(async () => { await engine.dispose(); });

async function detectFile(file: string) {
  const p = await decodePhoto(file);
  return { faces: await engine.detect(new MemoryPhotoSource(p.image)), image: p.image };
}

describe('detection on the real test photos', () => {
  const rows = photoRows();
  test.each(rows.filter((r) => r.id.startsWith('neg_')).map((r) => [r.id, r.file]))('%s has no face', async (_id, file) => {
    const { faces } = await detectFile(file);
    expect(faces).toEqual([]);
  });

  test.each(rows.filter((r) => !r.id.startsWith('neg_')).map((r) => [r.id, r.file, r.faces]))(
    '%s: faces found match the hand count', async (_id, file, expected) => {
      const { faces, image } = await detectFile(file);
      // The full-range detector misses strong profiles and faces behind glass, so at least 40 % of the
      // hand count, and never more than it plus one tiny background face. nasa_exp23_launch_day: 1 of 5;
      // its second detection was a strong profile with both eyes stacked on one vertical line, which
      // would have been aligned and pasted turned 90 degrees: the second look drops it (issue 12, item 8).
      const least = _id === 'nasa_exp23_launch_day' ? 1 : Math.max(1, Math.ceil(expected * 0.4));
      expect(faces.length).toBeGreaterThanOrEqual(least);
      expect(faces.length).toBeLessThanOrEqual(expected + 1);
      for (const f of faces) {
        expect(f.score).toBeGreaterThan(0.5);
        expect(f.keypoints).toHaveLength(6);
        expect(f.box.x + f.box.width / 2).toBeGreaterThan(0);
        expect(f.box.x + f.box.width / 2).toBeLessThan(image.width);
      }
    });
});

describe('alignment of real faces', () => {
  test('a head rolled 45 degrees comes out upright', async () => {
    const src = await sharp(photo('nasa_astronaut_collins')).rotate(45, { background: '#808080' }).ensureAlpha().raw().toBuffer({ resolveWithObject: true });
    const image = { width: src.info.width, height: src.info.height, data: new Uint8ClampedArray(src.data) };
    const faces = await engine.detect(new MemoryPhotoSource(image));
    expect(faces.length).toBe(1);
    const crop = alignFace(image, faces[0].keypoints, engine.template, 128).image;
    // detect again on the crop (padded, as the detector needs context): the eyes must be level
    const padded = warpAffine(crop, [1, 0, -64, 0, 1, -64], 256, 256);
    const again = await engine.detect(new MemoryPhotoSource(padded));
    expect(again.length).toBe(1);
    const [re, le] = again[0].keypoints;
    const roll = Math.atan2(le.y - re.y, le.x - re.x) * 180 / Math.PI;
    expect(Math.abs(roll)).toBeLessThan(6);
    // and where the template says they should be, within a few pixels
    const [tx, ty] = engine.template.points[0];
    expect(Math.hypot(re.x - 64 - tx * 128, re.y - 64 - ty * 128)).toBeLessThan(10);
  });

  test('a face at the photo edge is padded, not shifted', async () => {
    const { image } = await decodePhoto(photo('nasa_astronaut_collins'));
    const faces = await engine.detect(new MemoryPhotoSource(image));
    // cut the photo so the face touches the left edge
    const cutX = Math.round(faces[0].box.x + faces[0].box.width * 0.3);
    const cut = await sharp(photo('nasa_astronaut_collins')).extract({ left: cutX, top: 0, width: image.width - cutX, height: image.height })
      .ensureAlpha().raw().toBuffer({ resolveWithObject: true });
    const cutImg = { width: cut.info.width, height: cut.info.height, data: new Uint8ClampedArray(cut.data) };
    const kp = faces[0].keypoints.map((p) => ({ x: p.x - cutX, y: p.y }));
    const a = alignFace(image, faces[0].keypoints, engine.template, 128);
    const b = alignFace(cutImg, kp, engine.template, 128);
    // the same keypoints give the same framing: right half of the crops identical
    let diff = 0, n = 0;
    for (let y = 0; y < 128; y++) for (let x = 96; x < 128; x++) {
      const i = (y * 128 + x) * 4;
      diff += Math.abs(a.image.data[i] - b.image.data[i]); n++;
    }
    expect(diff / n).toBeLessThan(1);
  });
});
