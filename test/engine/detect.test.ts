import sharp from 'sharp';
import { createNodeEngine } from '../../src/platform/node';
import { FaceEngine, keypointsCertain } from '../../src/engine/engine';
import { FaceDetector } from '../../src/runtime/detector';
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

describe('detection cost (issue 15)', () => {
  test('a face large and whole in its view needs no close-up; a small or cut one does', () => {
    const d = (x: number, y: number, side: number) => ({ score: 0.9, box: { x, y, width: side, height: side }, keypoints: [] });
    expect(keypointsCertain(d(50, 50, 80), 256, 64)).toBe(true);
    expect(keypointsCertain(d(50, 50, 40), 256, 64)).toBe(false);
    expect(keypointsCertain(d(200, 50, 80), 256, 64)).toBe(false); // cut by the view's right edge
    expect(keypointsCertain(d(-5, 50, 80), 256, 64)).toBe(false);
  });

  test('the same faces as one view a call with a close-up for every face (the way before), in a few calls', async () => {
    // the way before issue 15: every view its own detector call, every face looked at from close up
    const before = await createNodeEngine({ config: { detect: { viewsPerCall: 1, closeUpFrom: Number.MAX_VALUE } } });
    const proto = FaceDetector.prototype as unknown as { detect: FaceDetector['detect'] };
    const orig = proto.detect;
    let calls = 0, views = 0;
    proto.detect = function (this: FaceDetector, v) { calls++; views += v.length; return orig.call(this, v); };
    try {
      for (const id of ['wh_biden_obama_greenroom', 'wh_biden_official_2013', 'ccby_chris_pratt', 'wh_flotus_tarmac_children']) {
        const { image } = await decodePhoto(photo(id));
        const old = await before.detect(new MemoryPhotoSource(image));
        const oldCalls = calls;
        calls = 0; views = 0;
        const now = await engine.detect(new MemoryPhotoSource(image));
        expect([id, now.length]).toEqual([id, old.length]);
        // four views a call, and a face the first look saw large and whole skips its close-up
        expect(calls).toBeLessThanOrEqual(Math.ceil(views / engine.config.detect.viewsPerCall) + 2);
        expect(calls * 2).toBeLessThan(oldCalls);
        now.forEach((f, i) => {
          const side = Math.max(old[i].box.width, old[i].box.height);
          // the same face, its keypoints (eyes, nose, mouth) within about 3 % of its size of where they
          // were (largest: ccby_chris_pratt, 2.989 % with the tfjs detector, 3.007 % with its ONNX conversion)
          for (let k = 0; k < 4; k++) expect(Math.hypot(f.keypoints[k].x - old[i].keypoints[k].x, f.keypoints[k].y - old[i].keypoints[k].y) / side).toBeLessThan(0.031);
        });
        calls = 0; views = 0;
      }
    } finally {
      proto.detect = orig;
      await before.dispose();
    }
  }, 300000);
});
