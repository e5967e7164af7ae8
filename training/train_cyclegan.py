#!/usr/bin/python3
"""Train a CycleGAN face transform between two domains of the prepared dataset.

  /usr/bin/python3 training/train_cyclegan.py --dataset ../shared/datasets/utkface \
      --domains male female --size 64 --minutes 50 --out training/runs/mf64

The recipe of the article: ResNet generators, 70x70 PatchGAN discriminators, least-squares GAN
loss, cycle loss x10, identity loss x0.5x10 (VGG-16 features when local VGG-16 weights are given
with --vgg, L1 on pixels otherwise), a pool of 50 past fakes, Adam 2e-4 (0.5, 0.999), linear
learning-rate decay. Resumable: rerun the same command and it continues from <out>/ckpt.pt.

Models v3 additions, each switchable: --classifier with --lambda-cls adds a domain-classification
loss (StarGAN): our own frozen attribute classifier (train_classifier.py, training split only) is
asked to call each fake the target domain, on jittered copies; --attention gives each generator a
GANimation mask (output = A * colour + (1 - A) * input) with --lambda-mask (mean) and --lambda-tv
(smoothness) losses; a plain generator given by --init is extended with the mask open (A ~ 0.95).

Since v9: --lambda-idface keeps identity with the dlib ResNet face descriptor (faceshift_train/facedescriptor.py; not
a judge), and --probe with --lambda-probe asks a linear probe over that descriptor (train_descriptor_probe.py) to call
the face, as pasted into the photo, the target label: a second in-training judge the generators were never trained
against (our small classifiers end up fooled). --paste-keep makes the pasted view take the net's pixels where the
paste would (core/detail.ts keepDetail).
"""
import argparse
import json
import os
import shutil
import random
import sys

import torch
import torch.nn as nn
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
from faceshift_train.common import LossLog, Timer, lean_state, load_lean, read_lean, setup  # noqa: E402
from faceshift_train.data import DOMAINS, RACES, DomainSampler, FacePack, adult_colour, oversample_age  # noqa: E402
from faceshift_train.nets import FACE_OVAL, AttentionGenerator, PatchDiscriminator, ResnetGenerator, count_params, oval_mask  # noqa: E402
from faceshift_train.augment import jitter  # noqa: E402
from faceshift_train.facedescriptor import identity_loss as face_identity_loss  # noqa: E402
from faceshift_train.tasks import CODE  # noqa: E402


class ImagePool:
    """Keeps up to `size` past fakes; returns a past one half of the time (Shrivastava et al.)."""

    def __init__(self, size=50):
        self.size, self.items = size, []

    def query(self, x):
        out = []
        for img in x:
            img = img.unsqueeze(0).detach()
            if len(self.items) < self.size:
                self.items.append(img)
                out.append(img)
            elif random.random() < 0.5:
                i = random.randrange(self.size)
                out.append(self.items[i].clone())
                self.items[i] = img
            else:
                out.append(img)
        return torch.cat(out)


class VGGFeatures(nn.Module):
    """VGG-16 up to relu3_3, from a local weights file (never downloaded)."""

    def __init__(self, path):
        super().__init__()
        import torchvision
        vgg = torchvision.models.vgg16()
        vgg.load_state_dict(torch.load(path, map_location='cpu'))
        self.f = vgg.features[:16].eval()
        for p in self.f.parameters():
            p.requires_grad_(False)
        self.register_buffer('mean', torch.tensor([0.485, 0.456, 0.406]).view(1, 3, 1, 1))
        self.register_buffer('std', torch.tensor([0.229, 0.224, 0.225]).view(1, 3, 1, 1))

    def forward(self, x):
        return self.f(((x + 1) / 2 - self.mean) / self.std)


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument('--dataset', required=True, help='dataset folder (labels.csv, images/)')
    p.add_argument('--cache', default=os.path.join(os.path.dirname(os.path.abspath(__file__)), 'cache'),
                   help='where scripts/prepare-dataset.ts wrote the aligned packs')
    p.add_argument('--pack', default='faces128')
    p.add_argument('--domains', nargs=2, default=['male', 'female'], choices=sorted(DOMAINS))
    p.add_argument('--out', required=True)
    p.add_argument('--size', type=int, default=128, help='training resolution (crops are area-downscaled)')
    p.add_argument('--ngf', type=int, default=32)
    p.add_argument('--blocks', type=int, default=9)
    p.add_argument('--upsample', choices=['deconv', 'resize'], default='deconv')
    p.add_argument('--ndf', type=int, default=64)
    p.add_argument('--batch', type=int, default=1)
    p.add_argument('--iters', type=int, help='total iterations (or give --minutes)')
    p.add_argument('--minutes', type=float, help='time budget; the learning-rate schedule follows elapsed time')
    p.add_argument('--decay-start', type=float, default=0.5, help='fraction of iterations after which lr decays linearly to 0')
    p.add_argument('--lr', type=float, default=2e-4)
    p.add_argument('--lambda-cyc', type=float, default=10.0)
    p.add_argument('--lambda-id', type=float, default=0.5, help='identity weight, as a fraction of lambda-cyc')
    p.add_argument('--vgg', help='local VGG-16 weights (torchvision state dict) for the identity loss')
    p.add_argument('--classifier', help="our attribute classifier (train_classifier.py's classifier.pt) for --lambda-cls")
    p.add_argument('--lambda-cls', type=float, default=0.0, help='domain-classification loss weight (0 = off)')
    p.add_argument('--cls-on-paste', type=float, default=0.0, metavar='SIGMA',
                   help='the class loss judges what the detail paste-back keeps: the input with the change low-passed '
                        '(Gaussian, SIGMA crop pixels), so the input\'s own texture stays (0 = judge the raw output)')
    p.add_argument('--paste-keep', action='store_true',
                   help='with --cls-on-paste: model the paste\'s choice of the net\'s own pixels where it changed structure '
                        '(core/detail.ts keepDetail), so texture the net removes outright counts as removed')
    p.add_argument('--paste-photo-detail', type=float, default=1.0, metavar='P',
                   help='with --cls-on-paste: how much of the input\'s texture the modelled paste keeps (0..1), as the manifest\'s '
                        'photoDetail of the direction does (1 = all)')
    p.add_argument('--lambda-blotch', type=float, default=0.0,
                   help='penalise colour blotches in the change: Charbonnier (smooth L1) of the band-pass (Gaussian sigma 1 minus sigma 6 crop '
                        'pixels) of the change\'s chroma (R-G, B-G), so a tone shift over the whole face stays free and '
                        'local orange or magenta patches cost (0 = off)')
    p.add_argument('--lambda-texture', type=float, default=0.0,
                   help='fine texture beyond the target domain\'s: the fake\'s local texture amplitude (luma minus its blur at 1 px) '
                        'above the 75th percentile of real training faces of the target domain at the same pixel, inside the face '
                        'oval (texture_loss): stubble left on a male->female face costs (0 = off)')
    p.add_argument('--lambda-idface', type=float, default=0.0,
                   help='identity from a face descriptor that is not a judge: 1 - cosine between the dlib ResNet descriptors '
                        '(faceshift_train/facedescriptor.py, weights from @vladmandic/face-api) of each input and its transform (0 = off)')
    p.add_argument('--probe', help='a linear probe over the dlib descriptor (train_descriptor_probe.py) for --lambda-probe')
    p.add_argument('--lambda-probe', type=float, default=0.0,
                   help='attribute loss from --probe: the dlib descriptor of the fake as pasted (see --cls-on-paste) inside the face '
                        'oval, the input outside it (hair, ears, background stay the photo\'s, as in the composite), called the '
                        'target label by the probe; with --lambda-idface the identity loss then ignores the probe\'s directions '
                        '(0 = off)')
    p.add_argument('--attention', action='store_true', help='GANimation attention output')
    p.add_argument('--lambda-mask', type=float, default=0.05)
    p.add_argument('--lambda-tv', type=float, default=1.0)
    p.add_argument('--init', help='start the generators and discriminators from lean weights: a run folder (its lean.pt), '
                   'a lean .pt file, or a slim checkpoint of training/checkpoints/ (generators from the shipped ONNX files)')
    p.add_argument('--amp', action='store_true', help='CUDA only: bfloat16 autocast (weights and optimiser stay float32)')
    p.add_argument('--limit', type=int, help='use only the first N images of each domain (smoke tests)')
    p.add_argument('--oversample-age', metavar='AGE:TIMES',
                   help='show training faces aged AGE or more TIMES as often in both domains (e.g. 45:2; default: every face once)')
    p.add_argument('--seed', type=int, default=1)
    p.add_argument('--threads', type=int, default=2)
    p.add_argument('--ckpt-minutes', type=float, default=5)
    p.add_argument('--keep-snapshots', action='store_true',
                   help='also keep each checkpoint\'s lean weights as snap-<iteration>.pt, for choosing a checkpoint '
                        'afterwards on training-split composites (never the validation split)')
    p.add_argument('--log-every', type=int, default=20)
    a = p.parse_args(argv)
    if not a.iters and not a.minutes:
        p.error('give --iters or --minutes')
    if not os.path.isdir(a.dataset):
        p.error(f'dataset folder {a.dataset} not found')
    if a.lambda_cls > 0 and not a.classifier:
        p.error('--lambda-cls needs --classifier')
    if a.lambda_probe > 0 and not a.probe:
        p.error('--lambda-probe needs --probe')
    return a


def domain_target(domain, device):
    """(head, class) of our classifier that names a domain: gender 0/1 or race 0-2."""
    return (0 if domain in ('male', 'female') else 1), CODE[domain]


def gaussian_lowpass(x, sigma):
    """Separable Gaussian blur of a batch (reflect-padded), sigma in pixels."""
    r = max(1, int(3 * sigma + 0.5))
    t = torch.arange(-r, r + 1, dtype=torch.float32, device=x.device)
    k = torch.exp(-t * t / (2 * sigma * sigma))
    k = (k / k.sum()).to(x.dtype)
    c = x.shape[1]
    x = F.conv2d(F.pad(x, (r, r, 0, 0), mode='reflect'), k.view(1, 1, 1, -1).repeat(c, 1, 1, 1), groups=c)
    return F.conv2d(F.pad(x, (0, 0, r, r), mode='reflect'), k.view(1, 1, -1, 1).repeat(c, 1, 1, 1), groups=c)


def _smoothstep(e0, e1, x):
    t = ((x - e0) / (e1 - e0)).clamp(0, 1)
    return t * t * (3 - 2 * t)


def fine_texture(x, texture_sigma=1.0):
    """A batch's fine luma texture (N x 1 x H x W, in [-1, 1] luma units): BT.601 luma minus its Gaussian blur."""
    w = torch.tensor([0.299, 0.587, 0.114], device=x.device, dtype=x.dtype).view(1, 3, 1, 1)
    lum = (x * w).sum(1, keepdim=True)
    return lum - gaussian_lowpass(lum, texture_sigma)


def keep_detail(real, fake, texture_sigma=1.0, energy_sigma=2.0):
    """Where the detail paste keeps the photo's texture (1) and where it takes the net's pixels (0): core/detail.ts
    keepDetail at crop scale (the luma textures' local correlation and amplitude ratio), in 0..255 luma units."""
    hx, hy = 127.5 * fine_texture(real, texture_sigma), 127.5 * fine_texture(fake, texture_sigma)
    ex, ey, exy = (gaussian_lowpass(t, energy_sigma) for t in (hx * hx, hy * hy, hx * hy))
    eps = 6.0
    rho = (exy + eps) / torch.sqrt((ex + eps) * (ey + eps))
    ratio = torch.sqrt((ey + eps) / (ex + eps))
    return gaussian_lowpass(_smoothstep(0.1, 0.45, rho) * (1 - _smoothstep(1.6, 2.6, ratio)), 1.5)


def as_pasted(real, fake, sigma, keep=False, photo_detail=1.0):
    """What the detail paste-back keeps of a fake at crop scale: the input's texture plus the net's
    change low-passed (core/detail.ts, where the net did not change structure). With keep, also where it did:
    there (keep_detail, held constant) the net's own pixels, so a beard removed outright is judged removed.
    photo_detail (0..1, the manifest's photoDetail) scales how much of the input's texture is kept, as the paste does."""
    if sigma <= 0:
        return fake
    pasted = real + gaussian_lowpass(fake - real, sigma)
    if not keep and photo_detail >= 1:
        return pasted
    k = keep_detail(real.detach().float(), fake.detach().float()).to(fake.dtype) if keep else torch.ones_like(fake[:, :1])
    k = k * photo_detail
    return k * pasted + (1 - k) * fake


def cls_loss(classifier, fake, head, code):
    logits = classifier(jitter(fake, photometric=False))[head].float()
    return F.cross_entropy(logits, torch.full((fake.shape[0],), code, device=fake.device, dtype=torch.long))


def probe_loss(desc, probe, view, code):
    """The descriptor probe's cross-entropy toward label `code` on a jittered view (train_descriptor_probe.py)."""
    logits = probe(desc(jitter(view, photometric=False)))
    return F.cross_entropy(logits, torch.full((view.shape[0],), code, device=view.device, dtype=torch.long))


def blotch_loss(real, fake, fine=1.0, coarse=6.0):
    """Local colour patches in the change fake - real: the chroma (R-G, B-G) of the change, band-passed
    between `fine` and `coarse` pixels, in a smooth L1. A smooth tone change over the face costs little; a patch
    of a few pixels to a few tens of pixels in a colour of its own costs."""
    d = fake - real
    ch = torch.stack([d[:, 0] - d[:, 1], d[:, 2] - d[:, 1]], 1)
    bp = gaussian_lowpass(ch, fine) - gaussian_lowpass(ch, coarse)
    return (torch.sqrt(bp * bp + 1e-4) - 1e-2).mean()  # Charbonnier (smooth L1): no pull on what is already 0


def texture_energy(x, texture_sigma=1.0, energy_sigma=2.0):
    """Local fine-texture energy of a batch (N x 1 x H x W): luma (in [-1, 1] units) minus its Gaussian blur
    (`texture_sigma` px), squared and averaged over `energy_sigma` px, the split keep_detail reads."""
    h = fine_texture(x, texture_sigma)
    return gaussian_lowpass(h * h, energy_sigma)


def texture_reference(faces, q=0.75, smooth=2.0):
    """Per-pixel ceiling of the fine-texture amplitude on real faces of one domain (aligned crops, N x 3 x S x S):
    the q-quantile over the faces (and their mirror images) of sqrt(texture_energy), smoothed; 1 x 1 x S x S.
    Where the domain's skin is smooth (a woman's jaw and cheeks) the ceiling is low; eyes, brows, hair high."""
    with torch.no_grad():
        amp = torch.sqrt(texture_energy(torch.cat([faces, faces.flip(3)])) + 1e-8)
        ref = torch.quantile(amp.flatten(1), q, dim=0).view(1, 1, *faces.shape[2:])
        return gaussian_lowpass(ref, smooth)


def texture_loss(fake, ref, weight):
    """Fine texture the target domain does not have: the fake's texture amplitude above the domain's ceiling
    (texture_reference), averaged under `weight` (the face oval). Stubble kept on a male->female face costs;
    skin as smooth as the target's is free, and so is the texture of eyes and brows (their ceiling is high)."""
    over = F.relu(torch.sqrt(texture_energy(fake) + 1e-8) - ref)
    return (over * weight).sum() / (weight.sum() * fake.shape[0])


def mask_losses(a):
    tv = ((a[:, :, 1:, :] - a[:, :, :-1, :]) ** 2).mean() + ((a[:, :, :, 1:] - a[:, :, :, :-1]) ** 2).mean()
    return a.mean(), tv


def lr_factor(progress, decay_start):
    """Constant, then linear decay to 0 over the last (1 - decay_start) of training."""
    if progress < decay_start:
        return 1.0
    return max(0.0, 1.0 - (progress - decay_start) / max(1e-9, 1.0 - decay_start))


def main(argv=None):
    a = parse_args(argv)
    device = setup(a.seed, a.threads)
    os.makedirs(a.out, exist_ok=True)
    pack = FacePack(a.cache, a.pack)
    dom_a, dom_b = a.domains
    ia = pack.select('train', adult_colour, DOMAINS[dom_a])
    ib = pack.select('train', adult_colour, DOMAINS[dom_b])
    if a.limit:
        ia, ib = ia[:a.limit], ib[:a.limit]
    if a.oversample_age:
        min_age, times = (int(v) for v in a.oversample_age.split(':'))
        ia, ib = (oversample_age(pack.items, idx, min_age, times) for idx in (ia, ib))
    va = pack.select('val', adult_colour, DOMAINS[dom_a])[:4]
    vb = pack.select('val', adult_colour, DOMAINS[dom_b])[:4]
    if len(va) < 1 or len(vb) < 1:
        va, vb = ia[:4], ib[:4]
    sa, sb = DomainSampler(ia, a.seed), DomainSampler(ib, a.seed + 1)
    if device.type == 'cuda':
        pack.to(device)  # batches are cut on the GPU
        torch.backends.cudnn.benchmark = True
        torch.backends.cuda.matmul.allow_tf32 = torch.backends.cudnn.allow_tf32 = True
    amp = a.amp and device.type == 'cuda'

    Gen = AttentionGenerator if a.attention else ResnetGenerator
    G_AB = Gen(a.ngf, a.blocks, a.upsample).to(device)
    G_BA = Gen(a.ngf, a.blocks, a.upsample).to(device)
    classifier = cls_meta = None
    if a.lambda_cls > 0:
        from train_classifier import load_classifier
        classifier, cls_meta = load_classifier(a.classifier, device)
    tgt_A, tgt_B = domain_target(dom_a, device), domain_target(dom_b, device)
    D_A = PatchDiscriminator(a.ndf).to(device)
    D_B = PatchDiscriminator(a.ndf).to(device)
    nets = dict(G_AB=G_AB, G_BA=G_BA, D_A=D_A, D_B=D_B)
    opt_G = torch.optim.Adam(list(G_AB.parameters()) + list(G_BA.parameters()), lr=a.lr, betas=(0.5, 0.999))
    opt_D = torch.optim.Adam(list(D_A.parameters()) + list(D_B.parameters()), lr=a.lr, betas=(0.5, 0.999))
    vgg = VGGFeatures(a.vgg).to(device) if a.vgg else None
    face_desc = probe = probe_meta = probe_basis = None
    if a.lambda_idface > 0 or a.lambda_probe > 0:
        from faceshift_train.facedescriptor import DlibFaceDescriptor
        face_desc = DlibFaceDescriptor().to(device)
    if a.lambda_probe > 0:
        from train_descriptor_probe import load_probe
        probe, probe_meta = load_probe(a.probe, device)
        probe_basis = probe.directions()
        if not {dom_a, dom_b} <= set(probe_meta['labels']):
            raise SystemExit(f'--probe {a.probe} reads {probe_meta["attribute"]} ({", ".join(probe_meta["labels"])}), '
                             f'not {dom_a} / {dom_b}: train one with train_descriptor_probe.py --attribute ...')
        ptgt = {d: probe_meta['labels'].index(d) for d in (dom_a, dom_b)}
    if a.lambda_probe > 0 or a.lambda_texture > 0:
        oval = oval_mask(a.size, **FACE_OVAL).to(device)  # the face oval at training size (what the composite changes)
    if a.lambda_texture > 0:
        # a fixed random sample: the pack is in file-name order, and UTKFace's names start with the age
        tex_ref = {d: texture_reference(pack.batch(sorted(random.Random(a.seed).sample(idx, min(1500, len(idx)))), a.size).to(device))
                   for d, idx in ((dom_a, ia), (dom_b, ib))}
    id_kind = 'vgg16-relu3_3-l1' if vgg else 'pixel-l1'

    ckpt_path = os.path.join(a.out, 'ckpt.pt')
    state = dict(it=0, seconds=0.0, total=a.iters, images_seen=0, prior_images_seen=0, history=[])
    if os.path.exists(ckpt_path):
        ck = torch.load(ckpt_path, map_location=device)
        for k, n in nets.items():
            n.load_state_dict(ck['nets'][k])
        opt_G.load_state_dict(ck['opt_G'])
        opt_D.load_state_dict(ck['opt_D'])
        state = ck['state']
        random.setstate(ck['py_random'])
        torch.set_rng_state(ck['torch_rng'])
        sa.order, sa.pos = ck['samplers'][0]
        sb.order, sb.pos = ck['samplers'][1]
        state['total'] = a.iters  # the command line's plan wins on resume
        print(f'resumed at iteration {state["it"]}', flush=True)
    elif a.init:
        lean = read_lean(a.init, ROOT)
        for k, n in nets.items():
            if isinstance(n, AttentionGenerator):
                n.load_plain(lean['nets'][k])  # a plain or an attention generator
            else:
                load_lean(n, lean['nets'][k])
        state['prior_images_seen'] = lean['meta']['images_seen']
        pm = lean['meta']
        state['history'] = pm.get('history') or [{k: pm[k] for k in ('size', 'batch', 'iterations', 'seconds') if k in pm}]
        print(f'initialised from {a.init} ({lean["meta"]["images_seen"]} images seen there)', flush=True)

    print(f'{dom_a}: {len(ia)} train faces, {dom_b}: {len(ib)} train faces; size {a.size}; device {device}; '
          f'G params {count_params(G_AB)}, D params {count_params(D_A)}; identity loss {id_kind}; batch {a.batch}'
          f'{"; bf16 autocast" if amp else ""}', flush=True)

    pool_A, pool_B = ImagePool(), ImagePool()
    mse, l1 = nn.MSELoss(), nn.L1Loss()
    log = LossLog(a.out, ['D_A', 'D_B', 'G_A2B', 'G_B2A', 'cyc_A', 'cyc_B', 'idt_A', 'idt_B', 'cls_A2B', 'cls_B2A', 'mask', 'blotch', 'idface', 'probe', 'texture'])
    timer = Timer(state['seconds'])
    last_ckpt = timer.elapsed()
    acc, nacc = {}, 0
    rng = random.Random(a.seed + state['it'])

    def save(final=False):
        state['seconds'] = timer.elapsed()
        meta = dict(domains=[dom_a, dom_b], size=a.size, ngf=a.ngf, blocks=a.blocks, upsample=a.upsample, ndf=a.ndf,
                    batch=a.batch, iterations=state['it'], images_seen=state['prior_images_seen'] + state['images_seen'],
                    identity_loss=id_kind, seed=a.seed, attention=bool(a.attention), oversample_age=a.oversample_age,
                    losses=dict(cyc=a.lambda_cyc, id=a.lambda_cyc * a.lambda_id, cls=a.lambda_cls, cls_on_paste=a.cls_on_paste, paste_keep=bool(a.paste_keep), paste_photo_detail=a.paste_photo_detail,
                                blotch=a.lambda_blotch, idface=a.lambda_idface, probe=a.lambda_probe, texture=a.lambda_texture,
                                mask=a.lambda_mask if a.attention else 0, tv=a.lambda_tv if a.attention else 0),
                    classifier=(dict(file=os.path.relpath(a.classifier, ROOT), val_accuracy=cls_meta.get('val_accuracy'))
                                if cls_meta else None),
                    probe=(dict(file=os.path.relpath(a.probe, ROOT), attribute=probe_meta['attribute'],
                                val_accuracy=probe_meta.get('val_accuracy')) if probe_meta else None),
                    history=state.get('history', []) + [dict(size=a.size, batch=a.batch, iterations=state['it'], seconds=round(state['seconds']))], seconds=round(state['seconds']), template=pack.meta['template'],
                    train_counts={dom_a: len(ia), dom_b: len(ib)}, finished=final, precision='bf16-autocast' if amp else 'fp32',
                    device=torch.cuda.get_device_name(device) if device.type == 'cuda' else 'cpu',
                    pack=dict(name=a.pack, encoding=pack.meta.get('encoding', 'raw'), quality=pack.meta.get('quality'),
                              races=sorted({RACES[pack.items[i]['race']] for i in ia + ib})))
        torch.save(dict(nets={k: n.state_dict() for k, n in nets.items()}, opt_G=opt_G.state_dict(), opt_D=opt_D.state_dict(),
                        state=state, py_random=random.getstate(), torch_rng=torch.get_rng_state(),
                        samplers=[(sa.order, sa.pos), (sb.order, sb.pos)]), ckpt_path + '.tmp')
        os.replace(ckpt_path + '.tmp', ckpt_path)
        lean_path = os.path.join(a.out, 'lean.pt')
        torch.save(dict(nets={k: lean_state(n) for k, n in nets.items()}, meta=meta), lean_path + '.tmp')
        os.replace(lean_path + '.tmp', lean_path)  # atomic: may be copied while training runs
        if a.keep_snapshots:
            shutil.copyfile(lean_path, os.path.join(a.out, f"snap-{state['it']:05d}.pt"))
        with open(os.path.join(a.out, 'meta.json'), 'w') as f:
            json.dump(meta, f, indent=2)
        log.plot(os.path.join(a.out, 'losses.png'), f'CycleGAN {dom_a}<->{dom_b} at {a.size}px')
        sample_grid()

    @torch.no_grad()
    def sample_grid():
        import torchvision.utils as vu
        for n in nets.values():
            n.eval()
        parts = []
        for idx, G, F_ in ((va, G_AB, G_BA), (vb, G_BA, G_AB)):
            x = pack.batch(idx, a.size).to(device)
            fake = G(x)
            # one row per face: real | fake | reconstructed | identity (F_(real) should leave it unchanged)
            parts.append(torch.stack([x, fake, F_(fake), F_(x)], 1))
        grid = torch.cat(parts).reshape(-1, 3, a.size, a.size)
        vu.save_image((grid + 1) / 2, os.path.join(a.out, 'samples.png'), nrow=4, padding=2)
        for n in nets.values():
            n.train()

    budget = a.minutes * 60 if a.minutes else None

    def progress():
        # With a time budget, progress is measured in time, so the schedule adapts to the machine's load.
        return timer.elapsed() / budget if budget else state['it'] / state['total']

    while progress() < 1:
        f = lr_factor(progress(), a.decay_start)
        for o in (opt_G, opt_D):
            for g in o.param_groups:
                g['lr'] = a.lr * f
        flips = [rng.random() < 0.5 for _ in range(a.batch)]
        real_A = pack.batch(sa.take(a.batch), a.size, flips).to(device)
        real_B = pack.batch(sb.take(a.batch), a.size, flips).to(device)

        # generators
        for d in (D_A, D_B):
            d.requires_grad_(False)
        opt_G.zero_grad(set_to_none=True)
        with torch.autocast(device.type, dtype=torch.bfloat16, enabled=amp):
            fake_B, fake_A = G_AB(real_A), G_BA(real_B)
            att = (G_AB.attention, G_BA.attention) if a.attention else None
            rec_A, rec_B = G_BA(fake_B), G_AB(fake_A)
            pB, pA = D_B(fake_B), D_A(fake_A)
            g_ab, g_ba = mse(pB, torch.ones_like(pB)), mse(pA, torch.ones_like(pA))
            cyc_a, cyc_b = l1(rec_A, real_A), l1(rec_B, real_B)
            loss = g_ab + g_ba + a.lambda_cyc * (cyc_a + cyc_b)
            idt_a = idt_b = torch.zeros((), device=device)
            if a.lambda_id > 0:
                idt_B, idt_A = G_AB(real_B), G_BA(real_A)  # G_AB(b) should leave b unchanged, and so on
                if vgg is not None:
                    idt_a, idt_b = l1(vgg(idt_A), vgg(real_A)), l1(vgg(idt_B), vgg(real_B))
                else:
                    idt_a, idt_b = l1(idt_A, real_A), l1(idt_B, real_B)
                loss = loss + a.lambda_cyc * a.lambda_id * (idt_a + idt_b)
            cls_ab = cls_ba = m_loss = blotch = idface = probe_l = texture = torch.zeros((), device=device)
            if a.lambda_idface > 0:
                idface = (face_identity_loss(face_desc, real_A, fake_B, ignore=probe_basis)
                          + face_identity_loss(face_desc, real_B, fake_A, ignore=probe_basis))
                loss = loss + a.lambda_idface * idface
            if probe is not None or classifier is not None:  # the fakes as the detail paste keeps them, judged below
                pasted_B = as_pasted(real_A, fake_B, a.cls_on_paste, a.paste_keep, a.paste_photo_detail)
                pasted_A = as_pasted(real_B, fake_A, a.cls_on_paste, a.paste_keep, a.paste_photo_detail)
            if probe is not None:
                probe_l = (probe_loss(face_desc, probe, oval * pasted_B + (1 - oval) * real_A, ptgt[dom_b])
                           + probe_loss(face_desc, probe, oval * pasted_A + (1 - oval) * real_B, ptgt[dom_a]))
                loss = loss + a.lambda_probe * probe_l
            if a.lambda_texture > 0:
                texture = (texture_loss(fake_B.float(), tex_ref[dom_b], oval)
                           + texture_loss(fake_A.float(), tex_ref[dom_a], oval))
                loss = loss + a.lambda_texture * texture
            if a.lambda_blotch > 0:
                blotch = blotch_loss(real_A.float(), fake_B.float()) + blotch_loss(real_B.float(), fake_A.float())
                loss = loss + a.lambda_blotch * blotch
            if classifier is not None:
                cls_ab = cls_loss(classifier, pasted_B, *tgt_B)
                cls_ba = cls_loss(classifier, pasted_A, *tgt_A)
                loss = loss + a.lambda_cls * (cls_ab + cls_ba)
            if att is not None:
                (m1, t1), (m2, t2) = mask_losses(att[0].float()), mask_losses(att[1].float())
                m_loss = m1 + m2
                loss = loss + a.lambda_mask * m_loss + a.lambda_tv * (t1 + t2)
        loss.backward()
        opt_G.step()

        # discriminators
        for d in (D_A, D_B):
            d.requires_grad_(True)
        opt_D.zero_grad(set_to_none=True)
        fb, fa = pool_B.query(fake_B), pool_A.query(fake_A)
        def d_loss(D, real, fake):
            pr, pf = D(real), D(fake.detach())
            return 0.5 * (mse(pr, torch.ones_like(pr)) + mse(pf, torch.zeros_like(pf)))
        with torch.autocast(device.type, dtype=torch.bfloat16, enabled=amp):
            d_a, d_b = d_loss(D_A, real_A, fa), d_loss(D_B, real_B, fb)
        (d_a + d_b).backward()
        opt_D.step()

        state['it'] += 1
        state['images_seen'] += a.batch
        vals = dict(D_A=d_a, D_B=d_b, G_A2B=g_ab, G_B2A=g_ba, cyc_A=cyc_a, cyc_B=cyc_b, idt_A=idt_a, idt_B=idt_b,
                    cls_A2B=cls_ab, cls_B2A=cls_ba, mask=m_loss, blotch=blotch, idface=idface, probe=probe_l, texture=texture)
        for k, v in vals.items():
            acc[k] = acc.get(k, 0.0) + v.detach().float()  # summed on the device; read at log time only
        nacc += 1
        if state['it'] % a.log_every == 0:
            acc = {k: float(v) for k, v in acc.items()}
            log.write(state['it'], timer.elapsed(), {k: v / nacc for k, v in acc.items()})
            print(f'it {state["it"]} ({100 * progress():.0f}%, {state["images_seen"] / max(1e-9, timer.elapsed()):.0f} img/s) ' + ' '.join(f'{k} {v / nacc:.3f}' for k, v in acc.items()), flush=True)
            acc, nacc = {}, 0
        if timer.elapsed() - last_ckpt > a.ckpt_minutes * 60:
            save()
            last_ckpt = timer.elapsed()
    save(final=True)
    print(f'done: {state["it"]} iterations, {timer.elapsed() / 60:.1f} min', flush=True)


if __name__ == '__main__':
    main()
