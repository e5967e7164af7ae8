"""TF.js weight files: a weights manifest's groups (paths + weights with name, shape, dtype and optional
quantization) read into numpy arrays. Used by tfjs_to_onnx.py (the detector's graph model) and by
facedescriptor.py (face-api's dlib ResNet)."""
import os

import numpy as np

DTYPES = {'float32': np.float32, 'int32': np.int32}
QDTYPES = {'float16': np.float16, 'uint8': np.uint8, 'uint16': np.uint16}


def read_weight_groups(groups, weight_dir, error=ValueError):
    """name -> numpy array for every weight of the groups: float16 quantization widened, uint8 / uint16 affine
    quantization dequantised (min + scale * q). Anything else raises `error`."""
    out = {}
    for group in groups:
        data = b''
        for p in group['paths']:
            with open(os.path.join(weight_dir, p), 'rb') as f:
                data += f.read()
        off = 0
        for w in group['weights']:
            shape = [int(s) for s in w['shape']]
            count = int(np.prod(shape)) if shape else 1
            if w['dtype'] not in DTYPES:
                raise error(f"weight {w['name']}: dtype {w['dtype']} is not handled")
            q = w.get('quantization')
            if q:
                if q['dtype'] not in QDTYPES:
                    raise error(f"weight {w['name']}: quantization {q['dtype']} is not handled")
                dt = np.dtype(QDTYPES[q['dtype']])
                raw = np.frombuffer(data, dt, count, off)
                arr = raw.astype(DTYPES[w['dtype']]) if q['dtype'] == 'float16' else \
                    (q['min'] + q['scale'] * raw.astype(np.float64)).astype(DTYPES[w['dtype']])
            else:
                dt = np.dtype(DTYPES[w['dtype']])
                arr = np.frombuffer(data, dt, count, off).copy()
            off += count * dt.itemsize
            out[w['name']] = arr.reshape(shape)
        if off != len(data):
            raise error(f'weight shards hold {len(data)} bytes, the manifest describes {off}')
    return out
