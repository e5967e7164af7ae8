#!/usr/bin/python3
"""Train the SRResNet x4 upscaler on HR patches of the sharper aligned faces.

  /usr/bin/python3 training/train_sr.py --dataset ../shared/datasets/utkface --minutes 30 --out training/runs/sr

HR patches (64x64 as in the article) are cut from the `sr192` pack (faces with Laplacian
variance >= 150, colour); the LR input is the patch downscaled 4x (bicubic, antialiased).
Loss: L1 on pixels. Resumable from <out>/ckpt.pt.
"""
import argparse
import json
import os
import sys

import numpy as np
import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from faceshift_train.common import LossLog, Timer, lean_state, setup  # noqa: E402
from faceshift_train.data import FacePack  # noqa: E402
from faceshift_train.nets import SRResNet, count_params  # noqa: E402


def degrade(hr):
    """HR [-1,1] NCHW -> LR at 1/4 size, as a bicubic camera-style downscale."""
    return F.interpolate(hr, scale_factor=0.25, mode='bicubic', align_corners=False, antialias=True).clamp(-1, 1)


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument('--dataset', required=True)
    p.add_argument('--cache', default=os.path.join(os.path.dirname(os.path.abspath(__file__)), 'cache'))
    p.add_argument('--pack', default='sr192')
    p.add_argument('--out', required=True)
    p.add_argument('--nf', type=int, default=64)
    p.add_argument('--blocks', type=int, default=16)
    p.add_argument('--patch', type=int, default=64)
    p.add_argument('--batch', type=int, default=16)
    p.add_argument('--iters', type=int)
    p.add_argument('--minutes', type=float)
    p.add_argument('--lr', type=float, default=1e-4)
    p.add_argument('--limit', type=int)
    p.add_argument('--seed', type=int, default=1)
    p.add_argument('--threads', type=int, default=2)
    p.add_argument('--ckpt-minutes', type=float, default=5)
    p.add_argument('--log-every', type=int, default=20)
    a = p.parse_args(argv)
    if not a.iters and not a.minutes:
        p.error('give --iters or --minutes')
    if not os.path.isdir(a.dataset):
        p.error(f'dataset folder {a.dataset} not found')
    return a


def main(argv=None):
    a = parse_args(argv)
    device = setup(a.seed, a.threads)
    os.makedirs(a.out, exist_ok=True)
    pack = FacePack(a.cache, a.pack)
    train = pack.select('train')
    val = pack.select('val')[:8] or train[:8]
    if a.limit:
        train = train[:a.limit]
    rng = np.random.default_rng(a.seed)
    net = SRResNet(a.nf, a.blocks).to(device)
    opt = torch.optim.Adam(net.parameters(), lr=a.lr, betas=(0.9, 0.999))
    ckpt_path = os.path.join(a.out, 'ckpt.pt')
    state = dict(it=0, seconds=0.0, total=a.iters, images_seen=0)
    if os.path.exists(ckpt_path):
        ck = torch.load(ckpt_path, map_location=device)
        net.load_state_dict(ck['net'])
        opt.load_state_dict(ck['opt'])
        state = ck['state']
        rng = ck['rng']
        state['total'] = a.iters  # the command line's plan wins on resume
        print(f'resumed at iteration {state["it"]}', flush=True)
    print(f'{len(train)} HR faces of {pack.size}px; patch {a.patch}; params {count_params(net)}; device {device}', flush=True)
    log = LossLog(a.out, ['l1', 'l1_bicubic'])
    timer = Timer(state['seconds'])
    last = timer.elapsed()
    acc = dict(l1=0.0, l1_bicubic=0.0)
    n = 0

    def save(final=False):
        state['seconds'] = timer.elapsed()
        meta = dict(nf=a.nf, blocks=a.blocks, patch=a.patch, batch=a.batch, iterations=state['it'],
                    images_seen=state['images_seen'], loss='l1', seed=a.seed, seconds=round(state['seconds']),
                    template=pack.meta['template'], train_count=len(train), finished=final)
        torch.save(dict(net=net.state_dict(), opt=opt.state_dict(), state=state, rng=rng), ckpt_path + '.tmp')
        os.replace(ckpt_path + '.tmp', ckpt_path)
        torch.save(dict(net=lean_state(net), meta=meta), os.path.join(a.out, 'lean.pt'))
        with open(os.path.join(a.out, 'meta.json'), 'w') as f:
            json.dump(meta, f, indent=2)
        log.plot(os.path.join(a.out, 'losses.png'), 'SRResNet x4 (L1)')
        samples()

    @torch.no_grad()
    def samples():
        import torchvision.utils as vu
        net.eval()
        hr = pack.batch(val[:4]).to(device)
        lr = degrade(hr)
        bic = F.interpolate(lr, scale_factor=4, mode='bicubic', align_corners=False).clamp(-1, 1)
        sr = net(lr).clamp(-1, 1)
        grid = torch.stack([bic, sr, hr], 1).reshape(-1, 3, hr.shape[-2], hr.shape[-1])
        vu.save_image((grid + 1) / 2, os.path.join(a.out, 'samples.png'), nrow=3, padding=2)  # bicubic | SR | HR
        net.train()

    net.train()
    budget = a.minutes * 60 if a.minutes else None

    def progress():
        return timer.elapsed() / budget if budget else state['it'] / state['total']

    while progress() < 1:
        idx = [int(i) for i in rng.choice(train, a.batch)]
        hr_full = pack.batch(idx, flip=rng.random(a.batch) < 0.5)
        ys = rng.integers(0, pack.size - a.patch + 1, a.batch)
        xs = rng.integers(0, pack.size - a.patch + 1, a.batch)
        hr = torch.stack([hr_full[k, :, ys[k]:ys[k] + a.patch, xs[k]:xs[k] + a.patch] for k in range(a.batch)]).to(device)
        lr = degrade(hr)
        for g in opt.param_groups:
            g['lr'] = a.lr * (0.1 if progress() > 0.8 else 1.0)  # one step down for the last fifth
        opt.zero_grad(set_to_none=True)
        sr = net(lr)
        loss = F.l1_loss(sr, hr)
        loss.backward()
        opt.step()
        with torch.no_grad():
            acc['l1'] += float(loss)
            acc['l1_bicubic'] += float(F.l1_loss(F.interpolate(lr, scale_factor=4, mode='bicubic', align_corners=False), hr))
        n += 1
        state['it'] += 1
        state['images_seen'] += a.batch
        if state['it'] % a.log_every == 0:
            log.write(state['it'], timer.elapsed(), {k: v / n for k, v in acc.items()})
            print(f'it {state["it"]} ({100 * progress():.0f}%) l1 {acc["l1"] / n:.4f} bicubic {acc["l1_bicubic"] / n:.4f}', flush=True)
            acc = dict(l1=0.0, l1_bicubic=0.0)
            n = 0
        if timer.elapsed() - last > a.ckpt_minutes * 60:
            save()
            last = timer.elapsed()
    save(final=True)
    print(f'done: {state["it"]} iterations', flush=True)


if __name__ == '__main__':
    main()
