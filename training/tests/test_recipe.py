"""Tests of the training recipe: architectures, a smoke training on a handful of real UTKFace
photos (prepared with the engine's own detector and alignment), ONNX export and parity."""
import json
import math
import os
import shutil
import subprocess
import sys
import tempfile
import unittest

import torch

HERE = os.path.dirname(os.path.abspath(__file__))
TRAINING = os.path.dirname(HERE)
ROOT = os.path.dirname(TRAINING)
sys.path.insert(0, TRAINING)

from faceshift_train.nets import PatchDiscriminator, ResnetGenerator, SRResNet  # noqa: E402

DATASET = os.environ.get('FACESHIFT_DATASET', os.path.join(ROOT, '..', 'shared', 'datasets', 'utkface'))
TSX = os.path.join(ROOT, 'node_modules', '.bin', 'tsx')


def receptive_field(module):
    """Receptive field of a chain of convs (stride/kernel), in input pixels."""
    rf, jump = 1, 1
    for m in module.modules():
        if isinstance(m, torch.nn.Conv2d):
            rf += (m.kernel_size[0] - 1) * jump
            jump *= m.stride[0]
    return rf


class Architectures(unittest.TestCase):
    def test_generator_layout_matches_article(self):
        g = ResnetGenerator(ngf=32, n_blocks=9, upsample='deconv')
        convs = [m for m in g.modules() if isinstance(m, (torch.nn.Conv2d, torch.nn.ConvTranspose2d))]
        # c7s1-32, d64, d128, 9 x R128 (2 convs each), u64, u32, c7s1-3
        self.assertEqual([(c.in_channels, c.out_channels) for c in convs[:3]], [(3, 32), (32, 64), (64, 128)])
        self.assertEqual(len(convs), 3 + 18 + 2 + 1)
        self.assertEqual([(c.in_channels, c.out_channels) for c in convs[-3:]], [(128, 64), (64, 32), (32, 3)])
        self.assertTrue(any(isinstance(m, torch.nn.ReflectionPad2d) for m in g.modules()))
        self.assertTrue(any(isinstance(m, torch.nn.InstanceNorm2d) for m in g.modules()))
        x = torch.rand(1, 3, 64, 64) * 2 - 1
        y = g(x)
        self.assertEqual(y.shape, x.shape)
        self.assertLessEqual(float(y.abs().max()), 1.0)

    def test_resize_generator_keeps_shape(self):
        g = ResnetGenerator(ngf=8, n_blocks=2, upsample='resize')
        self.assertEqual(g(torch.zeros(2, 3, 32, 48)).shape, (2, 3, 32, 48))

    def test_patchgan_is_70x70(self):
        d = PatchDiscriminator(ndf=64)
        self.assertEqual(receptive_field(d), 70)
        widths = [m.out_channels for m in d.modules() if isinstance(m, torch.nn.Conv2d)]
        self.assertEqual(widths, [64, 128, 256, 512, 1])
        self.assertEqual(d(torch.zeros(1, 3, 128, 128)).shape, (1, 1, 14, 14))

    def test_srresnet_upscales_4x(self):
        n = SRResNet(nf=16, n_blocks=2)
        self.assertEqual(n(torch.zeros(1, 3, 32, 40)).shape, (1, 3, 128, 160))
        self.assertTrue(any(isinstance(m, torch.nn.PReLU) for m in n.modules()))
        self.assertEqual(sum(isinstance(m, torch.nn.PixelShuffle) for m in n.modules()), 2)


@unittest.skipUnless(os.path.isdir(DATASET), f'dataset not found at {DATASET}')
class SmokeTraining(unittest.TestCase):
    """Prepare 40 real photos, train each net a few iterations, resume, export, check parity."""

    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix='faceshift-smoke-')
        cls.cache = os.path.join(cls.tmp, 'cache')
        cls.models = os.path.join(cls.tmp, 'models')
        os.makedirs(cls.models)
        with open(os.path.join(cls.models, 'manifest.json'), 'w') as f:
            json.dump({'version': 1, 'models': []}, f)
        cls.template = os.path.join(cls.tmp, 'template.json')
        prep = [TSX, os.path.join(ROOT, 'scripts', 'prepare-dataset.ts')]
        common = ['--cache', cls.cache, '--template', cls.template, '--limit', '60']
        for cmd in ('detect', 'template', 'pack'):
            subprocess.run(prep + [cmd, DATASET] + common, check=True, cwd=ROOT, capture_output=True)

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.tmp, ignore_errors=True)

    def run_py(self, script, *args):
        r = subprocess.run(['/usr/bin/python3' if os.path.exists('/usr/bin/python3') else sys.executable,
                            os.path.join(TRAINING, script)] + list(args), cwd=ROOT, capture_output=True, text=True)
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        return r.stdout

    def test_template_and_packs(self):
        with open(self.template) as f:
            t = json.load(f)
        self.assertEqual(t['keypoints'], ['rightEye', 'leftEye', 'noseTip', 'mouthCenter'])
        (rx, ry), (lx, ly), (nx, ny), (mx, my) = t['points']
        self.assertLess(rx, nx)
        self.assertLess(nx, lx)       # the subject's right eye is on the image's left
        self.assertLess(ry, ny)
        self.assertLess(ny, my)       # eyes above nose above mouth
        self.assertGreater(t['derivedFrom']['detected'], 50)
        with open(os.path.join(self.cache, 'faces128.json')) as f:
            meta = json.load(f)
        self.assertEqual(meta['size'], 128)
        self.assertEqual(os.path.getsize(os.path.join(self.cache, 'faces128.u8')), len(meta['items']) * 128 * 128 * 3)
        for it in meta['items']:  # labels parsed (labels.csv has CRLF line ends)
            self.assertIn(it['grayscale'], (0, 1))
            self.assertIn(it['gender'], (0, 1))
            self.assertIn(it['split'], ('train', 'val'))

    def test_cyclegan_smoke_resume_export(self):
        out = os.path.join(self.tmp, 'cg')
        args = ['--dataset', DATASET, '--cache', self.cache, '--out', out, '--size', '32', '--ngf', '8', '--blocks', '2',
                '--upsample', 'resize', '--ndf', '8', '--iters', '4', '--log-every', '2', '--threads', '1']
        log = self.run_py('train_cyclegan.py', *args)
        self.assertIn('done: 4 iterations', log)
        for f in ('ckpt.pt', 'lean.pt', 'losses.csv', 'losses.png', 'samples.png'):
            self.assertTrue(os.path.exists(os.path.join(out, f)), f)
        log = self.run_py('train_cyclegan.py', *[a if a != '4' else '6' for a in args])
        self.assertIn('resumed at iteration 4', log)
        self.assertIn('done: 6 iterations', log)
        self.run_py('export_onnx.py', 'cyclegan', out, '--models', self.models, '--version', 'smoke')
        with open(os.path.join(self.models, 'manifest.json')) as f:
            models = json.load(f)['models']
        self.assertEqual(sorted(m['direction'] for m in models), ['female2male', 'male2female'])
        for m in models:
            self.assertLessEqual(m['onnxruntime_max_abs_diff'], 1e-4)
            self.assertEqual(m['input']['layout'], 'NCHW')
            self.assertEqual(len(m['sha256']), 64)
            self.assertEqual(m['training']['images_seen'], 6)
            self.assertIn('non-commercial', m['licence'].lower())

    def test_transport_pack_race_pair_fp16_export(self):
        # the compact WebP copy used to carry the data to a GPU machine decodes close to the raw crops
        tp = os.path.join(self.tmp, 'transport')
        self.run_py('transport_pack.py', '--cache', self.cache, '--out', tp, '--races', '0', '1', '2', '3', '4')
        from faceshift_train.data import FacePack, adult_colour
        raw, webp = FacePack(self.cache, 'faces128'), FacePack(tp, 'faces128')
        self.assertEqual(webp.meta['encoding'], 'webp')
        self.assertEqual(len(webp.items), sum(1 for it in raw.items if adult_colour(it)))
        self.assertGreater(len(webp.items), 10)
        row = {it['file']: i for i, it in enumerate(raw.items)}
        for k, it in enumerate(webp.items):
            a, b = raw.pixels[row[it['file']]].astype('float64'), webp.pixels[k].astype('float64')
            mse = ((a - b) ** 2).mean()
            self.assertGreater(10 * math.log10(255 ** 2 / max(mse, 1e-9)), 36, it['file'])
        # a race pair trains from it and exports float16-stored weights, with colour matching off
        out, models = os.path.join(self.tmp, 'wa'), os.path.join(self.tmp, 'models-race')
        os.makedirs(models)
        with open(os.path.join(models, 'manifest.json'), 'w') as f:
            json.dump({'version': 1, 'models': []}, f)
        self.run_py('train_cyclegan.py', '--dataset', DATASET, '--cache', tp, '--out', out, '--domains', 'white', 'asian',
                    '--size', '32', '--ngf', '8', '--blocks', '2', '--upsample', 'resize', '--ndf', '8', '--iters', '2',
                    '--batch', '2', '--threads', '1', '--amp')  # --amp is a no-op without CUDA
        self.run_py('export_onnx.py', 'cyclegan', out, '--models', models, '--version', 'smoke')
        with open(os.path.join(models, 'manifest.json')) as f:
            entries = json.load(f)['models']
        self.assertEqual([m['direction'] for m in entries], ['white2asian', 'asian2white'])  # menu order: pair by pair
        import onnx
        for m in entries:
            self.assertEqual(m['attribute'], 'race')
            self.assertEqual(m['colorPolicy'], 'none')  # race: skin tone is the change, until a policy is measured
            self.assertIn('WebP copy (quality 88)', m['training']['data'])
            self.assertLessEqual(m['onnxruntime_max_abs_diff'], 1e-4)  # exact: the weights were float16 already
            self.assertTrue(m['weights'].startswith('float16'))
            g = onnx.load(os.path.join(models, m['file'])).graph
            halves = [i for i in g.initializer if i.data_type == onnx.TensorProto.FLOAT16]
            self.assertGreater(len(halves), 10)
            cast_inputs = {n.input[0] for n in g.node if n.op_type == 'Cast'}
            self.assertTrue(all(h.name in cast_inputs for h in halves))  # each is cast back to float32
        # a slim checkpoint (discriminators only) continues training with the generators read back from ONNX
        slim = os.path.join(self.tmp, 'wa-slim.pt')
        self.run_py('slim_checkpoint.py', out, '--version', 'smoke', '--models', models, '--out', slim)
        self.assertLess(os.path.getsize(slim), os.path.getsize(os.path.join(out, 'lean.pt')) / 2)
        from faceshift_train.common import read_lean
        full, back = torch.load(os.path.join(out, 'lean.pt')), read_lean(slim, ROOT)
        for k in ('G_AB', 'G_BA', 'D_A', 'D_B'):
            for name, v in full['nets'][k].items():
                self.assertTrue(torch.equal(back['nets'][k][name].float(), v.float()), f'{k}.{name}')
        log = self.run_py('train_cyclegan.py', '--dataset', DATASET, '--cache', tp, '--out', os.path.join(self.tmp, 'wa2'),
                          '--domains', 'white', 'asian', '--size', '32', '--ngf', '8', '--blocks', '2', '--upsample', 'resize',
                          '--ndf', '8', '--iters', '1', '--threads', '1', '--init', slim)
        self.assertIn('initialised from', log)
        # a changed ONNX file is refused, not silently mixed with these discriminators
        with open(os.path.join(models, 'cyclegan-white2asian-smoke.onnx'), 'ab') as f:
            f.write(b'\0')
        with self.assertRaisesRegex(ValueError, 'sha256 differs'):
            read_lean(slim, ROOT)
        # exporting a new version of a direction supersedes the old one: one model per direction
        out2 = self.run_py('export_onnx.py', 'cyclegan', out, '--models', models, '--version', 'smoke2')
        self.assertIn('cyclegan-white2asian-smoke2 supersedes cyclegan-white2asian-smoke', out2)
        with open(os.path.join(models, 'manifest.json')) as f:
            self.assertEqual([m['id'] for m in json.load(f)['models']], ['cyclegan-white2asian-smoke2', 'cyclegan-asian2white-smoke2'])
        self.assertFalse(os.path.exists(os.path.join(models, 'cyclegan-white2asian-smoke.onnx')))

    def test_sr_smoke_export(self):
        out = os.path.join(self.tmp, 'sr')
        log = self.run_py('train_sr.py', '--dataset', DATASET, '--cache', self.cache, '--out', out, '--nf', '8', '--blocks', '2',
                          '--batch', '2', '--patch', '32', '--iters', '3', '--log-every', '1', '--threads', '1')
        self.assertIn('done: 3 iterations', log)
        self.run_py('export_onnx.py', 'sr', out, '--models', self.models, '--version', 'smoke')
        with open(os.path.join(self.models, 'manifest.json')) as f:
            sr = [m for m in json.load(f)['models'] if m['task'] == 'upscale']
        self.assertEqual(len(sr), 1)
        self.assertEqual(sr[0]['scale'], 4)
        self.assertLessEqual(sr[0]['onnxruntime_max_abs_diff'], 1e-4)


if __name__ == '__main__':
    unittest.main()
