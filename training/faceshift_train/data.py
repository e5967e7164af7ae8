"""Training data: the packs written by scripts/prepare-dataset.ts (crops made by the engine's
own detector and alignment function, core/align.ts), read as memory maps."""
import json
import os

import numpy as np
import torch
import torch.nn.functional as F

from .domains import ADULT_AGE, ATTRIBUTE, CODE, LABELS_OF

# Domain filters on UTKFace labels (training/domains.json), e.g. DOMAINS['female'](item)
DOMAINS = {d: (lambda attr, code: lambda it: it[attr] == code)(ATTRIBUTE[d], CODE[d]) for d in CODE}

RACES = LABELS_OF['race']  # UTKFace race codes 0-4


def adult_colour(it):
    return it['age'] >= ADULT_AGE and not it['grayscale']


def decode_webp_pack(path, items, size):
    from PIL import Image
    import io
    out = np.empty((len(items), size, size, 3), dtype=np.uint8)
    with open(path, 'rb') as f:
        data = f.read()
    for k, it in enumerate(items):
        img = Image.open(io.BytesIO(data[it['offset']:it['offset'] + it['length']])).convert('RGB')
        if img.size != (size, size):
            raise ValueError(f'{path}: item {k} is {img.size}, expected {size}x{size}')
        out[k] = np.asarray(img)
    return out


class FacePack:
    """A pack: <name>.u8 (N x S x S x 3 uint8) and <name>.json (size, items with labels and split)."""

    def __init__(self, cache_dir, name):
        meta_path = os.path.join(cache_dir, name + '.json')
        if not os.path.exists(meta_path):
            raise FileNotFoundError(
                f'{meta_path} is missing. Prepare the data first: npm run prepare-data -- <dataset dir> '
                '(runs the engine\'s detector and alignment over the dataset).')
        with open(meta_path) as f:
            self.meta = json.load(f)
        self.size = self.meta['size']
        self.items = self.meta['items']
        self.device_pixels = None
        if self.meta.get('encoding') == 'webp':  # a transport pack (training/transport_pack.py)
            self.pixels = decode_webp_pack(os.path.join(cache_dir, name + '.webp'), self.items, self.size)
        else:
            self.pixels = np.memmap(os.path.join(cache_dir, name + '.u8'), dtype=np.uint8, mode='r',
                                    shape=(len(self.items), self.size, self.size, 3))

    def to(self, device):
        """Keep every crop on `device` (uint8) so batches are cut there, without host copies."""
        self.device_pixels = torch.from_numpy(np.ascontiguousarray(self.pixels)).to(device)
        return self

    def select(self, split, *preds):
        return [i for i, it in enumerate(self.items) if it['split'] == split and all(p(it) for p in preds)]

    def batch(self, idx, size=None, flip=None):
        """Float NCHW in [-1, 1]; optionally area-downscaled to `size` and randomly mirrored."""
        if self.device_pixels is not None:
            dev = self.device_pixels.device
            x = self.device_pixels[torch.tensor(idx, device=dev)].permute(0, 3, 1, 2).float() / 127.5 - 1.0
            if size and size != self.size:
                x = F.interpolate(x, size=(size, size), mode='area')
            if flip is not None:
                m = torch.tensor(flip, device=dev).view(-1, 1, 1, 1)
                x = torch.where(m, x.flip(-1), x)
            return x
        x = torch.from_numpy(np.stack([self.pixels[i] for i in idx])).permute(0, 3, 1, 2).float()
        x = x / 127.5 - 1.0
        if size and size != self.size:
            x = F.interpolate(x, size=(size, size), mode='area')
        if flip is not None:
            for k in range(x.shape[0]):
                if flip[k]:
                    x[k] = x[k].flip(-1)
        return x


def oversample_age(items, indices, min_age, times):
    """`indices` with every face aged `min_age` or more listed `times` times, so an epoch of a DomainSampler over
    the result shows older faces `times` as often (their texture, stubble and wrinkles, is what the nets fail on)."""
    if times < 1 or int(times) != times:
        raise ValueError(f'oversample: times must be a whole number >= 1, got {times}')
    return [i for i in indices for _ in range(int(times) if items[i]['age'] >= min_age else 1)]


class DomainSampler:
    """Endless shuffled index stream over one domain, seeded."""

    def __init__(self, indices, seed):
        if not indices:
            raise ValueError('A domain has no training images: check the dataset path and filters.')
        self.indices = list(indices)
        self.rng = np.random.default_rng(seed)
        self.order, self.pos = self.rng.permutation(self.indices), 0

    def take(self, n):
        out = []
        for _ in range(n):
            if self.pos >= len(self.order):
                self.order, self.pos = self.rng.permutation(self.indices), 0
            out.append(int(self.order[self.pos]))
            self.pos += 1
        return out
