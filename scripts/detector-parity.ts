/**
 * The ONNX detector (models/detector/face-detection-full.onnx, made by training/tfjs_to_onnx.py)
 * against the tfjs graph model it was converted from, on real views (those of
 * test/runtime/detector.test.ts): the preprocessing, the raw outputs on the same input, the raw
 * outputs of the whole pipeline, the decoded detections; then the time a view, alternating.
 *   npx tsx scripts/detector-parity.ts [--rounds 7]
 */
import * as tf from '@tensorflow/tfjs-core';
import { loadGraphModel } from '@tensorflow/tfjs-converter';
import { FULL_RANGE, FaceDetector, RawDetection, decodeDetections, detectorInput } from '../src/runtime/detector';
import { initTfjsWasm, memoryIOHandler, readGraphModelWeights } from '../src/runtime/tfjs';
import { nodeTfjsWasmDir } from '../src/runtime/tfjs.node';
import { OrtNodeRuntime } from '../src/runtime/onnx.node';
import { OrtWebModule, OrtWebRuntime } from '../src/runtime/onnx.web';
import { nodeModelFiles, readManifest } from '../src/platform/node';
import type { RGBAImage } from '../src/core/image';
import { detectorViews } from '../test/helpers/detector-views';

const rounds = Number(process.argv[process.argv.indexOf('--rounds') + 1]) || 7;
const maxAbs = (a: ArrayLike<number>, b: ArrayLike<number>) => { let m = 0; for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i])); return m; };
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

async function main() {
  const files = nodeModelFiles(), manifest = readManifest();
  await initTfjsWasm(nodeTfjsWasmDir());
  const graph = await loadGraphModel(memoryIOHandler(await readGraphModelWeights(files, { files: manifest.detector.convertedFrom }, 'detector (tfjs)')));
  const onnx1 = await FaceDetector.load(new OrtNodeRuntime(1), files, manifest);
  const onnx2 = await FaceDetector.load(new OrtNodeRuntime(2), files, manifest);
  // the pages' runtime: onnxruntime-web's WASM build (Node's copy of it), one thread
  // eslint-disable-next-line @typescript-eslint/no-var-requires
  const web = await FaceDetector.load(new OrtWebRuntime(require('onnxruntime-web') as OrtWebModule, { device: 'wasm', threads: 1 }), files, manifest);
  const net = await new OrtNodeRuntime(1).load(new Uint8Array(require('fs').readFileSync(require('path').join(__dirname, '..', 'models', manifest.detector.files[0].file))), 'raw');

  const views = await detectorViews();
  const S = FULL_RANGE.input, W = 256;

  // the old path: tfjs's resize and scaling, the tfjs graph
  const tfjsInput = (vs: RGBAImage[]) => tf.tidy(() => {
    const n = W * W, rgb = new Float32Array(vs.length * n * 3);
    vs.forEach((v, b) => { for (let i = 0; i < n; i++) for (let c = 0; c < 3; c++) rgb[b * n * 3 + i * 3 + c] = v.data[i * 4 + c]; });
    const k = (1 / S) * 1 * W;
    const input = tf.image.transform(tf.tensor4d(rgb, [vs.length, W, W, 3]), tf.tensor2d([k, -0, 0, 0, k, 0, 0, 0], [1, 8]), 'bilinear', 'constant', 0, [S, S]);
    return tf.add(tf.mul(input, 2 / 255), -1) as tf.Tensor4D;
  });
  const tfjsRun = async (input: tf.Tensor4D) => { const out = graph.execute(input, 'Identity:0') as tf.Tensor; try { return await out.data() as Float32Array; } finally { out.dispose(); } };

  const tIn = tfjsInput(views), tInData = await tIn.data() as Float32Array;
  const oursIn = detectorInput(views);
  const tfjsRaw = await tfjsRun(tIn);
  const sameInput = (await net.run({ data: tInData, dims: [views.length, S, S, 3] })).data;
  const pipeline = (await net.run({ data: oursIn, dims: [views.length, S, S, 3] })).data;
  tIn.dispose();
  let range = 0; for (const v of tfjsRaw) range = Math.max(range, Math.abs(v));
  console.log(`views ${views.length} (256 px); raw output [${views.length}, 2304, 17], max |value| ${range.toFixed(1)}`);
  console.log(`preprocessing (detectorInput vs tf.image.transform + scale): max abs diff ${maxAbs(oursIn, tInData).toExponential(2)}`);
  console.log(`net alone, the same input (ONNX vs tfjs graph): max abs diff ${maxAbs(sameInput, tfjsRaw).toExponential(2)}`);
  // where the differences are: score logits (value 0 of 17) and coordinates (input pixels, up to hundreds), relative to max(1, |value|)
  const V = FULL_RANGE.values;
  let logit = 0, coord = 0, rel = 0;
  for (let i = 0; i < tfjsRaw.length; i++) {
    const d = Math.abs(pipeline[i] - tfjsRaw[i]);
    if (i % V === 0) logit = Math.max(logit, d); else coord = Math.max(coord, d);
    rel = Math.max(rel, d / Math.max(1, Math.abs(tfjsRaw[i])));
  }
  console.log(`  by kind: score logits ${logit.toExponential(2)}, coordinates ${coord.toExponential(2)}; relative to max(1, |value|) ${rel.toExponential(2)}`);
  console.log(`whole pipeline raw output (ONNX path vs tfjs path): max abs diff ${maxAbs(pipeline, tfjsRaw).toExponential(2)}`);

  let box = 0, kp = 0, score = 0, faces = 0, countDiff = 0;
  const dOld: RawDetection[][] = views.map((_, b) => decodeDetections(tfjsRaw, b, W, W, 20));
  const dNew = await onnx1.detect(views);
  views.forEach((_, b) => {
    if (dOld[b].length !== dNew[b].length) { countDiff++; return; }
    dOld[b].forEach((o, i) => {
      const n = dNew[b][i]; faces++;
      score = Math.max(score, Math.abs(o.score - n.score));
      box = Math.max(box, Math.abs(o.box.x - n.box.x), Math.abs(o.box.y - n.box.y), Math.abs(o.box.width - n.box.width), Math.abs(o.box.height - n.box.height));
      o.keypoints.forEach((p, k) => { kp = Math.max(kp, Math.abs(p.x - n.keypoints[k].x), Math.abs(p.y - n.keypoints[k].y)); });
    });
  });
  const dWeb = await web.detect(views);
  let webDiff = 0, webCount = 0;
  views.forEach((_, b) => {
    if (dWeb[b].length !== dNew[b].length) { webCount++; return; }
    dWeb[b].forEach((w, i) => { const n = dNew[b][i]; webDiff = Math.max(webDiff, Math.abs(w.box.x - n.box.x), Math.abs(w.box.y - n.box.y), ...w.keypoints.map((p, k) => Math.max(Math.abs(p.x - n.keypoints[k].x), Math.abs(p.y - n.keypoints[k].y)))); });
  });
  console.log(`onnxruntime-web (wasm) vs onnxruntime-node detections: ${webCount} views with different counts, max diff ${webDiff.toExponential(2)} px`);
  console.log(`detections: ${faces} faces in both, ${countDiff} views with different counts; max diff box ${box.toExponential(2)} px, keypoints ${kp.toExponential(2)} px, score ${score.toExponential(2)}`);

  // time a view: batches of 4 as the engine calls it, alternating old / new, median of rounds
  const batch = views.slice(0, 4);
  const time = async (f: () => Promise<unknown>) => { const t = performance.now(); await f(); return performance.now() - t; };
  const oldFull = async () => { const i = tfjsInput(batch); try { await tfjsRun(i); } finally { i.dispose(); } };
  const runs: Record<string, () => Promise<unknown>> = { 'tfjs-wasm': oldFull, 'onnxruntime-node 1 thread': () => onnx1.detect(batch), 'onnxruntime-node 2 threads': () => onnx2.detect(batch), 'onnxruntime-web wasm 1 thread': () => web.detect(batch) };
  for (const f of Object.values(runs)) { await f(); await f(); }
  const ms: Record<string, number[]> = Object.fromEntries(Object.keys(runs).map((k) => [k, []]));
  for (let r = 0; r < rounds; r++) for (const [k, f] of Object.entries(runs)) ms[k].push(await time(f));
  { const t = performance.now(); for (let r = 0; r < rounds; r++) detectorInput(batch); console.log(`detectorInput (JS resize + scale): ${((performance.now() - t) / rounds / batch.length).toFixed(1)} ms a view`); }
  for (const [k, xs] of Object.entries(ms)) console.log(`${k}: ${(median(xs) / batch.length).toFixed(1)} ms a view (median of ${rounds} batches of ${batch.length}; min ${(Math.min(...xs) / batch.length).toFixed(1)})`);
  await onnx1.dispose(); await onnx2.dispose(); await web.dispose(); await net.dispose(); graph.dispose();
}

main().catch((e) => { console.error(e); process.exit(1); });
