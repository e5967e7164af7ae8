/**
 * The batched detector (runtime/detector.ts) against the pipeline it writes out: the same views
 * through @tensorflow-models/face-detection 1.0 (the full-range model, as the engine ran it before)
 * give the same detections, to the last bit; and a view gives the same answer alone or in a batch.
 */
import * as tf from '@tensorflow/tfjs-core';
import * as faceDetection from '@tensorflow-models/face-detection';
import { FaceDetector, RawDetection, memoryIOHandler, readDetectorWeights } from '../../src/runtime/detector';
import { loadNodeDetector } from '../../src/runtime/detector.node';
import { nodeModelFiles, readManifest } from '../../src/platform/node';
import { decodePhoto } from '../../src/cli/photo';
import { warpAffine } from '../../src/core/geometry';
import type { RGBAImage } from '../../src/core/image';
import { photo } from '../helpers/photos';

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
  reference = await faceDetection.createDetector(faceDetection.SupportedModels.MediaPipeFaceDetector, {
    runtime: 'tfjs', modelType: 'full', maxFaces: 20, detectorModelUrl: memoryIOHandler(await readDetectorWeights(files, manifest)),
  });
  // views as the engine makes them: a whole photo with margin, tiles, close-ups, a turned view, a view with no face
  const greenroom = (await decodePhoto(photo('wh_biden_obama_greenroom'))).image;
  const collins = (await decodePhoto(photo('nasa_astronaut_collins'))).image;
  const flotus = (await decodePhoto(photo('wh_flotus_tarmac_children'))).image;
  const cat = (await decodePhoto(photo('neg_cc0_chelsea_cat'))).image;
  const view = (img: RGBAImage, x: number, y: number, size: number, angle = 0) => {
    const s = size / 256, a = (angle * Math.PI) / 180, c = Math.cos(a) * s, sn = Math.sin(a) * s;
    const cx = x + size / 2, cy = y + size / 2;
    return warpAffine(img, [c, -sn, cx - c * 128 + sn * 128, sn, c, cy - sn * 128 - c * 128], 256, 256);
  };
  views.push(view(greenroom, -410, -666, 2868), view(greenroom, 448, 0, 640), view(greenroom, 896, 448, 640),
    view(collins, -102, -102, 716), view(collins, 120, 20, 300, 30), view(flotus, 896, 448, 640), view(flotus, 1408, 896, 640), view(cat, 0, 0, 300));
}, 120000);

afterAll(() => { ours.dispose(); reference.dispose(); });

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

test('each view: the same detections as @tensorflow-models/face-detection, to the last bit', async () => {
  let faces = 0;
  for (const v of views) {
    const [got] = await ours.detect([v]);
    expect(got).toEqual(await referenceDetect(v));
    faces += got.length;
  }
  expect(faces).toBeGreaterThanOrEqual(6); // the views hold faces: the comparison is not of empty lists
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
