"""Shared training utilities: device, seeding, logging, plots, lean checkpoints."""
import csv
import os
import random
import time

import numpy as np
import torch


def setup(seed, threads):
    """Seed everything; pick CUDA when present. Debian's torch starts with one thread."""
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)
    if threads:
        torch.set_num_threads(threads)
    return torch.device('cuda' if torch.cuda.is_available() else 'cpu')


class LossLog:
    """Appends rows to <out>/losses.csv (resumable) and plots them to <out>/losses.png."""

    def __init__(self, out_dir, fields):
        self.path = os.path.join(out_dir, 'losses.csv')
        self.fields = ['iter', 'seconds'] + list(fields)
        if not os.path.exists(self.path):
            with open(self.path, 'w', newline='') as f:
                csv.writer(f).writerow(self.fields)

    def write(self, it, seconds, values):
        with open(self.path, 'a', newline='') as f:
            csv.writer(f).writerow([it, f'{seconds:.1f}'] + [f'{values[k]:.5f}' for k in self.fields[2:]])

    def plot(self, png_path, title):
        import matplotlib
        matplotlib.use('Agg')
        import matplotlib.pyplot as plt
        with open(self.path) as f:
            rows = list(csv.DictReader(f))
        if len(rows) < 2:
            return
        its = np.array([float(r['iter']) for r in rows])
        fig, ax = plt.subplots(figsize=(9, 5))
        for k in self.fields[2:]:
            v = np.array([float(r[k]) for r in rows])
            w = max(1, len(v) // 50)
            sm = np.convolve(v, np.ones(w) / w, mode='valid')
            ax.plot(its[w - 1:], sm, label=k)
        ax.set_xlabel('iteration')
        ax.set_yscale('log')
        ax.set_title(title)
        ax.legend(fontsize=8, ncol=2)
        ax.grid(alpha=0.3)
        fig.tight_layout()
        fig.savefig(png_path, dpi=90)
        plt.close(fig)


class Timer:
    def __init__(self, elapsed=0.0):
        self.start = time.time() - elapsed

    def elapsed(self):
        return time.time() - self.start


def lean_state(module):
    """fp16 weights only: small enough to commit and resume from."""
    return {k: (v.half() if v.is_floating_point() else v) for k, v in module.state_dict().items()}


def load_lean(module, state):
    module.load_state_dict({k: v.float() if v.is_floating_point() else v for k, v in state.items()})


def sha256_file(path):
    import hashlib
    h = hashlib.sha256()
    with open(path, 'rb') as f:
        for chunk in iter(lambda: f.read(1 << 20), b''):
            h.update(chunk)
    return h.hexdigest()


def generator_state_from_onnx(path):
    """A generator's weights read back from its exported ONNX file (training/export_onnx.py keeps the
    PyTorch parameter names; float16-stored weights carry a '__fp16' suffix)."""
    import onnx
    from onnx import numpy_helper
    out = {}
    for init in onnx.load(path).graph.initializer:
        name = init.name[:-len('__fp16')] if init.name.endswith('__fp16') else init.name
        if name.startswith('g.'):  # exported through a wrapper (attention generators: export_onnx.AttentionExport)
            name = name[2:]
        out[name] = torch.from_numpy(numpy_helper.to_array(init).copy())
    return out


def read_lean(path, root):
    """A lean checkpoint (run folder or .pt). Slim checkpoints (training/slim_checkpoint.py) hold only
    the discriminators and name the shipped ONNX files holding the generators, with their sha256."""
    lean = torch.load(path if os.path.isfile(path) else os.path.join(path, 'lean.pt'), map_location='cpu')
    for key, ref in (lean.get('generators') or {}).items():
        if key in lean['nets']:
            continue
        file = os.path.join(root, ref['file'])
        if not os.path.exists(file):
            raise FileNotFoundError(f'{path} takes {key} from {ref["file"]}, which is missing: restore models/ from the repository.')
        if sha256_file(file) != ref['sha256']:
            raise ValueError(f'{path} takes {key} from {ref["file"]}, but that file is not the one these discriminators were '
                             'trained with (sha256 differs): use the checkpoint exported with it.')
        lean['nets'][key] = generator_state_from_onnx(file)
    return lean
