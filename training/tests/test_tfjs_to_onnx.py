"""training/tfjs_to_onnx.py: the shipped detector (models/detector/face-detection-full.onnx) is what the
converter makes of the tfjs graph model, byte for byte; the converted graph computes the tfjs graph's
numbers (both run in Node on one input: tfjs-wasm and onnxruntime-node, within 1e-4); an op it does
not handle stops it with an error naming the op."""
import copy
import hashlib
import json
import os
import subprocess
import sys
import tempfile
import unittest

import numpy as np
import onnx

HERE = os.path.dirname(os.path.abspath(__file__))
TRAINING = os.path.dirname(HERE)
ROOT = os.path.dirname(TRAINING)
sys.path.insert(0, TRAINING)

import tfjs_to_onnx  # noqa: E402

MODEL_JSON = os.path.join(ROOT, 'models', 'detector', 'facemesh-detection-full.json')
SHIPPED = os.path.join(ROOT, 'models', 'detector', 'face-detection-full.onnx')

# tfjs (WASM backend) and onnxruntime-node on the same NHWC input; both outputs written as .f32 files.
BOTH_RUN = r'''
const fs = require('fs'), path = require('path');
const root = process.argv[1];
const tf = require(root + '/node_modules/@tensorflow/tfjs-core');
require(root + '/node_modules/@tensorflow/tfjs-backend-wasm');
const { setWasmPaths } = require(root + '/node_modules/@tensorflow/tfjs-backend-wasm');
const { loadGraphModel } = require(root + '/node_modules/@tensorflow/tfjs-converter');
const ort = require(root + '/node_modules/onnxruntime-node');
const [modelJson, onnxFile, input, n, outDir] = process.argv.slice(2);
(async () => {
  setWasmPaths(path.join(root, 'node_modules/@tensorflow/tfjs-backend-wasm/dist') + path.sep);
  await tf.setBackend('wasm'); await tf.ready();
  const mj = JSON.parse(fs.readFileSync(modelJson, 'utf8'));
  const bin = fs.readFileSync(path.join(path.dirname(modelJson), mj.weightsManifest[0].paths[0]));
  const model = await loadGraphModel({ load: async () => ({ modelTopology: mj.modelTopology, weightSpecs: mj.weightsManifest[0].weights,
    weightData: bin.buffer.slice(bin.byteOffset, bin.byteOffset + bin.byteLength), format: mj.format }) });
  const b = fs.readFileSync(input), x = new Float32Array(b.buffer, b.byteOffset, b.byteLength / 4);
  const dims = [Number(n), 192, 192, 3];
  const t = model.execute(tf.tensor4d(x, dims), 'Identity:0');
  fs.writeFileSync(path.join(outDir, 'tfjs.f32'), Buffer.from((await t.data()).buffer));
  const s = await ort.InferenceSession.create(fs.readFileSync(onnxFile), { intraOpNumThreads: 1 });
  const r = await s.run({ input: new ort.Tensor('float32', x, dims) });
  fs.writeFileSync(path.join(outDir, 'onnx.f32'), Buffer.from(r.Identity.data.buffer));
})().catch((e) => { console.error(e); process.exit(1); });
'''


class TfjsToOnnxTest(unittest.TestCase):
    def test_shipped_file_is_the_conversion(self):
        with tempfile.TemporaryDirectory() as d:
            out = os.path.join(d, 'det.onnx')
            onnx.save(tfjs_to_onnx.convert(MODEL_JSON, ['Identity']), out)
            with open(out, 'rb') as f:
                made = f.read()
        with open(SHIPPED, 'rb') as f:
            shipped = f.read()
        self.assertEqual(hashlib.sha256(made).hexdigest(), hashlib.sha256(shipped).hexdigest())
        with open(os.path.join(ROOT, 'models', 'manifest.json')) as f:
            manifest = json.load(f)
        entry = manifest['detector']['files'][0]
        self.assertEqual(entry['file'], 'detector/face-detection-full.onnx')
        self.assertEqual(entry['sha256'], hashlib.sha256(made).hexdigest())
        self.assertEqual(entry['bytes'], len(made))

    def test_contract(self):
        m = onnx.load(SHIPPED)
        self.assertEqual([i.name for i in m.graph.input], ['input'])
        self.assertEqual([d.dim_param or d.dim_value for d in m.graph.input[0].type.tensor_type.shape.dim], ['N', 192, 192, 3])
        self.assertEqual([o.name for o in m.graph.output], ['Identity'])
        self.assertEqual([d.dim_param or d.dim_value for d in m.graph.output[0].type.tensor_type.shape.dim], ['N', 2304, 17])
        # float16 weights widened exactly: every float initializer is float32
        self.assertTrue(all(t.data_type == onnx.TensorProto.FLOAT for t in m.graph.initializer if t.data_type != onnx.TensorProto.INT64))

    def test_same_numbers_as_tfjs(self):
        rng = np.random.default_rng(15)
        # a smooth image-like input in [-1, 1] (noise alone would excite no face anchors) and noise, two views
        yy, xx = np.mgrid[0:192, 0:192] / 192.0
        smooth = np.stack([np.sin(6 * xx + c) * np.cos(5 * yy - c) for c in range(3)], -1)
        x = np.stack([smooth, rng.uniform(-1, 1, (192, 192, 3))]).astype(np.float32)
        with tempfile.TemporaryDirectory() as d:
            x.tofile(os.path.join(d, 'in.f32'))
            subprocess.run(['node', '-e', BOTH_RUN, ROOT, MODEL_JSON, SHIPPED, os.path.join(d, 'in.f32'), '2', d], check=True, cwd=ROOT)
            a = np.fromfile(os.path.join(d, 'tfjs.f32'), np.float32)
            b = np.fromfile(os.path.join(d, 'onnx.f32'), np.float32)
        self.assertEqual(a.shape, (2 * 2304 * 17,))
        self.assertEqual(b.shape, a.shape)
        diff = float(np.abs(a - b).max())
        print(f'\ntfjs vs onnx raw outputs: max abs diff {diff:.2e} (max |value| {float(np.abs(a).max()):.1f})')
        # float32 accumulation order differs (tfjs-wasm vs onnxruntime): within 1e-4 of max(1, |value|)
        rel = float((np.abs(a - b) / np.maximum(1, np.abs(a))).max())
        print(f'relative to max(1, |value|): {rel:.2e}')
        self.assertLessEqual(rel, 1e-4)

    def test_unknown_op_fails_loudly(self):
        with open(MODEL_JSON) as f:
            mj = json.load(f)
        bad = copy.deepcopy(mj)
        for n in bad['modelTopology']['node']:
            if n['op'] == 'AddV2':
                n['op'] = 'Sub'
                break
        with tempfile.TemporaryDirectory() as d:
            os.symlink(os.path.join(os.path.dirname(MODEL_JSON), mj['weightsManifest'][0]['paths'][0]), os.path.join(d, mj['weightsManifest'][0]['paths'][0]))
            p = os.path.join(d, 'model.json')
            with open(p, 'w') as f:
                json.dump(bad, f)
            with self.assertRaisesRegex(tfjs_to_onnx.Unsupported, r'op Sub \(node .*add/add\) is not handled'):
                tfjs_to_onnx.convert(p, ['Identity'])


if __name__ == '__main__':
    unittest.main()
