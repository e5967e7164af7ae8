#!/usr/bin/python3
"""Make an exported ONNX graph fast on onnxruntime-web's WASM backend, without changing its numbers.

  /usr/bin/python3 training/wasm_graph.py models/cyclegan-male2female-v3.onnx [more.onnx ...] [--out DIR]

Two rewrites, both exact (the same float32 values reach every kernel):
- float16 initializers + Cast to float32 (how export_onnx.py used to store the weights) become
  float32 initializers. onnxruntime folds those Casts when it loads the model in Node and in the
  browser alike, but on the WASM backend the generator's convolutions then ran about twice as slow
  as with the same weights stored as float32 (measured: 440-520 ms against 270-290 ms a run, one
  thread; natively both take ~80 ms). The file doubles (4.0 -> 7.9 MB a generator).
- Constant subgraphs (PyTorch's reflect-pad export computes each Pad's pads from Constant,
  ConstantOfShape, Concat, Reshape, Slice, Transpose and Cast nodes, 16 times over) are evaluated
  here with numpy and stored as initializers, so onnxruntime has less to fold at load (session
  creation on WASM is ~1 s of a cold start in the browser).

Python only needs onnx and numpy. Outputs are checked against the original by the caller
(scripts/wasm-parity.ts runs both with onnxruntime-node on real face crops).
"""
import argparse
import os
import sys

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper


def _attr(node, name, default=None):
    for a in node.attribute:
        if a.name == name:
            return helper.get_attribute_value(a)
    return default


def _slice(x, starts, ends, axes=None, steps=None):
    axes = list(range(len(starts))) if axes is None else [int(a) % x.ndim for a in axes]
    steps = [1] * len(starts) if steps is None else steps
    idx = [slice(None)] * x.ndim
    for s, e, a, st in zip(starts, ends, axes, steps):
        idx[a] = slice(int(s), int(e), int(st))
    return x[tuple(idx)]


def _reshape(x, shape, allowzero=0):
    shape = [int(d) for d in shape]
    if not allowzero:
        shape = [x.shape[i] if d == 0 else d for i, d in enumerate(shape)]
    return x.reshape(shape)


def _np_dtype(to):
    from onnx.mapping import TENSOR_TYPE_TO_NP_TYPE  # onnx 1.12; newer: helper.tensor_dtype_to_np_dtype
    return TENSOR_TYPE_TO_NP_TYPE[to]


# The ops whose constant instances are evaluated here (the ones PyTorch's exporter emits for pads).
EVAL = {
    'Identity': lambda n, x: [x[0]],
    'ConstantOfShape': lambda n, x: [np.full([int(d) for d in x[0]], numpy_helper.to_array(_attr(n, 'value')).reshape(-1)[0]
                                             if _attr(n, 'value') is not None else np.float32(0))],
    'Concat': lambda n, x: [np.concatenate(x, axis=_attr(n, 'axis'))],
    'Reshape': lambda n, x: [_reshape(x[0], x[1], _attr(n, 'allowzero', 0))],
    'Slice': lambda n, x: [_slice(*x)],
    'Transpose': lambda n, x: [np.transpose(x[0], _attr(n, 'perm'))],
    'Cast': lambda n, x: [x[0].astype(_np_dtype(_attr(n, 'to')))],
    'Unsqueeze': lambda n, x: [np.expand_dims(x[0], tuple(int(a) for a in x[1]))],
    'Squeeze': lambda n, x: [np.squeeze(x[0], tuple(int(a) for a in x[1]))],
}


def fold_constants(model):
    """Evaluate every node whose inputs are all constants (initializers or Constant nodes) and whose
    op is in EVAL; store the results as initializers and drop the nodes. Returns (folded, kept)."""
    g = model.graph
    const = {i.name: numpy_helper.to_array(i) for i in g.initializer}
    graph_outputs = {o.name for o in g.output}
    keep, folded = [], 0
    for n in g.node:
        if n.op_type == 'Constant' and _attr(n, 'value') is not None:
            const[n.output[0]] = numpy_helper.to_array(_attr(n, 'value'))
            folded += 1
            continue
        ins = [i for i in n.input]
        if n.op_type in EVAL and all(i == '' or i in const for i in ins) and not (set(n.output) & graph_outputs):
            const_ins = [const[i] if i else None for i in ins]
            while const_ins and const_ins[-1] is None:
                const_ins.pop()
            for name, val in zip(n.output, EVAL[n.op_type](n, const_ins)):
                const[name] = np.asarray(val)
            folded += 1
            continue
        keep.append(n)
    used = {i for n in keep for i in n.input} | graph_outputs
    inits = [numpy_helper.from_array(np.ascontiguousarray(v), k) for k, v in const.items() if k in used]
    del g.node[:]
    g.node.extend(keep)
    del g.initializer[:]
    g.initializer.extend(inits)
    return folded, len(keep)


def float32_weights(model):
    """float16 initializers read through a Cast to float32 become float32 initializers (exact)."""
    g = model.graph
    inits = {i.name: i for i in g.initializer}
    readers = {}
    for n in g.node:
        for i in n.input:
            readers[i] = readers.get(i, 0) + 1
    keep, made = [], []
    for n in g.node:
        src = n.input[0] if n.input else None
        if (n.op_type == 'Cast' and src in inits and inits[src].data_type == TensorProto.FLOAT16
                and _attr(n, 'to') == TensorProto.FLOAT and readers[src] == 1):
            made.append(numpy_helper.from_array(numpy_helper.to_array(inits.pop(src)).astype(np.float32), n.output[0]))
            continue
        keep.append(n)
    del g.node[:]
    g.node.extend(keep)
    del g.initializer[:]
    g.initializer.extend(list(inits.values()) + made)
    return len(made)


def for_wasm(model):
    """Both rewrites, in place; returns a one-line summary."""
    casts = float32_weights(model)
    folded, kept = fold_constants(model)
    onnx.checker.check_model(model, full_check=True)
    return f'{casts} float16 weights stored as float32, {folded} constant nodes folded, {kept} nodes left'


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument('files', nargs='+')
    ap.add_argument('--out', help='write here (same file names) instead of in place')
    a = ap.parse_args()
    for f in a.files:
        model = onnx.load(f)
        summary = for_wasm(model)
        dst = os.path.join(a.out, os.path.basename(f)) if a.out else f
        onnx.save(model, dst)
        print(f'{os.path.basename(f)}: {summary}; {os.path.getsize(f) if a.out else 0} -> {os.path.getsize(dst)} bytes', file=sys.stderr)


if __name__ == '__main__':
    main()
