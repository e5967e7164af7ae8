"""Tests of the training recipe: architectures, a smoke training on a handful of real UTKFace
photos (prepared with the engine's own detector and alignment), ONNX export and parity."""
import json
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
