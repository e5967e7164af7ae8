"""The networks, as in the article (CycleGAN: Zhu et al. 2017; SRResNet: Ledig et al. 2017).

Widths and depths are parameters so the same code trains the article's sizes on a GPU and
slimmer ones on a CPU; the shipped sizes are recorded in models/manifest.json.
"""
import torch
import torch.nn as nn


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
