"""Small random geometric and photometric jitter, on whole batches (on the batch's device)."""
import torch
import torch.nn.functional as F


def jitter(x, shift=0.04, scale=0.05, photometric=True, generator=None):
    """Random similarity (shift, scale), a mirror for half the batch, brightness/contrast. x in [-1, 1]."""
    n = x.shape[0]
    r = lambda *s: torch.rand(*s, device=x.device, generator=generator)  # noqa: E731
    s = 1 + (r(n) * 2 - 1) * scale
    flip = torch.where(r(n) < 0.5, -1.0, 1.0)
    theta = torch.zeros(n, 2, 3, device=x.device)
    theta[:, 0, 0], theta[:, 1, 1] = s * flip, s
    theta[:, :, 2] = (r(n, 2) * 2 - 1) * shift
    grid = F.affine_grid(theta, list(x.shape), align_corners=False)
    y = F.grid_sample(x.float(), grid, mode='bilinear', padding_mode='reflection', align_corners=False).to(x.dtype)
    if photometric:
        b = ((r(n) * 2 - 1) * 0.1).view(-1, 1, 1, 1)
        c = (1 + (r(n) * 2 - 1) * 0.1).view(-1, 1, 1, 1)
        y = (y * c + b).clamp(-1, 1)
    return y
