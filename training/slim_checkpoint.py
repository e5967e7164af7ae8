#!/usr/bin/python3
"""Keep a CycleGAN run's discriminators as a small checkpoint; the generators stay in the shipped ONNX files.

  /usr/bin/python3 training/slim_checkpoint.py training/runs/wb --version v1 --out training/checkpoints/cyclegan-white-black.pt

The exported ONNX files hold the generators' float16 weights exactly (training/export_onnx.py),
so a checkpoint to continue training from needs only the discriminators (a quarter of the bytes)
and the names and sha256 of the two ONNX files. `train_cyclegan.py --init <this file>` puts the
four nets back together (training/faceshift_train/common.py read_lean) and refuses ONNX files
that are not the ones named.
"""
import argparse
import json
import os
import sys

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from faceshift_train.common import generator_state_from_onnx, read_lean, sha256_file  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument('run', help='training run folder (lean.pt) or a lean .pt file')
    p.add_argument('--version', required=True, help='the version the run was exported as (e.g. v1)')
    p.add_argument('--models', default=os.path.join(ROOT, 'models'))
    p.add_argument('--out', required=True)
    a = p.parse_args(argv)
    lean = read_lean(a.run, ROOT)
    dom_a, dom_b = lean['meta']['domains']
    generators = {}
    for key, src, dst in (('G_AB', dom_a, dom_b), ('G_BA', dom_b, dom_a)):
        file = os.path.join(a.models, f'cyclegan-{src}2{dst}-{a.version}.onnx')
        if not os.path.exists(file):
            raise SystemExit(f'{file} is missing: export the run first (training/export_onnx.py cyclegan {a.run} --version {a.version}).')
        from_onnx = generator_state_from_onnx(file)
        for k, v in lean['nets'][key].items():  # the ONNX file must hold exactly this run's generator
            if not torch.equal(from_onnx[k].float(), v.float()):
                raise SystemExit(f'{file} does not hold this run\'s {key} ({k} differs): export it again.')
        generators[key] = dict(file=os.path.relpath(file, ROOT), sha256=sha256_file(file))
    slim = dict(nets={k: lean['nets'][k] for k in ('D_A', 'D_B')}, generators=generators, meta=lean['meta'])
    os.makedirs(os.path.dirname(os.path.abspath(a.out)), exist_ok=True)
    torch.save(slim, a.out)
    print(json.dumps(dict(out=a.out, bytes=os.path.getsize(a.out), generators=generators)))


if __name__ == '__main__':
    main()
