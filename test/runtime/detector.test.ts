/**
 * The batched ONNX detector (runtime/detector.ts on onnxruntime-node) against the pipeline it writes
 * out: the same views through @tensorflow-models/face-detection 1.0 with the tfjs graph model the
 * ONNX file was converted from (the engine's detector before) give the same faces, boxes and
 * keypoints within 1e-3 px, scores within 1e-5; and a view gives the same answer alone or in a batch.
 */
import * as tf from '@tensorflow/tfjs-core';
import * as faceDetection from '@tensorflow-models/face-detection';
import { FaceDetector, RawDetection, decodeDetections, nonMaxSuppression } from '../../src/runtime/detector';
import { loadNodeDetector } from '../../src/runtime/detector.node';
import { initTfjsWasm, memoryIOHandler, readGraphModelWeights } from '../../src/runtime/tfjs';
import { nodeTfjsWasmDir } from '../../src/runtime/tfjs.node';
import { nodeModelFiles, readManifest } from '../../src/platform/node';
import { warpAffine } from '../../src/core/geometry';
import type { RGBAImage } from '../../src/core/image';
import { detectorViews } from '../helpers/detector-views';

interface MpDetection {
  score: number[];
  locationData: { relativeBoundingBox: { xMin: number; yMin: number; width: number; height: number }; relativeKeypoints: { x: number; y: number }[] };
}

let ours: FaceDetector;
let reference: faceDetection.FaceDetector;
const views: RGBAImage[] = [];

beforeAll(async () => {
  const files = nodeModelFiles(), manifest = readManifest();
  ours = await loadNodeDetector(files, manifest);
  await initTfjsWasm(nodeTfjsWasmDir());
  const tfjsWeights = await readGraphModelWeights(files, { files: manifest.detector.convertedFrom }, 'detector (tfjs)');
  reference = await faceDetection.createDetector(faceDetection.SupportedModels.MediaPipeFaceDetector, {
    runtime: 'tfjs', modelType: 'full', maxFaces: 20, detectorModelUrl: memoryIOHandler(tfjsWeights),
  });
  views.push(...await detectorViews());
}, 120000);

afterAll(async () => { await ours.dispose(); reference.dispose(); });

async function referenceDetect(v: RGBAImage): Promise<RawDetection[]> {
  const n = v.width * v.height, rgb = new Int32Array(n * 3);
  for (let i = 0; i < n; i++) { rgb[i * 3] = v.data[i * 4]; rgb[i * 3 + 1] = v.data[i * 4 + 1]; rgb[i * 3 + 2] = v.data[i * 4 + 2]; }
  const t = tf.tensor3d(rgb, [v.height, v.width, 3], 'int32');
  try {
    const dets = await (reference as unknown as { detectFaces(img: tf.Tensor3D, flip: boolean): Promise<MpDetection[]> }).detectFaces(t, false);
    return dets.map((d) => {
      const b = d.locationData.relativeBoundingBox;
      return {
        score: d.score[0], box: { x: b.xMin * v.width, y: b.yMin * v.height, width: b.width * v.width, height: b.height * v.height },
        keypoints: d.locationData.relativeKeypoints.map((k) => ({ x: k.x * v.width, y: k.y * v.height })),
      };
    });
  } finally { t.dispose(); }
}

/** The same faces in the same order; boxes and keypoints within `px`, scores within `s`. */
function expectSameFaces(got: RawDetection[], want: RawDetection[], px: number, s: number): void {
  expect(got.length).toBe(want.length);
  got.forEach((g, i) => {
    const w = want[i];
    expect(Math.abs(g.score - w.score)).toBeLessThanOrEqual(s);
    for (const k of ['x', 'y', 'width', 'height'] as const) expect(Math.abs(g.box[k] - w.box[k])).toBeLessThanOrEqual(px);
    expect(g.keypoints).toHaveLength(w.keypoints.length);
    g.keypoints.forEach((p, j) => { expect(Math.abs(p.x - w.keypoints[j].x)).toBeLessThanOrEqual(px); expect(Math.abs(p.y - w.keypoints[j].y)).toBeLessThanOrEqual(px); });
  });
}

test('each view: the same faces as @tensorflow-models/face-detection with the tfjs model, within 1e-3 px', async () => {
  let faces = 0;
  for (const v of views) {
    const [got] = await ours.detect([v]);
    expectSameFaces(got, await referenceDetect(v), 1e-3, 1e-5);
    faces += got.length;
  }
  expect(faces).toBeGreaterThanOrEqual(6); // the views hold faces: the comparison is not of empty lists
});

test('non-maximum suppression: greedy by score, a box overlapping a kept one by IoU > 0.3 dropped, at most max kept', () => {
  const boxes = [[0, 0, 10, 10], [1, 1, 11, 11], [0, 20, 10, 30], [0, 5, 10, 15], [50, 50, 50, 60]];
  // IoU(0,1) = 81/119 > 0.3: dropped; IoU(0,3) = 50/150 > 0.3: dropped; the empty box overlaps nothing
  expect(nonMaxSuppression(boxes, 20, 0.3)).toEqual([0, 2, 4]);
  expect(nonMaxSuppression(boxes, 2, 0.3)).toEqual([0, 2]);
  expect(nonMaxSuppression(boxes, 20, 0.7)).toEqual([0, 1, 2, 3, 4]);
});

test('decoding: a score logit below the threshold gives no face, one above a box around its anchor', () => {
  const values = new Float32Array(2304 * 17).fill(0);
  for (let i = 0; i < 2304; i++) values[i * 17] = -10;
  const a = 48 * 24 + 24; // the anchor of cell (24, 24): centre (24.5 / 48) of the view
  values.set([3, 0, 0, 48, 96, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0], a * 17);
  const [d] = decodeDetections(values, 0, 192, 192, 20);
  expect(d.score).toBeCloseTo(1 / (1 + Math.exp(-3)), 6);
  expect(d.box.x).toBeCloseTo(98 - 24, 4); expect(d.box.width).toBeCloseTo(48, 4);
  expect(d.box.y).toBeCloseTo(98 - 48, 4); expect(d.box.height).toBeCloseTo(96, 4);
  expect(decodeDetections(values.fill(-10), 0, 192, 192, 20)).toEqual([]);
});

test('a batch of views: each view answered exactly as when it is shown alone', async () => {
  const batch = await ours.detect(views);
  expect(batch).toHaveLength(views.length);
  for (let i = 0; i < views.length; i++) expect(batch[i]).toEqual((await ours.detect([views[i]]))[0]);
});

test('views must be squares of one size', async () => {
  await expect(ours.detect([views[0], warpAffine(views[1], [2, 0, 0, 0, 2, 0], 128, 128)])).rejects.toThrow(/one size/);
  expect(await ours.detect([])).toEqual([]);
});
