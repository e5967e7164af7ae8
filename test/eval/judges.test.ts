/**
 * The evaluation's judges (src/eval/judges.ts) and its batch runner (src/eval/batch-net.ts) on
 * real crops: the shapes of what they say, the same-person reference, the flip rules, and the
 * models under evaluation run on batches of crops of any one size.
 */
import { Judges, Verdict, flipped, isDomain, isDomainCross } from '../../src/eval/judges';
import { BatchNet } from '../../src/eval/batch-net';
import { createNodeEngine, nodeModelFiles } from '../../src/platform/node';
import { OrtNodeRuntime } from '../../src/runtime/onnx.node';
import { findTransform, findUpscaler } from '../../src/models/manifest';
import { alignFace } from '../../src/core/align';
import { RGBAImage, resizeArea } from '../../src/core/image';
import { cosineSimilarity } from '../../src/core/metrics';
import { MemoryPhotoSource, decodePhoto } from '../../src/cli/photo';
import { photo } from '../helpers/photos';

let crops: RGBAImage[];
let manifest: Awaited<ReturnType<typeof createNodeEngine>>['manifest'];
beforeAll(async () => {
  const engine = await createNodeEngine({ threads: 1 });
  manifest = engine.manifest;
  crops = [];
  for (const id of ['nasa_astronaut_collins', 'ccby_chris_pratt']) {
    const image = (await decodePhoto(photo(id))).image;
    const [face] = await engine.detect(new MemoryPhotoSource(image));
    crops.push(alignFace(image, face.keypoints, engine.template, 128).image);
  }
  await engine.dispose();
});

const verdict = (gender: number[], race: number[], femaleCross: number): Verdict => ({ gender, race, femaleCross, descriptor: new Float32Array(4) });

test('the flip rules: GEAR\'s argmax, and for gender FaceRes must agree', () => {
  const woman = verdict([0.2, 0.8], [0.9, 0, 0, 0, 0.1], 0.7);
  expect(isDomain(woman, 'female')).toBe(true);
  expect(isDomain(woman, 'white')).toBe(true);
  expect(isDomainCross(woman, 'female')).toBe(true);
  expect(isDomainCross(woman, 'white')).toBeNull();
  expect(flipped(woman, 'female')).toBe(true);
  expect(flipped({ ...woman, femaleCross: 0.3 }, 'female')).toBe(false);
  expect(flipped(woman, 'asian')).toBe(false);
});

test('the judges: two outputs each, a 1024-d descriptor, the same person close to itself', async () => {
  const judges = await Judges.load();
  const [as, mirrored] = [await judges.judge(crops), await judges.judge(crops, 'mirror-blur')];
  expect(as).toHaveLength(2);
  for (const v of as) {
    expect(v.gender).toHaveLength(2);
    expect(v.race).toHaveLength(5);
    expect(v.descriptor).toHaveLength(1024);
    expect(v.femaleCross).toBeGreaterThanOrEqual(0);
    expect(v.femaleCross).toBeLessThanOrEqual(1);
  }
  const same = as.map((v, i) => cosineSimilarity(v.descriptor, mirrored[i].descriptor));
  const other = cosineSimilarity(as[0].descriptor, as[1].descriptor);
  for (const s of same) expect(s).toBeGreaterThan(other);
}, 120_000);

test('a model under evaluation runs on a batch of crops of one size, at that size', async () => {
  const files = nodeModelFiles();
  const runtime = new OrtNodeRuntime(1);
  const gen = await BatchNet.load(files, findTransform(manifest, 'male2female'), runtime);
  const small = crops.map((c) => resizeArea(c, 64, 64));
  const out = await gen.run(small);
  expect(out.map((o) => [o.width, o.height])).toEqual([[64, 64], [64, 64]]);
  await gen.release();
  const sr = await BatchNet.load(files, findUpscaler(manifest)!, runtime);
  const up = await sr.run(crops.map((c) => resizeArea(c, 16, 16)));
  expect(up.map((o) => [o.width, o.height])).toEqual([[64, 64], [64, 64]]);
  await sr.release();
}, 120_000);
