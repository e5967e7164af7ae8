#!/usr/bin/python3
"""Train ONE conditional generator for several directions (StarGAN-style), with a
domain-classification loss from our own frozen attribute classifier and a GANimation attention
output.

  /usr/bin/python3 training/train_transform.py --dataset ../shared/datasets/utkface \
      --classifier training/runs/cls/classifier.pt --directions all --minutes 60 --out training/runs/md

Losses (each switchable, so each is measured on its own):
  adversarial  LSGAN against one PatchGAN that sees every domain (real vs fake only);
  --lambda-cls domain classification: cross-entropy of the frozen classifier on the fake toward the
               target label, on randomly jittered copies of the fake (so the generator cannot win with
               a pixel pattern the classifier alone reacts to);
  --lambda-cyc reconstruction: G(G(x, target), own label) = x;
  --lambda-id  identity: G(x, own label) = x;
  --attention  output = A*C + (1-A)*x, with --lambda-mask x mean(A) (sparsity) and --lambda-tv x
               total variation of A (smoothness).
--directions names the directions to learn (all = the six); two of one pair gives a per-pair model
with the same architecture. Each batch draws its tasks evenly over the directions.
Resumable (rerun the same command); lean fp16 weights in <out>/lean.pt; --snapshot-minutes keeps
copies of the generator along the way (<out>/snap-<images>.pt; the last point is lean.pt) for the
learning curve.
"""
import argparse
import json
import os
import random
import sys

import torch
import torch.nn as nn
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from faceshift_train.augment import jitter  # noqa: E402
from faceshift_train.common import LossLog, Timer, lean_state, load_lean, setup  # noqa: E402
from faceshift_train.data import DomainSampler, FacePack, adult_colour  # noqa: E402
from faceshift_train.nets import ConditionalGenerator, PatchDiscriminator, count_params  # noqa: E402
from faceshift_train.tasks import CODE, DIRECTIONS, N_COND, condition, own_domain, source_filter  # noqa: E402
from train_classifier import load_classifier  # noqa: E402
from train_cyclegan import ImagePool, lr_factor, mask_losses  # noqa: E402


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument('--dataset', required=True)
    p.add_argument('--cache', default=os.path.join(os.path.dirname(os.path.abspath(__file__)), 'cache'))
    p.add_argument('--pack', default='faces128')
    p.add_argument('--classifier', help='classifier.pt from train_classifier.py (needed when --lambda-cls > 0)')
    p.add_argument('--directions', nargs='+', default=['all'])
    p.add_argument('--out', required=True)
    p.add_argument('--size', type=int, default=128)
    p.add_argument('--ngf', type=int, default=32)
    p.add_argument('--blocks', type=int, default=9)
    p.add_argument('--ndf', type=int, default=32)
    p.add_argument('--attention', type=int, default=1, choices=[0, 1])
    p.add_argument('--batch', type=int, default=16)
    p.add_argument('--iters', type=int)
    p.add_argument('--minutes', type=float)
    p.add_argument('--decay-start', type=float, default=0.5)
    p.add_argument('--lr', type=float, default=2e-4)
    p.add_argument('--lambda-cls', type=float, default=1.0)
    p.add_argument('--lambda-cyc', type=float, default=10.0)
    p.add_argument('--lambda-id', type=float, default=1.0, help='absolute weight (the v2 pairs used 5)')
    p.add_argument('--lambda-mask', type=float, default=0.1)
    p.add_argument('--lambda-tv', type=float, default=1.0)
    p.add_argument('--init', help='lean.pt of an earlier run with the same architecture')
    p.add_argument('--amp', action='store_true')
    p.add_argument('--limit', type=int)
    p.add_argument('--seed', type=int, default=1)
    p.add_argument('--threads', type=int, default=2)
    p.add_argument('--ckpt-minutes', type=float, default=5)
    p.add_argument('--snapshot-minutes', type=float, default=0)
    p.add_argument('--log-every', type=int, default=20)
    a = p.parse_args(argv)
    if a.directions == ['all']:
        a.directions = list(DIRECTIONS)
    for d in a.directions:
        if d not in DIRECTIONS:
            p.error(f'unknown direction {d}; choose from {", ".join(DIRECTIONS)}')
    if not a.iters and not a.minutes:
        p.error('give --iters or --minutes')
    if a.lambda_cls > 0 and not a.classifier:
        p.error('--lambda-cls needs --classifier')
    return a


class Tasks:
    """Draws a batch of (image index, direction) pairs evenly over the directions."""

    def __init__(self, pack, directions, split, seed, limit=None):
        self.pack, self.directions = pack, directions
        self.samplers, self.counts = [], {}
        for k, d in enumerate(directions):
            idx = pack.select(split, adult_colour, source_filter(d))
            if limit:
                idx = idx[:limit]
            self.counts[d] = len(idx)
            self.samplers.append(DomainSampler(idx, seed + k))
        self.rng = random.Random(seed)

    def take(self, n):
        ks = [self.rng.randrange(len(self.directions)) for _ in range(n)]
        idx = [self.samplers[k].take(1)[0] for k in ks]
        return idx, [self.directions[k] for k in ks]

    def state(self):
        return [(s.order, s.pos) for s in self.samplers], self.rng.getstate()

    def restore(self, st):
        for s, (o, p) in zip(self.samplers, st[0]):
            s.order, s.pos = o, p
        self.rng.setstate(st[1])


def conditions(pack, idx, dirs, device):
    """Target and own-label conditions, and the classifier targets (group, code) of each sample."""
    trg = [condition(DIRECTIONS[d][2]) for d in dirs]
    org = [condition(own_domain(d, pack.items[i])) for i, d in zip(idx, dirs)]
    group = torch.tensor([0 if DIRECTIONS[d][0] == 'gender' else 1 for d in dirs], device=device)
    code = torch.tensor([CODE[DIRECTIONS[d][2]] for d in dirs], device=device)
    return torch.tensor(trg, device=device), torch.tensor(org, device=device), group, code


def cls_loss(classifier, fake, group, code):
    lg, lr = classifier(jitter(fake, photometric=False))
    lg, lr = lg.float(), lr.float()
    ce_g = F.cross_entropy(lg, code.clamp(max=1), reduction='none')
    ce_r = F.cross_entropy(lr, code, reduction='none')
    return torch.where(group == 0, ce_g, ce_r).mean()


def main(argv=None):
    a = parse_args(argv)
    device = setup(a.seed, a.threads)
    os.makedirs(a.out, exist_ok=True)
    pack = FacePack(a.cache, a.pack)
    tasks = Tasks(pack, a.directions, 'train', a.seed, a.limit)
    if device.type == 'cuda':
        pack.to(device)
        torch.backends.cudnn.benchmark = True
        torch.backends.cuda.matmul.allow_tf32 = torch.backends.cudnn.allow_tf32 = True
    amp = a.amp and device.type == 'cuda'
    G = ConditionalGenerator(a.ngf, a.blocks, 'resize', N_COND, bool(a.attention)).to(device)
    D = PatchDiscriminator(a.ndf).to(device)
    nets = dict(G=G, D=D)
    opt_G = torch.optim.Adam(G.parameters(), lr=a.lr, betas=(0.5, 0.999))
    opt_D = torch.optim.Adam(D.parameters(), lr=a.lr, betas=(0.5, 0.999))
    classifier, cls_meta = (load_classifier(a.classifier, device) if a.lambda_cls > 0 else (None, None))

    ckpt_path = os.path.join(a.out, 'ckpt.pt')
    state = dict(it=0, seconds=0.0, images_seen=0, prior_images_seen=0, history=[], snapshots=[])
    if os.path.exists(ckpt_path):
        ck = torch.load(ckpt_path, map_location=device, weights_only=False)
        for k, n in nets.items():
            n.load_state_dict(ck['nets'][k])
        opt_G.load_state_dict(ck['opt_G'])
        opt_D.load_state_dict(ck['opt_D'])
        state = ck['state']
        random.setstate(ck['py_random'])
        torch.set_rng_state(ck['torch_rng'])
        tasks.restore(ck['tasks'])
        print(f'resumed at iteration {state["it"]}', flush=True)
    elif a.init:
        lean = torch.load(a.init if os.path.isfile(a.init) else os.path.join(a.init, 'lean.pt'), map_location='cpu', weights_only=False)
        for k, n in nets.items():
            load_lean(n, lean['nets'][k])
        state['prior_images_seen'] = lean['meta']['images_seen']
        state['history'] = lean['meta'].get('history', [])
        print(f'initialised from {a.init} ({state["prior_images_seen"]} images seen there)', flush=True)

    print(f'directions {a.directions}; sources {tasks.counts}; G params {count_params(G)}; D params {count_params(D)}; '
          f'attention {bool(a.attention)}; lambdas cls {a.lambda_cls} cyc {a.lambda_cyc} id {a.lambda_id} '
          f'mask {a.lambda_mask} tv {a.lambda_tv}; batch {a.batch}; device {device}{"; bf16 autocast" if amp else ""}', flush=True)

    pool = ImagePool()
    mse, l1 = nn.MSELoss(), nn.L1Loss()
    fields = ['D', 'G_adv', 'cls', 'cyc', 'idt', 'mask', 'tv', 'fooled']
    log = LossLog(a.out, fields)
    timer = Timer(state['seconds'])
    last_ckpt = last_snap = timer.elapsed()
    acc, nacc = {}, 0
    budget = a.minutes * 60 if a.minutes else None

    def progress():
        return timer.elapsed() / budget if budget else state['it'] / a.iters

    def meta(final):
        seen = state['prior_images_seen'] + state['images_seen']
        return dict(kind='conditional-generator', directions=a.directions, size=a.size, ngf=a.ngf, blocks=a.blocks,
                    upsample='resize', n_cond=N_COND, attention=bool(a.attention), ndf=a.ndf, batch=a.batch,
                    iterations=state['it'], images_seen=seen, seconds=round(state['seconds']), seed=a.seed,
                    losses=dict(adversarial='lsgan', cls=a.lambda_cls, cyc=a.lambda_cyc, id=a.lambda_id,
                                mask=a.lambda_mask if a.attention else 0, tv=a.lambda_tv if a.attention else 0),
                    classifier=(dict(file=os.path.basename(a.classifier), val_accuracy=cls_meta['val_accuracy'])
                                if cls_meta else None),
                    history=state.get('history', []) + [dict(size=a.size, batch=a.batch, iterations=state['it'],
                                                             seconds=round(state['seconds']))],
                    template=pack.meta['template'], train_counts=tasks.counts, finished=final,
                    precision='bf16-autocast' if amp else 'fp32',
                    device=torch.cuda.get_device_name(device) if device.type == 'cuda' else 'cpu',
                    pack=dict(name=a.pack, encoding=pack.meta.get('encoding', 'raw'), quality=pack.meta.get('quality')))

    def save(final=False):
        state['seconds'] = timer.elapsed()
        torch.save(dict(nets={k: n.state_dict() for k, n in nets.items()}, opt_G=opt_G.state_dict(), opt_D=opt_D.state_dict(),
                        state=state, py_random=random.getstate(), torch_rng=torch.get_rng_state(), tasks=tasks.state()),
                   ckpt_path + '.tmp')
        os.replace(ckpt_path + '.tmp', ckpt_path)
        m = meta(final)
        lean_path = os.path.join(a.out, 'lean.pt')
        torch.save(dict(nets={k: lean_state(n) for k, n in nets.items()}, meta=m), lean_path + '.tmp')
        os.replace(lean_path + '.tmp', lean_path)
        with open(os.path.join(a.out, 'meta.json'), 'w') as f:
            json.dump(m, f, indent=2)
        log.plot(os.path.join(a.out, 'losses.png'), f'conditional generator ({", ".join(a.directions)})')
        sample_grid()

    def snapshot():
        m = meta(False)
        path = os.path.join(a.out, f'snap-{m["images_seen"]:08d}.pt')
        torch.save(dict(nets=dict(G=lean_state(G)), meta=m), path + '.tmp')
        os.replace(path + '.tmp', path)
        state['snapshots'].append(os.path.basename(path))

    @torch.no_grad()
    def sample_grid():
        import torchvision.utils as vu
        G.eval()
        rows = []
        split = 'val' if pack.select('val', adult_colour) else 'train'  # a transport pack may hold no val faces
        for d in a.directions:
            idx = pack.select(split, adult_colour, source_filter(d))[:3]
            if not idx:
                continue
            x = pack.batch(idx, a.size).to(device)
            trg, org, _, _ = conditions(pack, idx, [d] * len(idx), device)
            y, att = G(x, trg)
            rec, _ = G(y, org)
            m = (att * 2 - 1).expand(-1, 3, -1, -1) if att is not None else torch.zeros_like(x)
            rows.append(torch.stack([x, y, m, rec], 1))  # real | fake | attention | reconstructed
        grid = torch.cat(rows).reshape(-1, 3, a.size, a.size)
        vu.save_image((grid.float() + 1) / 2, os.path.join(a.out, 'samples.png'), nrow=4, padding=2)
        G.train()

    rng = random.Random(a.seed + state['it'])
    while progress() < 1:
        f = lr_factor(progress(), a.decay_start)
        for o in (opt_G, opt_D):
            for g in o.param_groups:
                g['lr'] = a.lr * f
        idx, dirs = tasks.take(a.batch)
        flips = [rng.random() < 0.5 for _ in range(a.batch)]
        x = pack.batch(idx, a.size, flips).to(device)
        trg, org, group, code = conditions(pack, idx, dirs, device)

        D.requires_grad_(False)
        opt_G.zero_grad(set_to_none=True)
        with torch.autocast(device.type, dtype=torch.bfloat16, enabled=amp):
            fake, att = G(x, trg)
            rec, att_rec = G(fake, org)
            pf = D(fake)
            g_adv = mse(pf, torch.ones_like(pf))
            cyc = l1(rec, x)
            loss = g_adv + a.lambda_cyc * cyc
            zero = torch.zeros((), device=device)
            c_loss = idt = m_loss = tv_loss = fooled = zero
            if classifier is not None:
                c_loss = cls_loss(classifier, fake, group, code)
                loss = loss + a.lambda_cls * c_loss
            if a.lambda_id > 0:
                same, _ = G(x, org)
                idt = l1(same, x)
                loss = loss + a.lambda_id * idt
            if att is not None:
                (m1, t1), (m2, t2) = mask_losses(att.float()), mask_losses(att_rec.float())
                m_loss, tv_loss = m1 + m2, t1 + t2
                loss = loss + a.lambda_mask * m_loss + a.lambda_tv * tv_loss
        loss.backward()
        opt_G.step()

        D.requires_grad_(True)
        opt_D.zero_grad(set_to_none=True)
        pooled = pool.query(fake)
        with torch.autocast(device.type, dtype=torch.bfloat16, enabled=amp):
            pr, pfk = D(x), D(pooled.detach())
            d_loss = 0.5 * (mse(pr, torch.ones_like(pr)) + mse(pfk, torch.zeros_like(pfk)))
            fooled = (D(fake.detach()) > 0.5).float().mean()
        d_loss.backward()
        opt_D.step()

        state['it'] += 1
        state['images_seen'] += a.batch
        vals = dict(D=d_loss, G_adv=g_adv, cls=c_loss, cyc=cyc, idt=idt, mask=m_loss, tv=tv_loss, fooled=fooled)
        for k, v in vals.items():
            acc[k] = acc.get(k, 0.0) + v.detach().float()
        nacc += 1
        if state['it'] % a.log_every == 0:
            acc = {k: float(v) for k, v in acc.items()}
            log.write(state['it'], timer.elapsed(), {k: v / nacc for k, v in acc.items()})
            print(f'it {state["it"]} ({100 * progress():.0f}%, {state["images_seen"] / max(1e-9, timer.elapsed()):.0f} img/s) '
                  + ' '.join(f'{k} {v / nacc:.3f}' for k, v in acc.items()), flush=True)
            acc, nacc = {}, 0
        if a.snapshot_minutes and timer.elapsed() - last_snap > a.snapshot_minutes * 60:
            snapshot()
            last_snap = timer.elapsed()
        if timer.elapsed() - last_ckpt > a.ckpt_minutes * 60:
            save()
            last_ckpt = timer.elapsed()
    save(final=True)
    print(f'done: {state["it"]} iterations, {timer.elapsed() / 60:.1f} min', flush=True)


if __name__ == '__main__':
    main()
