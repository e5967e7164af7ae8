/**
 * Detection time a photo, the tfjs-wasm graph (the detector before the ONNX conversion: tfjs's
 * resize and scaling, the tfjs graph, then the same decoding) against the ONNX detector on
 * onnxruntime-node (all cores, as the CLI wires it), in one process, alternating, median of runs:
 *   npx tsx scripts/detect-timing.ts [--runs 5] [photo.jpg ...]   (photos under shared/photos)
 */
import * as path from 'path';
import * as tf from '@tensorflow/tfjs-core';
import { loadGraphModel } from '@tensorflow/tfjs-converter';
import { FaceDetectorLike, FaceEngine } from '../src/engine/engine';
import { FULL_RANGE, RawDetection, decodeDetections } from '../src/runtime/detector';
import { loadNodeDetector } from '../src/runtime/detector.node';
import { initTfjsWasm, memoryIOHandler, readGraphModelWeights } from '../src/runtime/tfjs';
import { nodeTfjsWasmDir } from '../src/runtime/tfjs.node';
import { OrtNodeRuntime } from '../src/runtime/onnx.node';
import { nodeModelFiles, readManifest } from '../src/platform/node';
import { decodePhoto, MemoryPhotoSource } from '../src/cli/photo';
import type { RGBAImage } from '../src/core/image';
import { PHOTOS } from '../test/helpers/photos';

const argv = process.argv.slice(2);
const ri = argv.indexOf('--runs');
const runs = ri >= 0 ? Number(argv.splice(ri, 2)[1]) : 5;
const photos = argv.length ? argv : ['loc_chinatown_fishmonger.jpg', 'wh_biden_obama_greenroom.jpg', 'wh_biden_official_2013.jpg'];
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

async function main() {
  const files = nodeModelFiles(), manifest = readManifest();
  await initTfjsWasm(nodeTfjsWasmDir());
  const graph = await loadGraphModel(memoryIOHandler(await readGraphModelWeights(files, { files: manifest.detector.convertedFrom }, 'detector (tfjs)')));
  const S = FULL_RANGE.input;
  const tfjsDetector: FaceDetectorLike = {
    async detect(views: RGBAImage[]): Promise<RawDetection[][]> {
      const W = views[0].width, n = W * W, rgb = new Float32Array(views.length * n * 3);
      views.forEach((v, b) => { const d = v.data, o = b * n * 3; for (let i = 0; i < n; i++) { rgb[o + i * 3] = d[i * 4]; rgb[o + i * 3 + 1] = d[i * 4 + 1]; rgb[o + i * 3 + 2] = d[i * 4 + 2]; } });
      const out = tf.tidy(() => {
        const k = (1 / S) * W;
        const input = tf.image.transform(tf.tensor4d(rgb, [views.length, W, W, 3]), tf.tensor2d([k, -0, 0, 0, k, 0, 0, 0], [1, 8]), 'bilinear', 'constant', 0, [S, S]);
        return graph.execute(tf.add(tf.mul(input, 2 / 255), -1), 'Identity:0') as tf.Tensor;
      });
      try { const values = await out.data() as Float32Array; return views.map((_, b) => decodeDetections(values, b, W, W, 20)); } finally { out.dispose(); }
    },
  };
  const onnxDetector = await loadNodeDetector(files, manifest, new OrtNodeRuntime(0));
  // time inside the detector's calls (the rest of detect is the engine's views, merge and second look)
  const inDetector: Record<string, number> = { 'tfjs-wasm': 0, 'onnxruntime-node': 0 };
  let views = 0;
  const timed = (k: string, d: FaceDetectorLike): FaceDetectorLike => ({
    async detect(v) { const t = performance.now(); try { return await d.detect(v); } finally { inDetector[k] += performance.now() - t; views += v.length; } },
  });
  const engines = {
    'tfjs-wasm': await FaceEngine.create({ manifest, files, runtime: new OrtNodeRuntime(0), detector: timed('tfjs-wasm', tfjsDetector) }),
    'onnxruntime-node': await FaceEngine.create({ manifest, files, runtime: new OrtNodeRuntime(0), detector: timed('onnxruntime-node', onnxDetector) }),
  };
  const ms: Record<string, Record<string, number[]>> = {};
  const found: Record<string, Record<string, number>> = {};
  for (const p of photos) {
    const { image } = await decodePhoto(path.join(PHOTOS, p));
    for (const [k, e] of Object.entries(engines)) await e.detect(new MemoryPhotoSource(image)); // warm-up
    for (const k of Object.keys(inDetector)) inDetector[k] = 0;
    views = 0;
    for (let r = 0; r < runs; r++) {
      for (const [k, e] of Object.entries(engines)) {
        const t = performance.now();
        const faces = await e.detect(new MemoryPhotoSource(image));
        ((ms[p] ??= {})[k] ??= []).push(performance.now() - t);
        (found[p] ??= {})[k] = faces.length;
      }
    }
    const row = Object.entries(ms[p]).map(([k, xs]) => `${k} ${median(xs).toFixed(0)} ms (${found[p][k]} faces)`).join(' | ');
    const [a, b] = Object.values(ms[p]).map(median);
    console.log(`${p} ${image.width}x${image.height}: ${row} | new/old ${(b / a).toFixed(2)}`);
    console.log(`  inside the detector, a photo: ${Object.entries(inDetector).map(([k, t]) => `${k} ${(t / runs).toFixed(0)} ms`).join(', ')}; ${views / runs / 2} views a photo`);
  }
  for (const e of Object.values(engines)) await e.dispose();
  graph.dispose();
}

main().catch((e) => { console.error(e); process.exit(1); });
