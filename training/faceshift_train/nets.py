"""The networks, as in the article (CycleGAN: Zhu et al. 2017; SRResNet: Ledig et al. 2017).

Widths and depths are parameters so the same code trains the article's sizes on a GPU and
slimmer ones on a CPU; the shipped sizes are recorded in models/manifest.json.
"""
import torch
import torch.nn as nn
import torch.nn.functional as F


class ResnetBlock(nn.Module):
    """R-k: two reflect-padded 3x3 convs with instance norm, plus the skip."""

    def __init__(self, ch):
        super().__init__()
        self.body = nn.Sequential(
            nn.ReflectionPad2d(1), nn.Conv2d(ch, ch, 3), nn.InstanceNorm2d(ch), nn.ReLU(True),
            nn.ReflectionPad2d(1), nn.Conv2d(ch, ch, 3), nn.InstanceNorm2d(ch))

    def forward(self, x):
        return x + self.body(x)


class ResnetGenerator(nn.Module):
    """c7s1-ngf, d(2ngf), d(4ngf), R(4ngf) x n_blocks, u(2ngf), u(ngf), c7s1-3, tanh.

    upsample='deconv' is the article's fractionally strided conv; 'resize' (nearest x2 then a
    3x3 conv) avoids checkerboard artefacts and is cheaper on a CPU.
    Input and output: NCHW RGB in [-1, 1].
    """

    def __init__(self, ngf=32, n_blocks=9, upsample='deconv'):
        super().__init__()
        self.config = dict(ngf=ngf, n_blocks=n_blocks, upsample=upsample)
        layers = [nn.ReflectionPad2d(3), nn.Conv2d(3, ngf, 7), nn.InstanceNorm2d(ngf), nn.ReLU(True)]
        ch = ngf
        for _ in range(2):
            layers += [nn.Conv2d(ch, ch * 2, 3, stride=2, padding=1), nn.InstanceNorm2d(ch * 2), nn.ReLU(True)]
            ch *= 2
        layers += [ResnetBlock(ch) for _ in range(n_blocks)]
        for _ in range(2):
            if upsample == 'deconv':
                layers += [nn.ConvTranspose2d(ch, ch // 2, 3, stride=2, padding=1, output_padding=1)]
            else:
                layers += [nn.Upsample(scale_factor=2, mode='nearest'), nn.ReflectionPad2d(1), nn.Conv2d(ch, ch // 2, 3)]
            layers += [nn.InstanceNorm2d(ch // 2), nn.ReLU(True)]
            ch //= 2
        layers += [nn.ReflectionPad2d(3), nn.Conv2d(ch, 3, 7), nn.Tanh()]
        self.model = nn.Sequential(*layers)

    def forward(self, x):
        return self.model(x)


class PatchDiscriminator(nn.Module):
    """70x70 PatchGAN: C64-C128-C256-C512 (widths scale with ndf), 4x4 convs, LeakyReLU 0.2,
    instance norm except on the first layer, then a 1-channel conv."""

    def __init__(self, ndf=64):
        super().__init__()
        self.config = dict(ndf=ndf)
        layers = [nn.Conv2d(3, ndf, 4, 2, 1), nn.LeakyReLU(0.2, True)]
        ch = ndf
        for stride in (2, 2, 1):
            layers += [nn.Conv2d(ch, ch * 2, 4, stride, 1), nn.InstanceNorm2d(ch * 2), nn.LeakyReLU(0.2, True)]
            ch *= 2
        layers += [nn.Conv2d(ch, 1, 4, 1, 1)]
        self.model = nn.Sequential(*layers)

    def forward(self, x):
        return self.model(x)


class SRBlock(nn.Module):
    def __init__(self, ch):
        super().__init__()
        self.body = nn.Sequential(nn.Conv2d(ch, ch, 3, padding=1), nn.BatchNorm2d(ch), nn.PReLU(ch),
                                  nn.Conv2d(ch, ch, 3, padding=1), nn.BatchNorm2d(ch))

    def forward(self, x):
        return x + self.body(x)


class SRResNet(nn.Module):
    """SRResNet x4: 9x9 conv + PReLU, n_blocks residual blocks (3x3 conv, BN, PReLU), a 3x3 conv
    with BN and the long skip, two pixel-shuffle x2 stages, a 9x9 conv to RGB.
    Input and output: NCHW RGB in [-1, 1] (the generator's range, so the two chain directly)."""

    def __init__(self, nf=64, n_blocks=16):
        super().__init__()
        self.config = dict(nf=nf, n_blocks=n_blocks)
        self.head = nn.Sequential(nn.Conv2d(3, nf, 9, padding=4), nn.PReLU(nf))
        self.blocks = nn.Sequential(*[SRBlock(nf) for _ in range(n_blocks)])
        self.mid = nn.Sequential(nn.Conv2d(nf, nf, 3, padding=1), nn.BatchNorm2d(nf))
        up = []
        for _ in range(2):
            up += [nn.Conv2d(nf, nf * 4, 3, padding=1), nn.PixelShuffle(2), nn.PReLU(nf)]
        self.up = nn.Sequential(*up)
        self.tail = nn.Conv2d(nf, 3, 9, padding=4)

    def forward(self, x):
        h = self.head(x)
        h = h + self.mid(self.blocks(h))
        return self.tail(self.up(h))


def count_params(m):
    return sum(p.numel() for p in m.parameters())


class ConditionalGenerator(nn.Module):
    """One generator for every direction (StarGAN, Choi et al. 2018): the target label, a vector of
    n_cond values (training/faceshift_train/tasks.py CONDITION), is tiled over the image and
    concatenated to it. The trunk is ResnetGenerator's (c7s1, two downsamplings, residual blocks,
    two upsamplings).

    attention=True (GANimation, Pumarola et al. 2018): the last conv gives a colour image C (tanh)
    and a mask A (sigmoid), and the output is A * C + (1 - A) * x: the net says where it changes
    the face, and leaves the rest of the crop exactly as it was. forward() returns (output, A);
    without attention A is None.
    """

    def __init__(self, ngf=32, n_blocks=9, upsample='resize', n_cond=5, attention=True):
        super().__init__()
        self.config = dict(ngf=ngf, n_blocks=n_blocks, upsample=upsample, n_cond=n_cond, attention=attention)
        self.n_cond, self.attention = n_cond, attention
        trunk = ResnetGenerator(ngf, n_blocks, upsample).model
        layers = list(trunk)
        # first conv takes the image and the tiled label; the last conv gives colour (+ mask)
        layers[1] = nn.Conv2d(3 + n_cond, ngf, 7)
        layers[-2] = nn.Conv2d(ngf, 4 if attention else 3, 7)
        first_block = next(i for i, m in enumerate(layers) if isinstance(m, ResnetBlock))
        self.head = nn.Sequential(*layers[:first_block])
        self.body = nn.Sequential(*layers[first_block:-1])  # no tanh: applied per channel below
        # A label map that is constant over the image is removed by the instance norm that follows
        # a reflect-padded conv, so the label also scales and shifts the bottleneck features (FiLM).
        ch = ngf * 4
        self.film = nn.Linear(n_cond, 2 * ch)

    def forward(self, x, c):
        c = c.to(x.dtype)
        cmap = c.view(c.shape[0], self.n_cond, 1, 1).expand(-1, -1, x.shape[2], x.shape[3])
        h = self.head(torch.cat([x, cmap], 1))
        gamma, beta = self.film(c).chunk(2, 1)
        h = h * (1 + gamma[:, :, None, None]) + beta[:, :, None, None]
        h = self.body(h)
        if not self.attention:
            return torch.tanh(h), None
        colour, a = torch.tanh(h[:, :3]), torch.sigmoid(h[:, 3:4])
        return a * colour + (1 - a) * x, a


# The face oval of the alignment template (utkface-v1) in crop units: brows-to-chin and cheek to
# cheek on the mean training face (eyes at y 0.30, mouth at 0.72, chin at ~0.93); the paste-back's
# face-mesh mask covers about this region of the aligned crop.
FACE_OVAL = dict(cx=0.5, cy=0.52, rx=0.37, ry=0.44, feather=0.04)


def oval_mask(size, cx, cy, rx, ry, feather):
    """[1, 1, size, size] soft ellipse: 1 inside, 0 outside, a linear ramp `feather` (crop units) wide."""
    t = (torch.arange(size, dtype=torch.float32) + 0.5) / size
    y, x = torch.meshgrid(t, t, indexing='ij')
    r = torch.sqrt(((x - cx) / rx) ** 2 + ((y - cy) / ry) ** 2)  # 1 on the ellipse
    d = (1 - r) * min(rx, ry)  # approximate distance inside the edge, crop units
    return (0.5 + d / feather).clamp(0, 1).view(1, 1, size, size)


class AttributeClassifier(nn.Module):
    """Our own attribute classifier (not one of the evaluation judges): a small CNN over the aligned
    128-px crop with two heads, gender (UTKFace 0 male, 1 female) and race (UTKFace's five labels:
    white, black, asian, indian, other). Trained on the training split only
    (training/train_classifier.py); frozen, it gives the generator its domain-classification loss."""

    def __init__(self, width=32, input_size=128, face_mask=None):
        super().__init__()
        self.config = dict(width=width, input_size=input_size, face_mask=face_mask)
        self.input_size = input_size
        # face_mask (an ellipse in template units, see FACE_OVAL): the classifier sees only the face
        # oval, grey outside, i.e. what paste-back keeps of a generator's output (hair and background
        # stay the photo's, so a loss that can be met there is met where the user never sees it)
        self.register_buffer('mask', oval_mask(input_size, **face_mask) if face_mask else None, persistent=False)
        layers, ch = [], 3
        for out in (width, width * 2, width * 4, width * 8, width * 8):
            layers += [nn.Conv2d(ch, out, 3, 1, 1), nn.BatchNorm2d(out), nn.ReLU(True),
                       nn.Conv2d(out, out, 3, 2, 1), nn.BatchNorm2d(out), nn.ReLU(True)]
            ch = out
        self.features = nn.Sequential(*layers)
        self.drop = nn.Dropout(0.3)
        self.gender = nn.Linear(ch, 2)
        self.race = nn.Linear(ch, 5)

    def forward(self, x):
        if x.shape[-1] != self.input_size:  # the crop is area-downscaled to the classifier's size (cheaper on a CPU)
            x = F.interpolate(x, size=(self.input_size, self.input_size), mode='area')
        if self.mask is not None:
            x = x * self.mask
        h = self.drop(self.features(x).mean((2, 3)))
        return self.gender(h), self.race(h)


class AttentionGenerator(ResnetGenerator):
    """ResnetGenerator with a GANimation attention output: the last conv gives colour C (tanh) and
    a mask A (sigmoid), output = A * C + (1 - A) * x. Its parameters keep ResnetGenerator's names
    (only the last conv has a fourth output channel), so a trained plain generator can be extended
    (`from_plain`). forward() returns the output and keeps A in `self.attention` for the losses;
    `forward_with_attention` returns both (for export)."""

    def __init__(self, ngf=32, n_blocks=9, upsample='deconv'):
        super().__init__(ngf, n_blocks, upsample)
        self.config['attention'] = True
        last = self.model[-2]
        self.model[-2] = nn.Conv2d(last.in_channels, 4, last.kernel_size)
        self.attention = None

    def forward_with_attention(self, x):
        h = self.model[:-1](x)
        colour, a = torch.tanh(h[:, :3]), torch.sigmoid(h[:, 3:4])
        return a * colour + (1 - a) * x, a

    def forward(self, x):
        y, self.attention = self.forward_with_attention(x)
        return y

    def load_plain(self, state, open_bias=3.0):
        """Take a plain generator's weights; the new attention channel starts at A = sigmoid(open_bias)
        (about 0.95: the output starts as the plain generator's), with zero weights."""
        key = f'model.{len(self.model) - 2}'
        state = dict(state)
        w, b = state[f'{key}.weight'], state[f'{key}.bias']
        if w.shape[0] == 3:
            state[f'{key}.weight'] = torch.cat([w, torch.zeros_like(w[:1])])
            state[f'{key}.bias'] = torch.cat([b, torch.full_like(b[:1], open_bias)])
        self.load_state_dict({k: v.float() if v.is_floating_point() else v for k, v in state.items()})
