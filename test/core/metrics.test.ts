import { createRGBA, RGBAImage } from '../../src/core/image';
import {
  psnr, ssim, luma, gaussianKernel, cubicWeight, resizeBicubic, cosineSimilarity, mean, quantile, wilsonInterval, meanITA, seamStep,
} from '../../src/core/metrics';

/** The deterministic test pattern the reference values were computed on (NumPy/SciPy/PyTorch). */
function pattern(w: number, h: number, k: number): RGBAImage {
  const img = createRGBA(w, h);
  for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) {
    const i = (y * w + x) * 4;
    img.data[i] = (x * 37 + y * 11 + k * 5) % 256; img.data[i + 1] = (x * x + 3 * y + k) % 256; img.data[i + 2] = (x * y * 7 + k * 13) % 256;
    img.data[i + 3] = 255;
  }
  return img;
}

/** `pattern` plus a fixed small perturbation. */
function perturbed(a: RGBAImage): RGBAImage {
  const b = createRGBA(a.width, a.height);
  b.data.set(a.data);
  for (let y = 0; y < a.height; y++) for (let x = 0; x < a.width; x++) {
    const i = (y * a.width + x) * 4;
    b.data[i] = a.data[i] + ((x * 7 + y * 3) % 11) - 5;
    b.data[i + 1] = a.data[i + 1] + ((x * 5 + y * 9) % 13) - 6;
    b.data[i + 2] = a.data[i + 2] + ((x + y) % 7) - 3;
  }
  return b;
}

describe('psnr', () => {
  test('matches a NumPy reference and is infinite for identical images', () => {
    const a = pattern(16, 16, 0);
    expect(psnr(a, perturbed(a))).toBeCloseTo(38.540265404255976, 9);
    expect(psnr(a, a)).toBe(Infinity);
  });

  test('a uniform error of 1 level gives 48.13 dB; shave ignores the border', () => {
    const a = createRGBA(8, 8), b = createRGBA(8, 8);
    for (let i = 0; i < a.data.length; i++) { a.data[i] = 100; b.data[i] = 101; }
    expect(psnr(a, b)).toBeCloseTo(20 * Math.log10(255), 9);
    b.data.fill(100);
    b.data[0] = 0; // a corner pixel only
    expect(psnr(a, b, 1)).toBe(Infinity);
    expect(() => psnr(a, b, 4)).toThrow(/shave/);
    expect(() => psnr(a, createRGBA(4, 4))).toThrow(/differ in size/);
  });
});

describe('ssim', () => {
  test('matches the Wang et al. definition computed with SciPy (Gaussian 11x11, sigma 1.5, valid)', () => {
    const a = pattern(16, 16, 0);
    expect(ssim(a, perturbed(a))).toBeCloseTo(0.9981126374239664, 9);
  });

  test('is 1 for identical images, symmetric, and falls with noise', () => {
    const a = pattern(24, 24, 2);
    const b = perturbed(a);
    expect(ssim(a, a)).toBeCloseTo(1, 12);
    expect(ssim(a, b)).toBeCloseTo(ssim(b, a), 12);
    const c = pattern(24, 24, 9); // a different image altogether
    expect(ssim(a, c)).toBeLessThan(ssim(a, b));
    expect(() => ssim(createRGBA(8, 8), createRGBA(8, 8))).toThrow(/smaller than the 11x11 window/);
  });

  test('luma uses BT.601 studio range', () => {
    const img = createRGBA(2, 1);
    img.data.set([0, 0, 0, 255, 255, 255, 255, 255]);
    const y = luma(img);
    expect(y[0]).toBeCloseTo(16, 9);
    expect(y[1]).toBeCloseTo(235, 2);
  });

  test('gaussian kernel is normalised and symmetric', () => {
    const k = gaussianKernel(11, 1.5);
    expect(Array.from(k).reduce((s, v) => s + v, 0)).toBeCloseTo(1, 12);
    expect(k[0]).toBeCloseTo(k[10], 15);
    expect(() => gaussianKernel(4, 1)).toThrow(/odd/);
  });
});

describe('resizeBicubic', () => {
  // PyTorch F.interpolate(mode='bicubic', align_corners=False), red channel, rounded.
  const torchRef: Record<string, number[]> = {
    '10x8': [10, 21, 39, 62, 77, 99, 114, 137, 155, 166, 13, 24, 42, 65, 80, 102, 117, 140, 158, 169, 18, 29, 47, 70, 85, 107, 122, 146, 163, 174, 25, 36, 54, 77, 92, 114, 129, 153, 170, 181, 30, 41, 58, 82, 97, 119, 134, 157, 175, 186, 37, 48, 65, 89, 104, 126, 141, 164, 182, 193, 42, 53, 71, 94, 109, 131, 146, 169, 187, 198, 45, 56, 74, 97, 112, 134, 149, 172, 190, 201],
    '7x3': [13, 34, 66, 90, 115, 147, 167, 29, 49, 81, 106, 130, 162, 182, 44, 64, 96, 121, 145, 177, 198],
  };
  test.each(Object.keys(torchRef))('matches PyTorch at %s', (size) => {
    const [w, h] = size.split('x').map(Number);
    const out = resizeBicubic(pattern(5, 4, 3), w, h);
    const red = Array.from({ length: w * h }, (_, i) => out.data[i * 4]);
    red.forEach((v, i) => expect(Math.abs(v - torchRef[size][i])).toBeLessThanOrEqual(1));
  });

  test('keeps a constant image constant and its size', () => {
    const a = createRGBA(6, 5);
    a.data.fill(77);
    const b = resizeBicubic(a, 24, 20);
    expect(b.width).toBe(24); expect(b.height).toBe(20);
    expect(Array.from(b.data).every((v) => v === 77)).toBe(true);
  });

  test('cubic weights: interpolating (1 at 0, 0 at integers) and partition of unity', () => {
    expect(cubicWeight(0)).toBe(1);
    expect(cubicWeight(1)).toBeCloseTo(0, 12); expect(cubicWeight(2)).toBe(0);
    for (const t of [0.1, 0.37, 0.5, 0.9]) {
      expect(cubicWeight(t + 1) + cubicWeight(t) + cubicWeight(t - 1) + cubicWeight(t - 2)).toBeCloseTo(1, 12);
    }
  });
});

describe('embeddings and statistics', () => {
  test('cosine similarity', () => {
    expect(cosineSimilarity([1, 0], [0, 1])).toBe(0);
    expect(cosineSimilarity([1, 2, 3], [2, 4, 6])).toBeCloseTo(1, 12);
    expect(cosineSimilarity([1, 2], [-1, -2])).toBeCloseTo(-1, 12);
    expect(cosineSimilarity([0, 0], [1, 1])).toBe(0);
    expect(() => cosineSimilarity([1], [1, 2])).toThrow(/length/);
  });

  test('mean and quantile', () => {
    expect(mean([1, 2, 3, 4])).toBe(2.5);
    expect(mean([])).toBeNaN();
    expect(quantile([5, 1, 3], 0.5)).toBe(3);
    expect(quantile([0, 10], 0.25)).toBe(2.5);
    expect(quantile([4, 9], 1)).toBe(9);
  });

  test('Wilson interval contains the rate and narrows with n', () => {
    const [lo, hi] = wilsonInterval(45, 100);
    expect(lo).toBeCloseTo(0.3561, 3); expect(hi).toBeCloseTo(0.5475, 3); // textbook value for 45/100
    const [lo2, hi2] = wilsonInterval(450, 1000);
    expect(hi2 - lo2).toBeLessThan(hi - lo);
    const [z0, z1] = wilsonInterval(0, 20);
    expect(z0).toBe(0); expect(z1).toBeGreaterThan(0.1);
  });
});

describe('meanITA (skin tone)', () => {
  const solid = (r: number, g: number, b: number, w = 4, h = 4) => {
    const img = createRGBA(w, h);
    for (let i = 0; i < w * h; i++) img.data.set([r, g, b, 255], i * 4);
    return img;
  };

  test('lighter skin has a higher angle; known colours fall in their bands', () => {
    const light = meanITA(solid(236, 200, 180)), medium = meanITA(solid(198, 134, 66)), dark = meanITA(solid(89, 47, 42));
    expect(light).toBeGreaterThan(41);   // "light" or lighter
    expect(medium).toBeGreaterThan(-30);
    expect(medium).toBeLessThan(28);
    expect(dark).toBeLessThan(-30);      // "dark"
    expect(light).toBeGreaterThan(medium);
    expect(medium).toBeGreaterThan(dark);
  });

  test('weights select the pixels; all-zero weights give NaN', () => {
    const img = solid(236, 200, 180, 2, 1);
    img.data.set([89, 47, 42, 255], 4);
    expect(meanITA(img, [255, 0])).toBeCloseTo(meanITA(solid(236, 200, 180)), 6);
    expect(meanITA(img, [0, 255])).toBeCloseTo(meanITA(solid(89, 47, 42)), 6);
    expect(meanITA(img, [0, 0])).toBeNaN();
    expect(() => meanITA(img, [1])).toThrow(/1 weights for 2 pixels/);
  });
});

describe('seamStep', () => {
  // a radial mask: 255 in the middle, falling to 0 at the edge; the photo a smooth gradient
  const S = 40;
  const photo = createRGBA(S, S);
  const mask = { width: S, height: S, data: new Uint8Array(S * S) };
  for (let y = 0; y < S; y++) for (let x = 0; x < S; x++) {
    const i = y * S + x, r = Math.hypot(x - S / 2, y - S / 2) / (S / 2);
    mask.data[i] = Math.round(255 * Math.min(1, Math.max(0, (1 - r) / 0.4)));
    photo.data.set([120 + x, 100 + y, 90, 255], i * 4);
  }
  const shifted = (d: number) => {
    const p = createRGBA(S, S);
    for (let i = 0; i < S * S; i++) p.data.set([photo.data[i * 4] + d, photo.data[i * 4 + 1] + d, photo.data[i * 4 + 2] + d, 255], i * 4);
    return p;
  };

  test('zero when the paste is the photo; grows with a colour step at the edge', () => {
    expect(seamStep(photo, photo, mask)).toBeCloseTo(0, 9);
    const small = seamStep(shifted(-10), photo, mask), big = seamStep(shifted(-40), photo, mask);
    expect(small).toBeGreaterThan(1);
    expect(big).toBeGreaterThan(3 * small);
    expect(() => seamStep(photo, createRGBA(S, S + 1), mask)).toThrow(/differ in size/);
  });
});
