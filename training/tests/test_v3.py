"""Models v3 training signal: the domain-classification loss, the attention output, our classifier,
the conditional generator; on a few real UTKFace crops prepared by the engine's own detector."""
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

from faceshift_train.nets import FACE_OVAL, AttentionGenerator, AttributeClassifier, ConditionalGenerator, ResnetGenerator  # noqa: E402
from faceshift_train.tasks import DIRECTIONS, condition  # noqa: E402

DATASET = os.environ.get('FACESHIFT_DATASET', os.path.join(ROOT, '..', 'shared', 'datasets', 'utkface'))
TSX = os.path.join(ROOT, 'node_modules', '.bin', 'tsx')
PY = '/usr/bin/python3' if os.path.exists('/usr/bin/python3') else sys.executable


class Nets(unittest.TestCase):
    def test_attention_output_is_a_blend_of_colour_and_input(self):
        torch.manual_seed(0)
        g = AttentionGenerator(ngf=8, n_blocks=2, upsample='resize')
        x = torch.rand(2, 3, 32, 32) * 2 - 1
        y, a = g.forward_with_attention(x)
        self.assertEqual(y.shape, x.shape)
        self.assertEqual(a.shape, (2, 1, 32, 32))
        self.assertTrue(bool(((a >= 0) & (a <= 1)).all()))
        # where A is 0 the input passes through exactly
        with torch.no_grad():
            g.model[-2].bias[3] = -1e4
        y0, a0 = g.forward_with_attention(x)
        self.assertLess(float((y0 - x).abs().max()), 1e-5)

    def test_plain_generator_extended_with_attention_starts_as_it(self):
        torch.manual_seed(0)
        plain = ResnetGenerator(ngf=8, n_blocks=2, upsample='resize').eval()
        att = AttentionGenerator(ngf=8, n_blocks=2, upsample='resize').eval()
        att.load_plain(plain.state_dict(), open_bias=12.0)  # A ~ 1: exactly the plain output
        x = torch.rand(1, 3, 32, 32) * 2 - 1
        self.assertLess(float((att(x) - plain(x)).abs().max()), 1e-4)

    def test_conditional_generator_reads_its_condition(self):
        torch.manual_seed(0)
        g = ConditionalGenerator(ngf=8, n_blocks=2, n_cond=5, attention=True).eval()
        x = torch.rand(1, 3, 32, 32) * 2 - 1
        y1, _ = g(x, torch.tensor([condition('female')]))
        y2, _ = g(x, torch.tensor([condition('black')]))
        self.assertGreater(float((y1 - y2).abs().max()), 1e-4)
        self.assertEqual(condition(DIRECTIONS['black2white'][2]), condition(DIRECTIONS['asian2white'][2]))

    def test_class_loss_on_paste_judges_the_input_texture_plus_the_low_passed_change(self):
        from train_cyclegan import as_pasted
        torch.manual_seed(0)
        x = torch.rand(2, 3, 32, 32) * 2 - 1
        tone = x + 0.2  # a change of tone only: kept whole
        self.assertLess(float((as_pasted(x, tone, 1.5) - tone).abs().max()), 1e-5)
        noise = torch.randn_like(x) * 0.2  # a change of texture only: mostly dropped (the photo's texture stays)
        self.assertLess(float((as_pasted(x, x + noise, 1.5) - x).abs().mean()), 0.3 * float(noise.abs().mean()))
        self.assertEqual(float((as_pasted(x, x + noise, 0) - (x + noise)).abs().max()), 0.0)  # off: the raw output
        fake = (x + noise).requires_grad_(True)
        as_pasted(x, fake, 1.5).mean().backward()
        self.assertGreater(float(fake.grad.abs().sum()), 0.0)

    def test_class_loss_on_paste_with_keep_takes_the_net_pixels_where_it_removed_texture(self):
        from train_cyclegan import as_pasted, gaussian_lowpass, keep_detail
        torch.manual_seed(0)
        x = (torch.rand(2, 3, 64, 64) * 2 - 1) * 0.5  # strong texture everywhere (a beard, say)
        smooth = gaussian_lowpass(x, 4.0)  # the net removed it outright
        softer = x - 0.3 * (x - gaussian_lowpass(x, 1.0))  # the net only softened it (correlated, weaker)
        self.assertLess(float(keep_detail(x, smooth)[..., 16:48, 16:48].mean()), 0.2)
        self.assertGreater(float(keep_detail(x, softer)[..., 16:48, 16:48].mean()), 0.9)
        # removed outright: judged as the net drew it (not the input's texture back)
        self.assertLess(float((as_pasted(x, smooth, 1.0, keep=True) - smooth)[..., 16:48, 16:48].abs().mean()),
                        0.3 * float((as_pasted(x, smooth, 1.0) - smooth)[..., 16:48, 16:48].abs().mean()))
        # softened: the input's texture stays, as without keep
        self.assertLess(float((as_pasted(x, softer, 1.0, keep=True) - as_pasted(x, softer, 1.0)).abs().max()), 0.05)
        fake = smooth.clone().requires_grad_(True)
        as_pasted(x, fake, 1.0, keep=True).sum().backward()
        self.assertGreater(float(fake.grad.abs().sum()), 0.0)
        # photo_detail (the manifest's photoDetail): less of the input's texture, the rest the net's pixels
        full, part = as_pasted(x, softer, 1.0, keep=True), as_pasted(x, softer, 1.0, keep=True, photo_detail=0.7)
        self.assertLess(float((part - softer).abs().mean()), 0.8 * float((full - softer).abs().mean()))
        self.assertGreater(float((part - softer).abs().mean()), 0.5 * float((full - softer).abs().mean()))
        self.assertLess(float((as_pasted(x, softer, 1.0, photo_detail=0.0) - softer).abs().max()), 1e-6)

    @unittest.skipUnless(os.path.exists(TSX), 'tsx not installed (npm ci)')
    def test_keep_detail_matches_the_paste_back_it_models(self):
        """train_cyclegan.keep_detail against core/detail.ts keepDetail on the same 8-bit pair (inside an 8-px
        border: the blur pads by reflection here and by clamping there)."""
        from train_cyclegan import gaussian_lowpass, keep_detail
        torch.manual_seed(0)
        x = (gaussian_lowpass(torch.rand(1, 3, 64, 64), 0.6) * 255).round()
        y = x.clone()
        y[:, :, 10:40, 12:50] = gaussian_lowpass(x, 3.0)[:, :, 10:40, 12:50]  # texture removed in a patch
        y[:, :, 44:60, 8:30] = (x[:, :, 44:60, 8:30] + 40 * torch.rand(1, 3, 16, 22)).clamp(0, 255)  # texture added
        y = y.round()
        tmp = tempfile.mkdtemp(prefix='faceshift-keep-')
        try:
            for name, t in (('x', x), ('y', y)):
                rgba = torch.cat([t[0], torch.full((1, 64, 64), 255.0)]).permute(1, 2, 0).to(torch.uint8)
                rgba.numpy().tofile(os.path.join(tmp, name + '.rgba'))
            script = os.path.join(tmp, 'keep.ts')
            with open(script, 'w') as f:
                f.write("import * as fs from 'fs';\n"
                        f"import {{ keepDetail }} from {json.dumps(os.path.join(ROOT, 'src', 'core', 'detail'))};\n"
                        "const img = (n: string) => ({ width: 64, height: 64, data: new Uint8ClampedArray(fs.readFileSync(process.argv[2] + '/' + n + '.rgba')) });\n"
                        "const k = keepDetail(img('x'), img('y'));\n"
                        "fs.writeFileSync(process.argv[2] + '/keep.f32', Buffer.from(k.data.buffer));\n")
            r = subprocess.run([TSX, script, tmp], cwd=ROOT, capture_output=True, text=True)
            self.assertEqual(r.returncode, 0, r.stderr)
            import numpy as np
            ts = torch.from_numpy(np.fromfile(os.path.join(tmp, 'keep.f32'), dtype=np.float32).reshape(64, 64))
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
        py = keep_detail(x / 127.5 - 1, y / 127.5 - 1)[0, 0]
        self.assertLess(float(ts[20:30, 20:40].mean()), 0.3)  # the patch: the net's pixels, in both
        self.assertLess(float((py - ts)[8:-8, 8:-8].abs().max()), 1e-3)

    def test_blotch_loss_charges_local_colour_patches_not_a_tone_change(self):
        from train_cyclegan import blotch_loss
        torch.manual_seed(0)
        x = torch.rand(2, 3, 64, 64) * 2 - 1
        darker = x - 0.3  # the whole face darker, in all channels: no chroma change
        warmer = x + torch.tensor([0.2, 0.05, -0.1]).view(1, 3, 1, 1)  # a hue shift over the whole crop
        patch = x.clone()
        patch[:, 0, 20:30, 24:34] += 0.4  # an orange-red patch of 10 px
        self.assertLess(float(blotch_loss(x, darker)), 1e-6)
        self.assertLess(float(blotch_loss(x, warmer)), 1e-5)
        self.assertGreater(float(blotch_loss(x, patch)), 0.003)
        fake = patch.clone().requires_grad_(True)
        opt = torch.optim.SGD([fake], lr=5.0)
        before = float(blotch_loss(x, fake))
        blotch_loss(x, fake).backward()
        opt.step()
        self.assertLess(float(blotch_loss(x, fake)), before)

    def test_face_mask_classifier_sees_only_the_face_oval(self):
        torch.manual_seed(0)
        net = AttributeClassifier(width=8, input_size=64, face_mask=FACE_OVAL).eval()
        x = torch.rand(1, 3, 128, 128) * 2 - 1
        hair = x.clone()
        hair[:, :, :6, :] = -1  # above the forehead, and the corners: outside the oval
        hair[:, :, :, :8] = 1
        inner = x.clone()
        inner[:, :, 40:90, 40:90] = 1  # eyes to mouth
        seen = []  # what the convolutions get
        net.features.register_forward_pre_hook(lambda m, inp: seen.append(inp[0].detach().clone()))
        with torch.no_grad():
            net(x), net(hair), net(inner)
        self.assertEqual(float((seen[0] - seen[1]).abs().max()), 0.0)
        self.assertGreater(float((seen[0] - seen[2]).abs().max()), 0.5)
        plain = AttributeClassifier(width=8, input_size=64).eval()
        plain.load_state_dict(net.state_dict())  # the mask is not a weight: same file layout as before
        seen.clear()
        plain.features.register_forward_pre_hook(lambda m, inp: seen.append(inp[0].detach().clone()))
        with torch.no_grad():
            plain(x), plain(hair)
        self.assertGreater(float((seen[0] - seen[1]).abs().max()), 0.5)


@unittest.skipUnless(os.path.isdir(DATASET), f'dataset not found at {DATASET}')
class Signal(unittest.TestCase):
    """The new losses on real crops: shapes, gradients, and a step lowers them."""

    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix='faceshift-v3-')
        cls.cache = os.path.join(cls.tmp, 'cache')
        prep = [TSX, os.path.join(ROOT, 'scripts', 'prepare-dataset.ts')]
        common = ['--cache', cls.cache, '--template', os.path.join(ROOT, 'models', 'templates', 'utkface-v1.json'), '--limit', '120']
        for cmd in ('detect', 'pack'):
            subprocess.run(prep + [cmd, DATASET] + common, check=True, cwd=ROOT, capture_output=True)
        from faceshift_train.data import FacePack, adult_colour
        cls.pack = FacePack(cls.cache, 'faces128')
        cls.adults = [i for i, it in enumerate(cls.pack.items) if adult_colour(it)]

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.tmp, ignore_errors=True)

    def run_py(self, script, *args):
        r = subprocess.run([PY, os.path.join(TRAINING, script)] + list(args), cwd=ROOT, capture_output=True, text=True)
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        return r.stdout

    def test_classification_loss_has_gradients_and_a_step_lowers_it(self):
        from train_cyclegan import cls_loss
        torch.manual_seed(0)
        clf = AttributeClassifier(8, 64).eval()
        for p in clf.parameters():
            p.requires_grad_(False)
        g = ResnetGenerator(ngf=8, n_blocks=2, upsample='resize')
        x = self.pack.batch(self.adults[:4], 64)
        opt = torch.optim.Adam(g.parameters(), lr=1e-3)
        losses = []
        for _ in range(6):
            torch.manual_seed(1)  # the same jitter each time: the loss is comparable
            loss = cls_loss(clf, g(x), 0, 1)  # "female" on the gender head
            self.assertEqual(loss.dim(), 0)
            opt.zero_grad()
            loss.backward()
            self.assertGreater(float(sum(p.grad.abs().sum() for p in g.parameters())), 0)
            opt.step()
            losses.append(float(loss))
        self.assertLess(losses[-1], losses[0])

    def test_texture_loss_charges_texture_beyond_the_target_domains_and_a_step_lowers_it(self):
        from faceshift_train.data import DOMAINS
        from faceshift_train.nets import oval_mask
        from train_cyclegan import gaussian_lowpass, texture_loss, texture_reference
        female = [i for i in self.adults if DOMAINS['female'](self.pack.items[i])]
        male = [i for i in self.adults if DOMAINS['male'](self.pack.items[i])]
        ref = texture_reference(self.pack.batch(female[:-4], 64))
        self.assertEqual(tuple(ref.shape), (1, 1, 64, 64))
        # the ceiling follows the face: higher around the eyes than on the cheeks below them
        self.assertGreater(float(ref[0, 0, 22:28, 14:26].mean()), float(ref[0, 0, 36:42, 12:20].mean()))
        oval = oval_mask(64, **FACE_OVAL)
        x = self.pack.batch(male[:4], 64)
        base = float(texture_loss(x, ref, oval))
        torch.manual_seed(0)
        self.assertGreater(float(texture_loss(x + 0.15 * torch.randn_like(x), ref, oval)), 2 * base)  # grain added
        self.assertLess(float(texture_loss(gaussian_lowpass(x, 2.0), ref, oval)), 0.3 * base)  # skin smoothed
        held_out_women = float(texture_loss(self.pack.batch(female[-4:], 64), ref, oval))
        self.assertLess(held_out_women, float(texture_loss(x + 0.15 * torch.randn_like(x), ref, oval)))
        # a net that draws grain over the face: the loss reaches its weights, and a step lowers it
        g = ResnetGenerator(ngf=8, n_blocks=2, upsample='resize')
        grain = 0.15 * torch.randn_like(x)
        opt = torch.optim.Adam(g.parameters(), lr=1e-3)
        vals = []
        for _ in range(6):
            loss = texture_loss(x + grain + 0.5 * g(x), ref, oval)
            opt.zero_grad()
            loss.backward()
            self.assertGreater(float(sum(p.grad.abs().sum() for p in g.parameters())), 0)
            opt.step()
            vals.append(float(loss))
        self.assertLess(vals[-1], vals[0])

    def test_mask_losses_have_gradients_and_a_step_lowers_them(self):
        from train_cyclegan import mask_losses
        torch.manual_seed(0)
        g = AttentionGenerator(ngf=8, n_blocks=2, upsample='resize')
        x = self.pack.batch(self.adults[:4], 64)
        opt = torch.optim.Adam(g.parameters(), lr=1e-2)
        vals = []
        for _ in range(5):
            g(x)
            m, tv = mask_losses(g.attention)
            opt.zero_grad()
            (m + tv).backward()
            opt.step()
            vals.append(float(m + tv))
        self.assertLess(vals[-1], vals[0])

    def test_pair_with_classifier_and_attention_trains_resumes_and_exports(self):
        cls_out = os.path.join(self.tmp, 'cls')
        self.run_py('train_classifier.py', '--dataset', DATASET, '--cache', self.cache, '--out', cls_out, '--iters', '3',
                    '--batch', '8', '--width', '8', '--input-size', '64', '--threads', '1')
        # a classifier fine-tuned at another input size starts from those weights (fully convolutional)
        cls_fine = os.path.join(self.tmp, 'cls-fine')
        self.run_py('train_classifier.py', '--dataset', DATASET, '--cache', self.cache, '--out', cls_fine, '--iters', '1',
                    '--batch', '4', '--width', '8', '--input-size', '32', '--threads', '1', '--lr', '1e-9', '--seed', '7',
                    '--init', os.path.join(cls_out, 'classifier.pt'))
        a = torch.load(os.path.join(cls_out, 'classifier.pt'), weights_only=False)
        b = torch.load(os.path.join(cls_fine, 'classifier.pt'), weights_only=False)
        self.assertEqual(b['meta']['input_size'], 32)
        self.assertEqual(b['meta']['init']['input_size'], 64)
        self.assertLess(float((a['net']['gender.weight'].float() - b['net']['gender.weight'].float()).abs().max()), 1e-3)
        out = os.path.join(self.tmp, 'mf')
        args = ['--dataset', DATASET, '--cache', self.cache, '--out', out, '--size', '32', '--ngf', '8', '--blocks', '2',
                '--upsample', 'resize', '--ndf', '8', '--iters', '3', '--log-every', '1', '--threads', '1', '--attention',
                '--classifier', os.path.join(cls_out, 'classifier.pt'), '--lambda-cls', '1', '--lambda-id', '0.1']
        if os.path.exists(os.path.join(ROOT, 'node_modules', '@vladmandic', 'face-api', 'model', 'face_recognition_model.bin')):
            # the dlib descriptor's identity loss and a gender probe over it (test_idface.py tests both on their own)
            probe = os.path.join(self.tmp, 'probe.pt')
            self.run_py('train_descriptor_probe.py', '--dataset', DATASET, '--cache', self.cache, '--attribute', 'gender',
                        '--per-class', '8', '--out', probe, '--threads', '1')
            args += ['--lambda-idface', '1', '--probe', probe, '--lambda-probe', '1', '--cls-on-paste', '1', '--paste-keep']
        log = self.run_py('train_cyclegan.py', *args)
        self.assertIn('cls_A2B', log)
        if '--lambda-idface' in args:
            self.assertRegex(log, r'idface 0\.\d*[1-9]')  # the losses were computed (and are not zero)
            self.assertRegex(log, r'probe \d+\.\d*[1-9]')
        self.assertIn('done: 3 iterations', log)
        log = self.run_py('train_cyclegan.py', *[a if a != '3' else '4' for a in args])
        self.assertIn('resumed at iteration 3', log)
        models = os.path.join(self.tmp, 'models')
        os.makedirs(models)
        with open(os.path.join(models, 'manifest.json'), 'w') as f:
            json.dump({'version': 1, 'models': []}, f)
        self.run_py('export_onnx.py', 'cyclegan', out, '--models', models, '--version', 'smoke')
        with open(os.path.join(models, 'manifest.json')) as f:
            entries = json.load(f)['models']
        self.assertEqual(len(entries), 2)
        for m in entries:
            self.assertEqual(m['attention']['name'], 'attention')  # exported with the model, parity checked on both outputs
            self.assertLessEqual(m['onnxruntime_max_abs_diff'], 1e-4)
            self.assertIn('domain classification', m['training']['losses'])
            if '--lambda-idface' in args:
                self.assertIn('face identity x1', m['training']['losses'])
                self.assertIn('gender probe x1', m['training']['losses'])

    def test_conditional_generator_trains_and_exports_one_file_for_its_directions(self):
        cls_out = os.path.join(self.tmp, 'cls2')
        self.run_py('train_classifier.py', '--dataset', DATASET, '--cache', self.cache, '--out', cls_out, '--iters', '2',
                    '--batch', '8', '--width', '8', '--input-size', '64', '--threads', '1')
        out = os.path.join(self.tmp, 'md')
        self.run_py('train_transform.py', '--dataset', DATASET, '--cache', self.cache, '--out', out, '--size', '32', '--ngf', '8',
                    '--blocks', '2', '--ndf', '8', '--iters', '2', '--batch', '2', '--threads', '1',
                    '--classifier', os.path.join(cls_out, 'classifier.pt'), '--directions', 'male2female', 'female2male')
        models = os.path.join(self.tmp, 'models-md')
        os.makedirs(models)
        with open(os.path.join(models, 'manifest.json'), 'w') as f:
            json.dump({'version': 1, 'models': []}, f)
        self.run_py('export_onnx.py', 'transform', out, '--models', models, '--version', 'smoke')
        with open(os.path.join(models, 'manifest.json')) as f:
            entries = json.load(f)['models']
        self.assertEqual([m['direction'] for m in entries], ['male2female', 'female2male'])
        self.assertEqual(len({m['file'] for m in entries}), 1)
        self.assertEqual(entries[0]['condition']['values'], condition('female'))
        self.assertLessEqual(entries[0]['onnxruntime_max_abs_diff'], 1e-4)


SHIPPED_CLASSIFIER = os.path.join(ROOT, 'training', 'checkpoints', 'attribute-classifier.pt')


@unittest.skipUnless(os.path.isdir(DATASET) and os.path.exists(SHIPPED_CLASSIFIER), 'dataset or classifier missing')
class ShippedClassifier(unittest.TestCase):
    """Our classifier (the frozen judge inside training) on validation photos it never saw."""

    def test_accuracy_on_the_validation_split(self):
        from train_classifier import accuracy, load_classifier
        from faceshift_train.data import FacePack, adult_colour
        tmp = tempfile.mkdtemp(prefix='faceshift-val-')
        try:
            prep = [TSX, os.path.join(ROOT, 'scripts', 'prepare-dataset.ts')]
            common = ['--cache', tmp, '--template', os.path.join(ROOT, 'models', 'templates', 'utkface-v1.json'), '--split', 'val', '--limit', '400']
            for cmd in ('detect', 'pack'):
                subprocess.run(prep + [cmd, DATASET] + common, check=True, cwd=ROOT, capture_output=True)
            pack = FacePack(tmp, 'faces128')
            val = [i for i, it in enumerate(pack.items) if it['split'] == 'val' and adult_colour(it)]
            self.assertGreater(len(val), 60)
            net, meta = load_classifier(SHIPPED_CLASSIFIER, torch.device('cpu'))
            acc = accuracy(net, pack, val, torch.device('cpu'))
            self.assertGreater(acc['gender'], 0.85)
            self.assertGreater(acc['race'], 0.6)
        finally:
            shutil.rmtree(tmp, ignore_errors=True)


if __name__ == '__main__':
    unittest.main()


class Sampling(unittest.TestCase):
    def test_oversample_age_lists_older_faces_more_often_and_keeps_the_rest_once(self):
        from faceshift_train.data import DomainSampler, oversample_age
        items = [{'age': a} for a in (20, 30, 45, 60, 80)]
        idx = oversample_age(items, [0, 1, 2, 3, 4], 45, 3)
        self.assertEqual(sorted(idx), [0, 1, 2, 2, 2, 3, 3, 3, 4, 4, 4])
        self.assertEqual(oversample_age(items, [0, 3], 45, 1), [0, 3])
        with self.assertRaises(ValueError):
            oversample_age(items, [0], 45, 0)
        # a sampler's epoch over the result shows each older face three times, the young once
        seen = DomainSampler(idx, 0).take(len(idx))
        self.assertEqual([seen.count(i) for i in range(5)], [1, 1, 3, 3, 3])
