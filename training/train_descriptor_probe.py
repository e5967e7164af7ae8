#!/usr/bin/python3
"""A linear probe over the dlib ResNet face descriptor (faceshift_train/facedescriptor.py) for one UTKFace
attribute (gender, or race over its five labels): a second in-training judge that the generators were never
trained against, on a descriptor learnt from millions of faces (our own small classifiers are fooled: they call
male->female v8's outputs female more often than real women).

  /usr/bin/python3 training/train_descriptor_probe.py --dataset ../shared/datasets/utkface --attribute gender \
      --out training/checkpoints/dlib-gender-probe.pt [--per-class 3000]

Training split only (adults in colour, a balanced random sample per class, each crop also mirrored); multinomial
logistic regression (L-BFGS, L2). The validation split is read once at the end to report accuracy, never to choose.
"""
import argparse
import json
import os
import sys

import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from faceshift_train.common import Timer, setup  # noqa: E402
from faceshift_train.data import FacePack, adult_colour  # noqa: E402
from faceshift_train.domains import LABELS_OF  # noqa: E402
from faceshift_train.facedescriptor import DlibFaceDescriptor, SHA256  # noqa: E402


class DescriptorProbe(torch.nn.Module):
    """logits = descriptor @ W + b over the attribute's labels."""

    def __init__(self, W, b, attribute):
        super().__init__()
        self.attribute = attribute
        self.register_buffer('W', W.float())
        self.register_buffer('b', b.float())

    def forward(self, desc):
        return desc @ self.W + self.b

    def directions(self):
        """Orthonormal basis (128 x k) of the span the probe reads: class weight differences from class 0."""
        d = self.W[:, 1:] - self.W[:, :1]
        q, _ = torch.linalg.qr(d)
        return q


def load_probe(path, device):
    ck = torch.load(path, map_location='cpu', weights_only=False)
    return DescriptorProbe(ck['W'], ck['b'], ck['meta']['attribute']).to(device), ck['meta']


@torch.no_grad()
def descriptors(desc, pack, idx, mirror=False, batch=64):
    out = []
    for s in range(0, len(idx), batch):
        x = pack.batch(idx[s:s + batch])
        out.append(desc(x.flip(-1) if mirror else x))
    return torch.cat(out) if out else torch.zeros(0, 128)


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument('--dataset', required=True)
    p.add_argument('--cache', default=os.path.join(os.path.dirname(os.path.abspath(__file__)), 'cache'))
    p.add_argument('--pack', default='faces128')
    p.add_argument('--attribute', choices=['gender', 'race'], default='gender')
    p.add_argument('--per-class', type=int, default=3000, help='training faces per label (fewer where a label has fewer)')
    p.add_argument('--l2', type=float, default=1e-3)
    p.add_argument('--out', required=True)
    p.add_argument('--seed', type=int, default=1)
    p.add_argument('--threads', type=int, default=2)
    a = p.parse_args(argv)
    device = setup(a.seed, a.threads)
    pack = FacePack(a.cache, a.pack)
    labels = LABELS_OF[a.attribute]
    g = torch.Generator().manual_seed(a.seed)
    desc = DlibFaceDescriptor()
    timer = Timer()
    xs, ys, counts = [], [], {}
    for code in range(len(labels)):
        idx = pack.select('train', lambda it, c=code: adult_colour(it) and it[a.attribute] == c)
        idx = [idx[i] for i in torch.randperm(len(idx), generator=g)[:a.per_class].tolist()]
        counts[labels[code]] = len(idx)
        for mirror in (False, True):
            xs.append(descriptors(desc, pack, idx, mirror))
            ys.append(torch.full((len(idx),), code, dtype=torch.long))
    X, Y = torch.cat(xs), torch.cat(ys)
    print(f'{len(X)} descriptors ({json.dumps(counts)} faces, each also mirrored) in {timer.elapsed():.0f} s', flush=True)
    # classes weighted by inverse frequency (race labels are unbalanced)
    freq = torch.bincount(Y, minlength=len(labels)).float()
    weight = torch.where(freq > 0, freq.sum() / freq.clamp(min=1) / (freq > 0).sum(), torch.zeros_like(freq))
    W = torch.zeros(128, len(labels), requires_grad=True)
    b = torch.zeros(len(labels), requires_grad=True)
    opt = torch.optim.LBFGS([W, b], max_iter=500, line_search_fn='strong_wolfe')

    def closure():
        opt.zero_grad()
        loss = F.cross_entropy(X @ W + b, Y, weight=weight) + a.l2 * (W ** 2).sum()
        loss.backward()
        return loss
    opt.step(closure)
    W, b = W.detach(), b.detach()
    train_acc = float(((X @ W + b).argmax(1) == Y).float().mean())
    val = pack.select('val', adult_colour)
    Xv = descriptors(desc, pack, val)
    Yv = torch.tensor([pack.items[i][a.attribute] for i in val], dtype=torch.long)
    pred = (Xv @ W + b).argmax(1)
    recall = {labels[c]: (float((pred[Yv == c] == c).float().mean()) if (Yv == c).any() else None) for c in range(len(labels))}
    meta = dict(kind='descriptor-probe', descriptor='dlib_face_recognition_resnet_model_v1 (@vladmandic/face-api)',
                descriptor_sha256=SHA256, attribute=a.attribute, labels=labels, train_counts=counts, mirrored=True, l2=a.l2,
                train_accuracy=train_acc, val_accuracy=dict(n=len(val), accuracy=float((pred == Yv).float().mean()), recall=recall),
                template=pack.meta['template'], seconds=round(timer.elapsed()))
    os.makedirs(os.path.dirname(os.path.abspath(a.out)), exist_ok=True)
    torch.save(dict(W=W.half(), b=b.half(), meta=meta), a.out + '.tmp')
    os.replace(a.out + '.tmp', a.out)
    print(f'train accuracy {train_acc:.3f}; validation accuracy {json.dumps(meta["val_accuracy"])}', flush=True)


if __name__ == '__main__':
    main()
