"""training/wasm_graph.py keeps a shipped generator's numbers: the rewritten graph (float32 weights,
folded pad constants) against the shipped file, on a real face (assets/sample.jpg, the face's square
scaled to 128 px), run by onnxruntime-node and by onnxruntime-web's WASM build; outputs within 1e-4."""
import json
import os
import subprocess
import sys
import tempfile
import unittest

import numpy as np
import onnx
from PIL import Image

HERE = os.path.dirname(os.path.abspath(__file__))
TRAINING = os.path.dirname(HERE)
ROOT = os.path.dirname(TRAINING)
sys.path.insert(0, TRAINING)

import wasm_graph  # noqa: E402

# onnxruntime-web (WASM, one thread) in Node: every output of `model` on `input`, written as .f32 files.
WEB_RUN = r'''
const fs = require('fs');
const ort = require(process.argv[1] + '/node_modules/onnxruntime-web');
const [model, input, out] = process.argv.slice(2);
ort.env.wasm.numThreads = 1;
(async () => {
  const b = fs.readFileSync(input);
  const s = await ort.InferenceSession.create(fs.readFileSync(model), { executionProviders: ['wasm'] });
  const res = await s.run({ [s.inputNames[0]]: new ort.Tensor('float32', new Float32Array(b.buffer, b.byteOffset, b.byteLength / 4), [1, 3, 128, 128]) });
  s.outputNames.forEach((n) => fs.writeFileSync(out + '.' + n, Buffer.from(res[n].data.buffer, res[n].data.byteOffset, res[n].data.byteLength)));
  process.exit(0);
})().catch((e) => { console.error(e); process.exit(1); });
'''


def face_crop():
    """assets/sample.jpg's face square (the portrait's middle), 128 px, NCHW in [-1, 1]."""
    im = Image.open(os.path.join(ROOT, 'assets', 'sample.jpg')).convert('RGB')
    w, h = im.size
    side = int(min(w, h) * 0.6)
    box = ((w - side) // 2, (h - side) // 2, (w + side) // 2, (h + side) // 2)
    x = np.asarray(im.crop(box).resize((128, 128), Image.BILINEAR), dtype=np.float32) / 127.5 - 1
    return np.ascontiguousarray(x.transpose(2, 0, 1)[None])


class WasmGraph(unittest.TestCase):
    def test_rewritten_generator_matches_the_shipped_one(self):
        manifest = json.load(open(os.path.join(ROOT, 'models', 'manifest.json')))
        entry = next(m for m in manifest['models'] if m.get('direction') == 'male2female')
        src = os.path.join(ROOT, 'models', entry['file'])
        model = onnx.load(src)
        summary = wasm_graph.for_wasm(model)
        self.assertFalse([i.name for i in model.graph.initializer if i.data_type == onnx.TensorProto.FLOAT16], summary)
        self.assertFalse([n for n in model.graph.node if n.op_type in ('Constant', 'ConstantOfShape')], summary)
        with tempfile.TemporaryDirectory() as d:
            dst = os.path.join(d, 'rewritten.onnx')
            onnx.save(model, dst)
            x = os.path.join(d, 'in.f32')
            face_crop().tofile(x)
            outs = {}
            for tag, path in (('shipped', src), ('rewritten', dst)):
                subprocess.run(['node', os.path.join(ROOT, 'scripts', 'ort-run.js'), path, x, '1,3,128,128', os.path.join(d, f'{tag}.node')],
                               check=True, capture_output=True)
                subprocess.run(['node', '-e', WEB_RUN, ROOT, path, x, os.path.join(d, f'{tag}.web')], check=True, capture_output=True)
            for out in ('output', 'attention'):
                node_a = np.fromfile(os.path.join(d, 'shipped.node' + ('' if out == 'output' else '.' + out)), dtype=np.float32)
                node_b = np.fromfile(os.path.join(d, 'rewritten.node' + ('' if out == 'output' else '.' + out)), dtype=np.float32)
                web_a = np.fromfile(os.path.join(d, f'shipped.web.{out}'), dtype=np.float32)
                web_b = np.fromfile(os.path.join(d, f'rewritten.web.{out}'), dtype=np.float32)
                self.assertGreater(node_a.size, 0)
                self.assertLessEqual(float(np.abs(node_a - node_b).max()), 1e-4, out)
                self.assertLessEqual(float(np.abs(web_a - web_b).max()), 1e-4, out)
                self.assertLessEqual(float(np.abs(web_b - node_b).max()), 1e-4, out)
                outs[out] = (float(np.abs(node_a - node_b).max()), float(np.abs(web_a - web_b).max()))
            print(f'\n{entry["file"]}: {summary}; max |shipped - rewritten| native, wasm: {outs}', file=sys.stderr)


if __name__ == '__main__':
    unittest.main()
