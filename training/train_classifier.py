#!/usr/bin/python3
"""Train our own attribute classifier (gender and UTKFace's five race labels) on the training split.

  /usr/bin/python3 training/train_classifier.py --dataset ../shared/datasets/utkface --out training/runs/cls \
      [--iters 2500] [--batch 128]

It is the frozen judge INSIDE training (the generator's domain-classification loss, StarGAN-style);
the evaluation judges (GEAR, FaceRes, ...) are never used for that. Adults in colour, training split
only; the validation split is read once at the end to report accuracy (never to choose anything).
Writes <out>/classifier.pt (fp16 weights + meta with the validation accuracy).
"""
import argparse
import json
import os
import sys

import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from faceshift_train.augment import jitter  # noqa: E402
from faceshift_train.common import Timer, lean_state, setup  # noqa: E402
from faceshift_train.data import DomainSampler, FacePack, adult_colour  # noqa: E402
from faceshift_train.nets import FACE_OVAL, AttributeClassifier, count_params  # noqa: E402


def labels(pack, idx, device):
    g = torch.tensor([pack.items[i]['gender'] for i in idx], device=device)
    r = torch.tensor([pack.items[i]['race'] for i in idx], device=device)
    return g, r


@torch.no_grad()
def accuracy(net, pack, idx, device, batch=256):
    """Per-head accuracy and per-race recall on the given items."""
    net.eval()
    ok_g = ok_r = 0
    per_race = {k: [0, 0] for k in range(5)}
    for s in range(0, len(idx), batch):
        part = idx[s:s + batch]
        x = pack.batch(part).to(device)
        lg, lr = net(x)
        g, r = labels(pack, part, device)
        ok_g += int((lg.argmax(1) == g).sum())
        pr = lr.argmax(1)
        ok_r += int((pr == r).sum())
        for k in range(5):
            m = r == k
            per_race[k][0] += int((pr[m] == k).sum())
            per_race[k][1] += int(m.sum())
    n = max(1, len(idx))
    return dict(n=len(idx), gender=ok_g / n, race=ok_r / n,
                race_recall={k: (v[0] / v[1] if v[1] else None) for k, v in per_race.items()})


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument('--dataset', required=True)
    p.add_argument('--cache', default=os.path.join(os.path.dirname(os.path.abspath(__file__)), 'cache'))
    p.add_argument('--pack', default='faces128')
    p.add_argument('--out', required=True)
    p.add_argument('--width', type=int, default=32)
    p.add_argument('--input-size', type=int, default=128, help='the classifier area-downscales crops to this size')
    p.add_argument('--face-mask', action='store_true', help='see only the face oval (nets.FACE_OVAL), grey outside: what paste-back keeps')
    p.add_argument('--iters', type=int, default=2500)
    p.add_argument('--batch', type=int, default=128)
    p.add_argument('--lr', type=float, default=1e-3)
    p.add_argument('--limit', type=int, help='first N training faces only (smoke tests)')
    p.add_argument('--seed', type=int, default=1)
    p.add_argument('--threads', type=int, default=2)
    p.add_argument('--init', help='start from a trained classifier.pt of the same width (fully convolutional: it may have '
                                  'been trained at another --input-size, e.g. fine-tune a 64-px classifier at 128 px)')
    a = p.parse_args(argv)
    device = setup(a.seed, a.threads)
    os.makedirs(a.out, exist_ok=True)
    pack = FacePack(a.cache, a.pack)
    train = pack.select('train', adult_colour)
    if a.limit:
        train = train[:a.limit]
    val = pack.select('val', adult_colour)
    if device.type == 'cuda':
        pack.to(device)
        torch.backends.cudnn.benchmark = True
    net = AttributeClassifier(a.width, a.input_size, FACE_OVAL if a.face_mask else None).to(device)
    init = None
    if a.init:
        ck = torch.load(a.init, map_location='cpu', weights_only=False)
        if ck['meta']['width'] != a.width:
            p.error(f'--init {a.init} has width {ck["meta"]["width"]}, not --width {a.width}')
        net.load_state_dict({k: v.float() if v.is_floating_point() else v for k, v in ck['net'].items()})
        init = dict(file=os.path.relpath(a.init), input_size=ck['meta'].get('input_size'), iterations=ck['meta'].get('iterations'))
    opt = torch.optim.AdamW(net.parameters(), lr=a.lr, weight_decay=1e-4)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=a.lr, total_steps=a.iters, pct_start=0.1)
    # race classes are unbalanced (white ~ 43 %, other ~ 7 %): weight the loss by inverse frequency
    # (a label absent from the pack, e.g. 'other' left out of a transport pack, gets weight 0)
    counts = torch.bincount(torch.tensor([pack.items[i]['race'] for i in train]), minlength=5).float()
    present = counts > 0
    w_race = torch.where(present, counts.sum() / counts.clamp(min=1) / present.sum(), torch.zeros_like(counts)).to(device)
    sampler = DomainSampler(train, a.seed)
    timer = Timer()
    print(f'{len(train)} training faces, {len(val)} validation faces; params {count_params(net)}; device {device}', flush=True)
    net.train()
    for it in range(1, a.iters + 1):
        idx = sampler.take(a.batch)
        with torch.autocast(device.type, dtype=torch.bfloat16, enabled=device.type == 'cuda'):
            x = jitter(pack.batch(idx, a.input_size).to(device))  # at the classifier's own size: 4x less to move on a CPU
            g, r = labels(pack, idx, device)
            lg, lr = net(x)
            loss = F.cross_entropy(lg.float(), g, label_smoothing=0.1) + F.cross_entropy(lr.float(), r, weight=w_race, label_smoothing=0.1)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        sched.step()
        if it % 100 == 0 or it == a.iters or it <= 3:
            print(f'it {it} loss {float(loss):.3f} ({timer.elapsed():.0f} s)', flush=True)
    acc = accuracy(net, pack, val, device) if val else None  # a transport pack may hold no val faces
    meta = dict(kind='attribute-classifier', width=a.width, input_size=a.input_size, face_mask=FACE_OVAL if a.face_mask else None, iterations=a.iters, batch=a.batch, train_count=len(train), init=init,
                seconds=round(timer.elapsed()), val_accuracy=acc, template=pack.meta['template'],
                heads=dict(gender=['male', 'female'], race=['white', 'black', 'asian', 'indian', 'other']))
    torch.save(dict(net=lean_state(net), meta=meta), os.path.join(a.out, 'classifier.pt.tmp'))
    os.replace(os.path.join(a.out, 'classifier.pt.tmp'), os.path.join(a.out, 'classifier.pt'))
    print('validation accuracy ' + json.dumps(acc), flush=True)


def load_classifier(path, device):
    ck = torch.load(path, map_location='cpu', weights_only=False)
    net = AttributeClassifier(ck['meta']['width'], ck['meta'].get('input_size', 128), ck['meta'].get('face_mask'))
    net.load_state_dict({k: v.float() if v.is_floating_point() else v for k, v in ck['net'].items()})
    net.eval().to(device)
    for q in net.parameters():
        q.requires_grad_(False)
    return net, ck['meta']


if __name__ == '__main__':
    main()
