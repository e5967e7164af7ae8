#!/usr/bin/python3
"""Export trained nets to ONNX, check them, and describe them in models/manifest.json.

  /usr/bin/python3 training/export_onnx.py cyclegan training/runs/mf128 [--models models]
  /usr/bin/python3 training/export_onnx.py sr training/runs/sr [--models models]
  /usr/bin/python3 training/export_onnx.py transform training/runs/md --version v3 [--directions ...]

`transform` exports one conditional generator (train_transform.py) as ONE file with two inputs,
the image and the five-number condition, and two outputs, the image and (with attention) the
mask A; each direction it learned becomes a manifest entry naming that file and its condition.

Each exported file is checked with onnx.checker and run by onnxruntime-node (scripts/ort-run.js)
on a random input; the export fails if any output differs from PyTorch by more than 1e-4.

Weights are stored as float16 when that is lossless (the lean checkpoints the exporter reads hold
float16 weights, so it always is for them), with one Cast to float32 per weight that onnxruntime
folds when it loads the model: half the file, the same numbers, float32 arithmetic.
"""
import argparse
import datetime
import json
import os
import subprocess
import sys
import tempfile

import numpy as np
import onnx
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from faceshift_train.common import load_lean, sha256_file as sha256  # noqa: E402
from faceshift_train.nets import AttentionGenerator, ConditionalGenerator, ResnetGenerator, SRResNet, count_params  # noqa: E402
from faceshift_train.domains import ATTRIBUTE  # noqa: E402
from faceshift_train.tasks import DIRECTIONS, LABELS, N_COND, condition  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
LICENCE = ('Non-commercial use only: trained on UTKFace, which is "available for non-commercial research '
           'purposes only". See models/MODEL_CARD.md.')
TOLERANCE = 1e-4

# What each domain pair changes: ATTRIBUTE (faceshift_train/domains.py, from training/domains.json).
# Colour matching on paste-back (core/color.ts, Reinhard in Lab) pulls the new face's colours to the
# old face's: right for gender, where skin tone should stay, wrong for race, where the skin tone is
# part of the change.


def store_weights_fp16(path):
    """Rewrite float32 initializers that float16 holds exactly as float16 + a Cast node; returns (kept, converted)."""
    from onnx import TensorProto, helper, numpy_helper
    model = onnx.load(path)
    g = model.graph
    casts, keep, converted = [], [], 0
    for init in g.initializer:
        arr = numpy_helper.to_array(init) if init.data_type == TensorProto.FLOAT else None
        if arr is None or arr.size < 16 or not np.array_equal(arr.astype(np.float16).astype(np.float32), arr):
            keep.append(init)
            continue
        half = numpy_helper.from_array(arr.astype(np.float16), init.name + '__fp16')
        keep.append(half)
        casts.append(helper.make_node('Cast', [half.name], [init.name], to=TensorProto.FLOAT, name=init.name + '__cast'))
        converted += 1
    del g.initializer[:]
    g.initializer.extend(keep)
    nodes = casts + list(g.node)
    del g.node[:]
    g.node.extend(nodes)
    onnx.checker.check_model(model, full_check=True)
    onnx.save(model, path)
    return len(keep) - converted, converted


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


class ConditionalExport(torch.nn.Module):
    """The conditional generator with ONNX-friendly outputs: (image) or (image, attention)."""

    def __init__(self, g):
        super().__init__()
        self.g = g

    def forward(self, x, c):
        y, a = self.g(x, c)
        return (y, a) if a is not None else y


def conditional_parity(onnx_path, module, size, conds, seed=0):
    """Max |onnxruntime-node - PyTorch| over every output, for random images under each condition."""
    g = torch.Generator().manual_seed(seed)
    n = len(conds)
    x = torch.rand((n, 3, size, size), generator=g) * 2 - 1
    c = torch.tensor(conds, dtype=torch.float32)
    with torch.no_grad():
        ref = module(x, c)
    ref = [r.numpy() for r in (ref if isinstance(ref, tuple) else (ref,))]
    with tempfile.TemporaryDirectory() as d:
        xi, ci, yo = os.path.join(d, 'in.f32'), os.path.join(d, 'c.f32'), os.path.join(d, 'out.f32')
        x.numpy().astype(np.float32).tofile(xi)
        c.numpy().astype(np.float32).tofile(ci)
        subprocess.run(['node', os.path.join(ROOT, 'scripts', 'ort-run.js'), onnx_path, xi, f'{n},3,{size},{size}', yo,
                        f'condition={ci}:{n},{N_COND}'], check=True, capture_output=True)
        outs = [np.fromfile(yo, dtype=np.float32).reshape(ref[0].shape)]
        if len(ref) > 1:
            outs.append(np.fromfile(yo + '.attention', dtype=np.float32).reshape(ref[1].shape))
    return max(float(np.abs(o - r).max()) for o, r in zip(outs, ref))


def export_conditional(g, path, size, conds, fp16_weights=True):
    m = ConditionalExport(g).eval()
    x, c = torch.zeros(1, 3, size, size), torch.zeros(1, N_COND)
    outputs = ['output', 'attention'] if g.attention else ['output']
    axes = {'input': {0: 'batch', 2: 'height', 3: 'width'}, 'condition': {0: 'batch'}}
    axes.update({o: {0: 'batch', 2: 'height', 3: 'width'} for o in outputs})
    torch.onnx.export(m, (x, c), path, opset_version=17, input_names=['input', 'condition'], output_names=outputs,
                      dynamic_axes=axes, do_constant_folding=True)
    onnx.checker.check_model(onnx.load(path), full_check=True)
    if fp16_weights:
        store_weights_fp16(path)
    diff = conditional_parity(path, m, size, conds)
    if diff > TOLERANCE:
        raise SystemExit(f'{path}: onnxruntime differs from PyTorch by {diff:.2e} (> {TOLERANCE})')
    return diff


class AttentionExport(torch.nn.Module):
    """An AttentionGenerator with both outputs: (image, attention)."""

    def __init__(self, g):
        super().__init__()
        self.g = g

    def forward(self, x):
        return self.g.forward_with_attention(x)


def export_attention(g, path, size, fp16_weights=True):
    """Export an AttentionGenerator with outputs `output` and `attention`; parity checked on both."""
    m = AttentionExport(g).eval()
    axes = {n: {0: 'batch', 2: 'height', 3: 'width'} for n in ('input', 'output', 'attention')}
    torch.onnx.export(m, torch.zeros(1, 3, size, size), path, opset_version=17, input_names=['input'],
                      output_names=['output', 'attention'], dynamic_axes=axes, do_constant_folding=True)
    onnx.checker.check_model(onnx.load(path), full_check=True)
    if fp16_weights:
        store_weights_fp16(path)
    gen = torch.Generator().manual_seed(0)
    x = torch.rand((1, 3, size, size), generator=gen) * 2 - 1
    with torch.no_grad():
        ref = [r.numpy() for r in m(x)]
    with tempfile.TemporaryDirectory() as d:
        xi, yo = os.path.join(d, 'in.f32'), os.path.join(d, 'out.f32')
        x.numpy().astype(np.float32).tofile(xi)
        subprocess.run(['node', os.path.join(ROOT, 'scripts', 'ort-run.js'), path, xi, f'1,3,{size},{size}', yo], check=True, capture_output=True)
        outs = [np.fromfile(yo, dtype=np.float32).reshape(ref[0].shape), np.fromfile(yo + '.attention', dtype=np.float32).reshape(ref[1].shape)]
    diff = max(float(np.abs(o - r).max()) for o, r in zip(outs, ref))
    if diff > TOLERANCE:
        raise SystemExit(f'{path}: onnxruntime differs from PyTorch by {diff:.2e} (> {TOLERANCE})')
    return diff


def export(module, path, size, dynamic=True, fp16_weights=True):
    module.eval()
    x = torch.zeros(1, 3, size, size)
    axes = {'input': {0: 'batch', 2: 'height', 3: 'width'}, 'output': {0: 'batch', 2: 'height_out', 3: 'width_out'}} if dynamic else None
    torch.onnx.export(module, x, path, opset_version=17, input_names=['input'], output_names=['output'],
                      dynamic_axes=axes, do_constant_folding=True)
    onnx.checker.check_model(onnx.load(path), full_check=True)
    if fp16_weights:
        store_weights_fp16(path)
    diff = ort_parity(path, module, (1, 3, size, size))
    if diff > TOLERANCE:
        raise SystemExit(f'{path}: onnxruntime differs from PyTorch by {diff:.2e} (> {TOLERANCE})')
    return diff


def display_order(m):
    """The manifest's order is the hosts' menu order: transforms first, pair by pair (gender, then race),
    each pair's first-named domain as the source first (male2female, female2male, white2black, ...)."""
    if m['task'] != 'transform':
        return (1, 0, 0, 0, m['id'])
    rank = {d: i for i, d in enumerate(ATTRIBUTE)}  # unknown domains go last
    src, dst = rank.get(m['source'], 99), rank.get(m['target'], 99)
    return (0, min(src, dst), max(src, dst), src, m['id'])


def default_color_policy(attribute):
    """Paste-back's colour policy (src/core/color.ts) before one is measured (scripts/eval-composite.ts --choose):
    race changes skin tone, which a colour match would undo."""
    return 'none' if attribute == 'race' else 'reinhard'


def update_manifest(models_dir, entries):
    path = os.path.join(models_dir, 'manifest.json')
    with open(path) as f:
        manifest = json.load(f)
    by_id = {m['id']: m for m in manifest['models']}
    for e in entries:
        # a new model for a direction supersedes the old one (the hosts offer one model per direction)
        for old_id, old in list(by_id.items()):
            if old_id != e['id'] and old['task'] == e['task'] and old.get('direction') == e.get('direction'):
                if 'colorPolicy' in old:
                    e['colorPolicy'] = old['colorPolicy']  # the direction's measured policy, until it is measured again
                del by_id[old_id]
                still_used = any(m['file'] == old['file'] for m in list(by_id.values()) + entries)
                if not still_used and os.path.exists(os.path.join(models_dir, old['file'])):
                    os.remove(os.path.join(models_dir, old['file']))
                print(f'{e["id"]} supersedes {old_id} (removed from the manifest and {models_dir})')
        old = by_id.get(e['id'], {})
        if 'evaluation' in old:
            e['evaluation'] = old['evaluation']  # kept until npm run eval rewrites it
        by_id[e['id']] = e
    manifest['models'] = sorted(by_id.values(), key=display_order)
    with open(path, 'w') as f:
        json.dump(manifest, f, indent=2)
        f.write('\n')


def transform_entries(a, lean, today):
    meta = lean['meta']
    g = ConditionalGenerator(meta['ngf'], meta['blocks'], meta['upsample'], meta['n_cond'], meta['attention'])
    load_lean(g, lean['nets']['G'])
    directions = a.directions or meta['directions']
    for d in directions:
        if d not in meta['directions']:
            raise SystemExit(f'{a.run} did not learn {d} (it learned {", ".join(meta["directions"])})')
    file = f'{a.name or "transform-" + a.version}.onnx'
    path = os.path.join(a.models, file)
    conds = [condition(DIRECTIONS[d][2]) for d in directions]
    diff = export_conditional(g, path, meta['size'], conds, fp16_weights=not a.fp32_weights)
    L = meta['losses']
    losses = (f'LSGAN (one PatchGAN for every domain) + domain classification x{L["cls"]} (our classifier, frozen) '
              f'+ reconstruction L1 x{L["cyc"]} + identity L1 x{L["id"]}'
              + (f' + attention mask mean x{L["mask"]} and smoothness x{L["tv"]}' if meta['attention'] else ''))
    pack = meta.get('pack') or {}
    data = 'UTKFace, adults (age >= 18), colour photos, training split'
    if pack.get('encoding') == 'webp':
        data += f'; read a WebP copy (quality {pack.get("quality")}) of the aligned crops'
    entries = []
    for d in directions:
        group, src, dst = DIRECTIONS[d]
        entries.append(dict(
            id=f'transform-{d}-{a.version}', task='transform', direction=d, source=src, target=dst,
            label=f'{src.capitalize()} \u2192 {dst.capitalize()}', attribute=group, colorPolicy=default_color_policy(group),
            file=file, sha256=sha256(path), bytes=os.path.getsize(path),
            input=dict(name='input', layout='NCHW', channels='RGB', size=meta['size'], range=[-1, 1]),
            condition=dict(name='condition', labels=LABELS, values=condition(dst)),
            output=dict(name='output', layout='NCHW', channels='RGB', size=meta['size'], range=[-1, 1]),
            **({'attention': dict(name='attention', layout='NCHW', size=meta['size'], range=[0, 1],
                                  meaning='where the net changed the crop: output = A * colour + (1 - A) * input')}
               if meta['attention'] else {}),
            template=meta['template'],
            architecture=dict(kind='conditional ResNet generator (StarGAN-style label input)'
                              + (' with GANimation attention' if meta['attention'] else ''),
                              ngf=meta['ngf'], blocks=meta['blocks'], upsample=meta['upsample'], norm='instance',
                              padding='reflect', discriminator=f'70x70 PatchGAN, ndf {meta["ndf"]}',
                              directions=meta['directions']),
            parameters=count_params(g), opset=17, onnxruntime_max_abs_diff=float(f'{diff:.3g}'),
            weights='float32' if a.fp32_weights else 'float16 (lossless: trained weights kept in float16), cast to float32 on load',
            training=dict(data=data, directions=meta['directions'], train_counts=meta['train_counts'],
                          images_seen=meta['images_seen'], iterations=meta['iterations'], batch=meta['batch'],
                          resolution=meta['size'], losses=losses, classifier=meta.get('classifier'),
                          history=meta.get('history'), seed=meta['seed'], precision=meta.get('precision', 'fp32'),
                          device=meta.get('device', 'cpu'), exported=today),
            licence=LICENCE))
    return entries


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument('kind', choices=['cyclegan', 'sr', 'transform'])
    p.add_argument('run', help='training run folder (holds lean.pt)')
    p.add_argument('--models', default=os.path.join(ROOT, 'models'))
    p.add_argument('--version', default='v1')
    p.add_argument('--fp32-weights', action='store_true', help='store weights as float32 (default: float16 where lossless)')
    p.add_argument('--directions', nargs='+', help='transform: the directions to ship from this model (default: all it learned)')
    p.add_argument('--name', help='transform: file stem (default transform-<version>)')
    a = p.parse_args(argv)
    lean = torch.load(a.run if os.path.isfile(a.run) else os.path.join(a.run, 'lean.pt'), map_location='cpu')
    meta = lean['meta']
    today = datetime.date.today().isoformat()
    entries = []
    if a.kind == 'transform':
        entries = transform_entries(a, lean, today)
    elif a.kind == 'cyclegan':
        dom_a, dom_b = meta['domains']
        for key, src, dst in (('G_AB', dom_a, dom_b), ('G_BA', dom_b, dom_a)):
            attention = bool(meta.get('attention'))
            g = (AttentionGenerator if attention else ResnetGenerator)(meta['ngf'], meta['blocks'], meta['upsample'])
            load_lean(g, lean['nets'][key])
            direction = f'{src}2{dst}'
            file = f'cyclegan-{direction}-{a.version}.onnx'
            path = os.path.join(a.models, file)
            diff = (export_attention if attention else export)(g, path, meta['size'], fp16_weights=not a.fp32_weights)
            L = meta.get('losses') or {}
            losses = f'LSGAN + cycle L1 x{L.get("cyc", 10):g} + identity ({meta["identity_loss"]}) x{L.get("id", 5):g}'
            if L.get('cls'):
                losses += f' + domain classification x{L["cls"]:g} (our attribute classifier, frozen; training split only)'
                if L.get('cls_on_paste'):
                    losses += f', judged on the input plus the change low-passed at {L["cls_on_paste"]:g} px (what the detail paste keeps)'
                    if L.get('paste_keep'):
                        losses += ', with the net\'s own pixels where it changed structure (as the paste)'
            if L.get('blotch'):
                losses += f' + colour blotches in the change x{L["blotch"]:g} (smooth L1 of its band-passed chroma)'
            if L.get('idface'):
                losses += (f' + face identity x{L["idface"]:g} (1 - cosine of the dlib ResNet descriptors of input and output; not a judge'
                           + ('; the probe\'s directions left out)' if L.get('probe') else ')'))
            if L.get('probe'):
                pr = meta.get('probe') or {}
                losses += (f' + {pr.get("attribute", "attribute")} probe x{L["probe"]:g} (a linear probe over the dlib descriptor, training '
                           'split only, on the face as pasted inside the face oval)')
            if attention:
                losses += f' + attention mask mean x{L.get("mask", 0):g} and smoothness x{L.get("tv", 0):g}'
            pack = meta.get('pack') or {}
            data = 'UTKFace, adults (age >= 18), colour photos, training split'
            if pack.get('encoding') == 'webp':
                data += (f'; {"its last phase " if len(meta.get("history") or []) > 1 else ""}read a WebP copy '
                         f'(quality {pack.get("quality")}) of the aligned crops'
                         f'{", races " + "/".join(pack["races"]) if pack.get("races") else ""}')
            entries.append(dict(
                id=f'cyclegan-{direction}-{a.version}', task='transform', direction=direction, source=src, target=dst,
                label=f'{src.capitalize()} \u2192 {dst.capitalize()}', attribute=ATTRIBUTE[src],
                colorPolicy=default_color_policy(ATTRIBUTE[src]), file=file, sha256=sha256(path), bytes=os.path.getsize(path),
                input=dict(name='input', layout='NCHW', channels='RGB', size=meta['size'], range=[-1, 1]),
                output=dict(name='output', layout='NCHW', channels='RGB', size=meta['size'], range=[-1, 1]),
                **({'attention': dict(name='attention', layout='NCHW', size=meta['size'], range=[0, 1],
                                      meaning='where the net changed the crop: output = A * colour + (1 - A) * input')}
                   if attention else {}),
                template=meta['template'],
                architecture=dict(kind='CycleGAN ResNet generator' + (' with GANimation attention' if attention else ''), ngf=meta['ngf'], blocks=meta['blocks'], upsample=meta['upsample'],
                                  norm='instance', padding='reflect', discriminator=f'70x70 PatchGAN, ndf {meta["ndf"]}'),
                parameters=count_params(g), opset=17, onnxruntime_max_abs_diff=float(f'{diff:.3g}'),
                weights='float32' if a.fp32_weights else 'float16 (lossless: trained weights kept in float16), cast to float32 on load',
                training=dict(data=data,
                              domains=meta['domains'], train_counts=meta['train_counts'], images_seen=meta['images_seen'],
                              iterations=meta['iterations'], batch=meta['batch'], resolution=meta['size'],
                              losses=losses, classifier=meta.get('classifier'),
                              **({'probe': meta['probe']} if meta.get('probe') else {}),
                              history=meta.get('history'), seed=meta['seed'], precision=meta.get('precision', 'fp32'),
                              device=meta.get('device', 'cpu'), exported=today),
                licence=LICENCE))
    else:
        net = SRResNet(meta['nf'], meta['blocks'])
        load_lean(net, lean['net'])
        file = f'srresnet-x4-{a.version}.onnx'
        path = os.path.join(a.models, file)
        diff = export(net, path, 32, fp16_weights=not a.fp32_weights)
        entries.append(dict(
            id=f'srresnet-x4-{a.version}', task='upscale', scale=4, file=file, sha256=sha256(path), bytes=os.path.getsize(path),
            input=dict(name='input', layout='NCHW', channels='RGB', size=128, range=[-1, 1]),
            output=dict(name='output', layout='NCHW', channels='RGB', size=512, range=[-1, 1]),
            template=meta['template'],
            architecture=dict(kind='SRResNet', nf=meta['nf'], blocks=meta['blocks'], upsample='2 x pixel shuffle x2'),
            parameters=count_params(net), opset=17, onnxruntime_max_abs_diff=float(f'{diff:.3g}'),
            weights='float32' if a.fp32_weights else 'float16 (lossless: trained weights kept in float16), cast to float32 on load',
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
