#!/usr/bin/python3
"""Write a compact copy of an aligned pack for moving it to a training machine (WebP, lossy).

  /usr/bin/python3 training/transport_pack.py --pack faces128 --races 0 1 2 --quality 88 --out <dir>

The raw pack (N x 128 x 128 x 3 bytes, about 1 GB for UTKFace) is too large to carry; this keeps
the adult colour faces of the chosen races as WebP (quality 88: about 2.5 KB a face, ~41 dB PSNR
against the raw crop) in <out>/<pack>.webp with the items and byte offsets in <out>/<pack>.json
("encoding": "webp"). FacePack reads such a pack directly (it decodes it into memory). The crops
are the same ones (same detector, same alignment); only the lossy coding differs.
Derived from UTKFace: non-commercial terms; never commit it.
"""
import argparse
import io
import json
import os
import sys

import numpy as np
from PIL import Image

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from faceshift_train.data import FacePack, adult_colour  # noqa: E402


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument('--cache', default=os.path.join(os.path.dirname(os.path.abspath(__file__)), 'cache'))
    p.add_argument('--pack', default='faces128')
    p.add_argument('--races', type=int, nargs='+', default=[0, 1, 2], help='UTKFace race labels to keep')
    p.add_argument('--splits', nargs='+', default=['train', 'val'])
    p.add_argument('--quality', type=int, default=88)
    p.add_argument('--out', required=True)
    a = p.parse_args(argv)
    pack = FacePack(a.cache, a.pack)
    keep = [i for i, it in enumerate(pack.items)
            if it['split'] in a.splits and it['race'] in a.races and adult_colour(it)]
    os.makedirs(a.out, exist_ok=True)
    items, offset = [], 0
    with open(os.path.join(a.out, a.pack + '.webp'), 'wb') as f:
        for i in keep:
            b = io.BytesIO()
            Image.fromarray(np.asarray(pack.pixels[i])).save(b, 'WEBP', quality=a.quality, method=6)
            data = b.getvalue()
            f.write(data)
            items.append(dict(pack.items[i], offset=offset, length=len(data)))
            offset += len(data)
    meta = {k: v for k, v in pack.meta.items() if k != 'items'}
    meta.update(encoding='webp', quality=a.quality, source_pack=a.pack, items=items)
    with open(os.path.join(a.out, a.pack + '.json'), 'w') as f:
        json.dump(meta, f)
    print(f'{len(items)} faces, {offset / 1e6:.1f} MB ({offset / max(1, len(items)) / 1e3:.2f} KB a face)')


if __name__ == '__main__':
    main()
