"""The identity loss from the dlib ResNet face descriptor (faceshift_train/facedescriptor.py), on real UTKFace
crops prepared by the engine's own detector: parity with @vladmandic/face-api's own network in a browser,
same face closer than other faces, and the loss (shapes, gradients, a step lowers it)."""
import json
import os
import shutil
import subprocess
import sys
import tempfile
import unittest

import numpy as np
import torch
import torch.nn.functional as F

HERE = os.path.dirname(os.path.abspath(__file__))
TRAINING = os.path.dirname(HERE)
ROOT = os.path.dirname(TRAINING)
sys.path.insert(0, TRAINING)

from faceshift_train.facedescriptor import DEFAULT_DIR, SIZE, DlibFaceDescriptor, identity_loss  # noqa: E402
from faceshift_train.nets import ResnetGenerator  # noqa: E402

DATASET = os.environ.get('FACESHIFT_DATASET', os.path.join(ROOT, '..', 'shared', 'datasets', 'utkface'))
TSX = os.path.join(ROOT, 'node_modules', '.bin', 'tsx')
CHROMIUM = os.environ.get('CHROMIUM_PATH', '/usr/bin/chromium')
WEIGHTS = os.path.join(DEFAULT_DIR, 'face_recognition_model.bin')
PROBE = os.path.join(TRAINING, 'checkpoints', 'dlib-gender-probe.pt')


class IgnoredDirections(unittest.TestCase):
    def test_identity_loss_ignores_the_directions_it_is_told_to(self):
        torch.manual_seed(0)
        real = torch.randn(4, 128)
        u = F.normalize(torch.randn(128), dim=0)
        along = real + 10 * u  # moved only along u (say, the probe's gender direction)
        across = real + 10 * F.normalize(torch.randn(128) - (torch.randn(128) @ u) * u, dim=0)
        desc = lambda t: t  # noqa: E731  (the loss on descriptors directly)
        self.assertGreater(float(identity_loss(desc, real, along)), 0.05)
        self.assertLess(float(identity_loss(desc, real, along, ignore=u[:, None])), 1e-6)
        self.assertGreater(float(identity_loss(desc, real, across, ignore=u[:, None])), 0.05)


@unittest.skipUnless(os.path.exists(WEIGHTS), f'no dlib descriptor weights at {WEIGHTS} (npm ci installs them)')
class Weights(unittest.TestCase):
    def test_a_changed_weights_file_is_refused(self):
        from faceshift_train.facedescriptor import read_weights
        tmp = tempfile.mkdtemp(prefix='faceshift-dlib-')
        try:
            for f in os.listdir(DEFAULT_DIR):
                if f.startswith('face_recognition_model'):
                    shutil.copy(os.path.join(DEFAULT_DIR, f), tmp)
            with open(os.path.join(tmp, 'face_recognition_model.bin'), 'r+b') as f:
                f.seek(1000)
                f.write(b'\x00\x01\x02')
            with self.assertRaisesRegex(ValueError, 'sha256'):
                read_weights(tmp)
        finally:
            shutil.rmtree(tmp, ignore_errors=True)


@unittest.skipUnless(os.path.isdir(DATASET) and os.path.exists(WEIGHTS), 'dataset or dlib descriptor weights missing')
class FaceIdentity(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix='faceshift-idface-')
        cache = os.path.join(cls.tmp, 'cache')
        prep = [TSX, os.path.join(ROOT, 'scripts', 'prepare-dataset.ts')]
        common = ['--cache', cache, '--template', os.path.join(ROOT, 'models', 'templates', 'utkface-v1.json'), '--limit', '60']
        for cmd in ('detect', 'pack'):
            subprocess.run(prep + [cmd, DATASET] + common, check=True, cwd=ROOT, capture_output=True)
        from faceshift_train.data import FacePack, adult_colour
        pack = FacePack(cache, 'faces128')
        adults = [i for i, it in enumerate(pack.items) if adult_colour(it)]
        cls.x = pack.batch(adults[:12])  # 12 different people, RGB in [-1, 1], 128 px
        torch.manual_seed(0)
        cls.desc = DlibFaceDescriptor()

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.tmp, ignore_errors=True)

    @unittest.skipUnless(os.path.exists(CHROMIUM), f'no Chromium at {CHROMIUM}')
    def test_matches_face_api_in_a_browser(self):
        x = F.interpolate(self.x[:4], size=(SIZE, SIZE), mode='bilinear', align_corners=False)
        pixels = ((x + 1) * 127.5).round().clamp(0, 255).to(torch.uint8)  # what both sides read
        raw = os.path.join(self.tmp, 'faces.raw')
        pixels.permute(0, 2, 3, 1).contiguous().numpy().tofile(raw)
        out = os.path.join(self.tmp, 'ref.json')
        r = subprocess.run([TSX, os.path.join(ROOT, 'scripts', 'face-descriptor-reference.ts'), raw, '4', out],
                           cwd=ROOT, capture_output=True, text=True, timeout=300)
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        with open(out) as f:
            ref = np.array(json.load(f)['descriptors'], dtype=np.float32)
        with torch.no_grad():
            ours = self.desc.forward_pixels(pixels.float()).numpy()
        self.assertEqual(ours.shape, (4, 128))
        self.assertLess(float(np.abs(ours - ref).max()), 1e-4)
        self.assertGreater(float(np.abs(ref).max()), 0.05)  # real descriptors, not zeros

    def test_the_same_face_is_closer_than_other_faces(self):
        with torch.no_grad():
            d = self.desc(self.x)
            moved = self.desc(torch.roll(self.x.flip(-1), shifts=(2, -2), dims=(2, 3)))  # mirrored, shifted 2 px
        same = (d - moved).norm(dim=1)
        dist = torch.cdist(d, d)
        other = dist[~torch.eye(len(d), dtype=torch.bool)]
        # dlib's own threshold for "same person" is a Euclidean distance of 0.6
        self.assertLess(float(same.median()), 0.6)
        self.assertGreater(float(other.median()), float(same.median()) * 1.5)

    def test_shipped_gender_probe_on_validation_faces(self):
        """The committed probe (train_descriptor_probe.py, training split only) on validation faces it never saw."""
        from faceshift_train.data import FacePack, adult_colour
        from train_descriptor_probe import descriptors, load_probe
        probe, meta = load_probe(PROBE, torch.device('cpu'))
        self.assertEqual(meta['attribute'], 'gender')
        tmp = os.path.join(self.tmp, 'val')
        prep = [TSX, os.path.join(ROOT, 'scripts', 'prepare-dataset.ts')]
        common = ['--cache', tmp, '--template', os.path.join(ROOT, 'models', 'templates', 'utkface-v1.json'), '--split', 'val', '--limit', '200']
        for cmd in ('detect', 'pack'):
            subprocess.run(prep + [cmd, DATASET] + common, check=True, cwd=ROOT, capture_output=True)
        pack = FacePack(tmp, 'faces128')
        val = [i for i, it in enumerate(pack.items) if it['split'] == 'val' and adult_colour(it)]
        self.assertGreater(len(val), 40)
        pred = probe(descriptors(self.desc, pack, val)).argmax(1)
        truth = torch.tensor([pack.items[i]['gender'] for i in val])
        self.assertGreater(float((pred == truth).float().mean()), 0.9)

    def test_identity_loss_has_gradients_and_a_step_lowers_it(self):
        torch.manual_seed(0)
        g = ResnetGenerator(ngf=8, n_blocks=2, upsample='resize')
        x = F.interpolate(self.x[:4], size=(64, 64), mode='area')
        opt = torch.optim.Adam(g.parameters(), lr=1e-3)
        losses = []
        for _ in range(8):
            loss = identity_loss(self.desc, x, g(x))
            self.assertEqual(loss.dim(), 0)
            opt.zero_grad()
            loss.backward()
            self.assertGreater(float(sum(p.grad.abs().sum() for p in g.parameters())), 0)
            self.assertTrue(all(p.grad is None for p in self.desc.parameters()))  # the descriptor stays frozen
            opt.step()
            losses.append(float(loss))
        self.assertLess(losses[-1], losses[0])
        self.assertLess(float(identity_loss(self.desc, x, x)), 1e-5)  # a face is itself


if __name__ == '__main__':
    unittest.main()
