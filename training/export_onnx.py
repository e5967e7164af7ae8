#!/usr/bin/python3
"""Export trained nets to ONNX, check them, and describe them in models/manifest.json.

  /usr/bin/python3 training/export_onnx.py cyclegan training/runs/mf128 [--models models]
  /usr/bin/python3 training/export_onnx.py sr training/runs/sr [--models models]

Each exported file is checked with onnx.checker and run by onnxruntime-node (scripts/ort-run.js)
on a random input; the export fails if any output differs from PyTorch by more than 1e-4.
"""
import argparse
import datetime
import hashlib
import json
import os
import subprocess
import sys
import tempfile

import numpy as np
import onnx
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from faceshift_train.common import load_lean  # noqa: E402
from faceshift_train.nets import ResnetGenerator, SRResNet, count_params  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
LICENCE = ('Non-commercial use only: trained on UTKFace, which is "available for non-commercial research '
           'purposes only". See models/MODEL_CARD.md.')
TOLERANCE = 1e-4


def sha256(path):
    h = hashlib.sha256()
    with open(path, 'rb') as f:
        for chunk in iter(lambda: f.read(1 << 20), b''):
            h.update(chunk)
    return h.hexdigest()


def ort_parity(onnx_path, module, shape, seed=0):
    """Max |onnxruntime-node - PyTorch| on a random input in [-1, 1]."""
    g = torch.Generator().manual_seed(seed)
    x = torch.rand(shape, generator=g) * 2 - 1
    with torch.no_grad():
        ref = module(x).numpy()
    with tempfile.TemporaryDirectory() as d:
        xi, yo = os.path.join(d, 'in.f32'), os.path.join(d, 'out.f32')
        x.numpy().astype(np.float32).tofile(xi)
        subprocess.run(['node', os.path.join(ROOT, 'scripts', 'ort-run.js'), onnx_path, xi, ','.join(map(str, shape)), yo],
                       check=True, capture_output=True)
        out = np.fromfile(yo, dtype=np.float32).reshape(ref.shape)
    return float(np.abs(out - ref).max())


def export(module, path, size, dynamic=True):
    module.eval()
    x = torch.zeros(1, 3, size, size)
    axes = {'input': {0: 'batch', 2: 'height', 3: 'width'}, 'output': {0: 'batch', 2: 'height_out', 3: 'width_out'}} if dynamic else None
    torch.onnx.export(module, x, path, opset_version=17, input_names=['input'], output_names=['output'],
                      dynamic_axes=axes, do_constant_folding=True)
    onnx.checker.check_model(onnx.load(path), full_check=True)
    diff = ort_parity(path, module, (1, 3, size, size))
    if diff > TOLERANCE:
        raise SystemExit(f'{path}: onnxruntime differs from PyTorch by {diff:.2e} (> {TOLERANCE})')
    return diff


def update_manifest(models_dir, entries):
    path = os.path.join(models_dir, 'manifest.json')
    with open(path) as f:
        manifest = json.load(f)
    by_id = {m['id']: m for m in manifest['models']}
    for e in entries:
        old = by_id.get(e['id'], {})
        if 'evaluation' in old:
            e['evaluation'] = old['evaluation']  # kept until npm run eval rewrites it
        by_id[e['id']] = e
    manifest['models'] = sorted(by_id.values(), key=lambda m: (m['task'] != 'transform', m['id']))
    with open(path, 'w') as f:
        json.dump(manifest, f, indent=2)
        f.write('\n')


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument('kind', choices=['cyclegan', 'sr'])
    p.add_argument('run', help='training run folder (holds lean.pt)')
    p.add_argument('--models', default=os.path.join(ROOT, 'models'))
    p.add_argument('--version', default='v1')
    a = p.parse_args(argv)
    lean = torch.load(os.path.join(a.run, 'lean.pt'), map_location='cpu')
    meta = lean['meta']
    today = datetime.date.today().isoformat()
    entries = []
    if a.kind == 'cyclegan':
        dom_a, dom_b = meta['domains']
        for key, src, dst in (('G_AB', dom_a, dom_b), ('G_BA', dom_b, dom_a)):
            g = ResnetGenerator(meta['ngf'], meta['blocks'], meta['upsample'])
            load_lean(g, lean['nets'][key])
            direction = f'{src}2{dst}'
            file = f'cyclegan-{direction}-{a.version}.onnx'
            path = os.path.join(a.models, file)
            diff = export(g, path, meta['size'])
            entries.append(dict(
                id=f'cyclegan-{direction}-{a.version}', task='transform', direction=direction, source=src, target=dst,
                label=f'{src.capitalize()} \u2192 {dst.capitalize()}', file=file, sha256=sha256(path), bytes=os.path.getsize(path),
                input=dict(name='input', layout='NCHW', channels='RGB', size=meta['size'], range=[-1, 1]),
                output=dict(name='output', layout='NCHW', channels='RGB', size=meta['size'], range=[-1, 1]),
                template=meta['template'],
                architecture=dict(kind='CycleGAN ResNet generator', ngf=meta['ngf'], blocks=meta['blocks'], upsample=meta['upsample'],
                                  norm='instance', padding='reflect', discriminator=f'70x70 PatchGAN, ndf {meta["ndf"]}'),
                parameters=count_params(g), opset=17, onnxruntime_max_abs_diff=float(f'{diff:.3g}'),
                training=dict(data='UTKFace, adults (age >= 18), colour photos, training split',
                              domains=meta['domains'], train_counts=meta['train_counts'], images_seen=meta['images_seen'],
                              iterations=meta['iterations'], batch=meta['batch'], resolution=meta['size'],
                              losses=f'LSGAN + cycle L1 x10 + identity ({meta["identity_loss"]}) x5',
                              history=meta.get('history'), seed=meta['seed'], exported=today),
                licence=LICENCE))
    else:
        net = SRResNet(meta['nf'], meta['blocks'])
        load_lean(net, lean['net'])
        file = f'srresnet-x4-{a.version}.onnx'
        path = os.path.join(a.models, file)
        diff = export(net, path, 32)
        entries.append(dict(
            id=f'srresnet-x4-{a.version}', task='upscale', scale=4, file=file, sha256=sha256(path), bytes=os.path.getsize(path),
            input=dict(name='input', layout='NCHW', channels='RGB', size=128, range=[-1, 1]),
            output=dict(name='output', layout='NCHW', channels='RGB', size=512, range=[-1, 1]),
            template=meta['template'],
            architecture=dict(kind='SRResNet', nf=meta['nf'], blocks=meta['blocks'], upsample='2 x pixel shuffle x2'),
            parameters=count_params(net), opset=17, onnxruntime_max_abs_diff=float(f'{diff:.3g}'),
            training=dict(data='UTKFace sharp colour faces (Laplacian variance >= 150), training split, HR patches '
                               f'{meta["patch"]}px, LR by bicubic x1/4', train_count=meta['train_count'],
                          images_seen=meta['images_seen'], iterations=meta['iterations'], batch=meta['batch'],
                          losses='L1', seed=meta['seed'], exported=today),
            licence=LICENCE))
    update_manifest(a.models, entries)
    for e in entries:
        print(f'{e["file"]}: {e["parameters"]} parameters, onnxruntime max abs diff {e["onnxruntime_max_abs_diff"]}')


if __name__ == '__main__':
    main()
