import { createRGBA, RGBAImage } from '../../src/core/image';
import { rgbToLab, labToRgb, rgbaToLab, labToRgba, matchColor, isMonotone, correctColor, COLOR_POLICIES } from '../../src/core/color';

describe('Lab conversion', () => {
  test('known values', () => {
    const white = rgbToLab(255, 255, 255);
    expect(white[0]).toBeCloseTo(100, 2); expect(white[1]).toBeCloseTo(0, 2); expect(white[2]).toBeCloseTo(0, 2);
    expect(rgbToLab(0, 0, 0)).toEqual([0, 0, 0]);
    const red = rgbToLab(255, 0, 0); // reference: L 53.24, a 80.09, b 67.20
    expect(red[0]).toBeCloseTo(53.24, 1); expect(red[1]).toBeCloseTo(80.09, 1); expect(red[2]).toBeCloseTo(67.2, 1);
  });

  test('8-bit sRGB -> Lab -> sRGB round-trips within 1 level', () => {
    let worst = 0;
    for (let r = 0; r < 256; r += 3) for (let g = 0; g < 256; g += 3) for (let b = 0; b < 256; b += 3) {
      const [L, A, B] = rgbToLab(r, g, b);
      const [r2, g2, b2] = labToRgb(L, A, B);
      worst = Math.max(worst, Math.abs(r2 - r), Math.abs(g2 - g), Math.abs(b2 - b));
    }
    expect(worst).toBeLessThanOrEqual(1);
  });

  test('image conversion round-trips and keeps alpha when asked', () => {
    const img = createRGBA(4, 2);
    for (let i = 0; i < img.data.length; i++) img.data[i] = (i * 37) % 256;
    const back = labToRgba(rgbaToLab(img), 4, 2, img);
    for (let i = 0; i < img.data.length; i++) expect(Math.abs(back.data[i] - img.data[i])).toBeLessThanOrEqual(1);
    expect(labToRgba(rgbaToLab(img), 4, 2).data[3]).toBe(255);
  });
});

/** Deterministic textured image around a base colour. */
function textured(w: number, h: number, base: [number, number, number], amp: number, seed: number): RGBAImage {
  const img = createRGBA(w, h);
  let s = seed;
  const rnd = () => { s = (s * 1103515245 + 12345) % 2147483648; return s / 2147483648 - 0.5; };
  for (let i = 0; i < w * h; i++) {
    const t = rnd() * amp;
    img.data[i * 4] = base[0] + t + rnd() * amp * 0.3;
    img.data[i * 4 + 1] = base[1] + t + rnd() * amp * 0.3;
    img.data[i * 4 + 2] = base[2] + t + rnd() * amp * 0.3;
    img.data[i * 4 + 3] = 200;
  }
  return img;
}

function stats(img: RGBAImage, mask: Float32Array): { mean: number[]; std: number[] } {
  const sum = [0, 0, 0], sq = [0, 0, 0];
  let W = 0;
  for (let i = 0; i < mask.length; i++) {
    if (!(mask[i] > 0)) continue;
    const lab = rgbToLab(img.data[i * 4], img.data[i * 4 + 1], img.data[i * 4 + 2]);
    for (let c = 0; c < 3; c++) { sum[c] += mask[i] * lab[c]; sq[c] += mask[i] * lab[c] ** 2; }
    W += mask[i];
  }
  const mean = sum.map((v) => v / W);
  return { mean, std: sq.map((v, c) => Math.sqrt(v / W - mean[c] ** 2)) };
}

describe('matchColor', () => {
  const W = 48, H = 40;
  const source = textured(W, H, [120, 150, 170], 40, 1); // cool, contrasty
  const target = textured(W, H, [200, 150, 110], 20, 2); // warm, flatter
  // mask: left 3/4 weighted (with a soft band), right quarter 0
  const mask = new Float32Array(W * H);
  for (let y = 0; y < H; y++) for (let x = 0; x < W; x++) mask[y * W + x] = x < 30 ? 1 : x < 36 ? (36 - x) / 6 : 0;

  test('moves the masked Lab mean and std to the target', () => {
    const out = matchColor(source, target, mask);
    const o = stats(out, mask), t = stats(target, mask), s = stats(source, mask);
    for (let c = 0; c < 3; c++) {
      expect(Math.abs(o.mean[c] - t.mean[c])).toBeLessThan(0.6);
      expect(Math.abs(o.std[c] - t.std[c])).toBeLessThan(0.1 * t.std[c] + 0.3);
    }
    // and it really moved: the source was far off
    expect(Math.abs(s.mean[2] - t.mean[2])).toBeGreaterThan(20);
    expect(out).not.toBe(source);
  });

  test('leaves zero-mask pixels untouched and ignores the target there', () => {
    const out = matchColor(source, target, mask);
    for (let y = 0; y < H; y++) for (let x = 36; x < W; x++) {
      for (let c = 0; c < 4; c++) expect(out.data[(y * W + x) * 4 + c]).toBe(source.data[(y * W + x) * 4 + c]);
    }
    const altered: RGBAImage = { width: W, height: H, data: new Uint8ClampedArray(target.data) };
    for (let y = 0; y < H; y++) for (let x = 36; x < W; x++) altered.data[(y * W + x) * 4] = 0;
    expect(Array.from(matchColor(source, altered, mask).data)).toEqual(Array.from(out.data));
  });

  test('alpha comes from the source; the source is not modified', () => {
    const before = Array.from(source.data);
    const out = matchColor(source, target, mask);
    for (let i = 3; i < out.data.length; i += 4) expect(out.data[i]).toBe(200);
    expect(Array.from(source.data)).toEqual(before);
  });

  test('a flat source only shifts (no division by zero) and an empty mask changes nothing', () => {
    const flat = createRGBA(W, H);
    for (let i = 0; i < W * H; i++) { flat.data.set([90, 90, 90, 255], i * 4); }
    const out = matchColor(flat, target, mask);
    for (const v of out.data) expect(Number.isFinite(v)).toBe(true);
    const o = stats(out, mask), t = stats(target, mask);
    expect(Math.abs(o.mean[0] - t.mean[0])).toBeLessThan(0.6);
    expect(Array.from(matchColor(source, target, new Float32Array(W * H)).data)).toEqual(Array.from(source.data));
  });

  test('refuses mismatched sizes', () => {
    expect(() => matchColor(source, createRGBA(W, H + 1), mask)).toThrow(/must match/);
    expect(() => matchColor(source, target, new Float32Array(3))).toThrow(/mask has 3/);
  });
});

describe('isMonotone', () => {
  const img = (f: (i: number) => [number, number, number], n = 64) => {
    const im = createRGBA(n, 1);
    for (let i = 0; i < n; i++) im.data.set([...f(i), 255], i * 4);
    return im;
  };
  const all = (n = 64) => new Float32Array(n).fill(1);

  test('toned and neutral prints are monotone; skin in colour is not', () => {
    expect(isMonotone(img((i) => { const v = 60 + i * 2; return [v + 7, v + 2, v - 6]; }), all())).toBe(true); // sepia
    expect(isMonotone(img((i) => [50 + i * 3, 50 + i * 3, 50 + i * 3]), all())).toBe(true);                     // neutral
    expect(isMonotone(img((i) => [200 + (i % 30), 140 + (i % 20), 110]), all())).toBe(false);                  // skin
    expect(isMonotone(img((i) => (i < 32 ? [120, 118, 114] : [110, 120, 130])), all())).toBe(false);           // two tints
  });

  test('only masked pixels count; an empty mask is not monotone', () => {
    const half = img((i) => (i < 32 ? [128, 128, 128] : [220, 40, 40]));
    const left = new Float32Array(64); left.fill(1, 0, 32);
    expect(isMonotone(half, left)).toBe(true);
    expect(isMonotone(half, all())).toBe(false);
    expect(isMonotone(half, new Float32Array(64))).toBe(false);
  });
});

describe('correctColor: the colour policies of paste-back', () => {
  // the net's input: textured skin; its answer: a global warm/dark shift everywhere plus a local red patch (lips)
  const W = 32;
  const input = textured(W, W, [180, 140, 120], 30, 7);
  const output = createRGBA(W, W);
  const lips = (i: number) => { const x = i % W, y = Math.floor(i / W); return x >= 12 && x < 20 && y >= 22 && y < 26; };
  for (let i = 0; i < W * W; i++) {
    const d = lips(i) ? [60, -30, -20] : [-25, -30, -35];
    for (let c = 0; c < 3; c++) output.data[i * 4 + c] = input.data[i * 4 + c] + d[c];
    output.data[i * 4 + 3] = 255;
  }
  const mask = new Float32Array(W * W).fill(1);
  const meanLab = (img: RGBAImage, keep: (i: number) => boolean) => {
    const lab = rgbaToLab(img), s = [0, 0, 0];
    let n = 0;
    for (let i = 0; i < W * W; i++) if (keep(i)) { for (let c = 0; c < 3; c++) s[c] += lab[i * 3 + c]; n++; }
    return s.map((v) => v / n);
  };
  const skin = (i: number) => !lips(i);
  const shiftOf = (img: RGBAImage, where: (i: number) => boolean) => {
    const a = meanLab(img, where), b = meanLab(input, where);
    return Math.hypot(a[0] - b[0], a[1] - b[1], a[2] - b[2]);
  };

  test('none keeps the net\'s colours; tone removes the global shift and keeps the local change', () => {
    const none = correctColor(output, input, mask, 'none');
    expect(Array.from(none.data)).toEqual(Array.from(output.data));
    const tone = correctColor(output, input, mask, 'tone');
    expect(shiftOf(output, skin)).toBeGreaterThan(10);
    expect(shiftOf(tone, skin)).toBeLessThan(2); // the skin is back to the photo's
    expect(shiftOf(tone, lips)).toBeGreaterThan(15); // the lips keep their change
  });

  test('lightness keeps the hue change and restores the lightness; reinhard restores both', () => {
    const L = (img: RGBAImage) => meanLab(img, () => true);
    const light = L(correctColor(output, input, mask, 'lightness')), rein = L(correctColor(output, input, mask, 'reinhard'));
    const inp = L(input), out = L(output);
    expect(Math.abs(light[0] - inp[0])).toBeLessThan(1);
    expect(Math.abs(light[2] - out[2])).toBeLessThan(1); // b* as the net made it
    for (let c = 0; c < 3; c++) expect(Math.abs(rein[c] - inp[c])).toBeLessThan(1);
    expect(COLOR_POLICIES).toEqual(['reinhard', 'lightness', 'tone', 'none']);
  });
});

describe('fast paths give the exact answers of the formulas', () => {
  // the reference: the sRGB formula with a pow per channel, and a weighted median by sorting
  const XN = 0.95047, ZN = 1.08883, EPS = 216 / 24389, KAPPA = 24389 / 27;
  const c8 = (v: number) => Math.min(255, Math.max(0, Math.round(v)));
  const enc = (c: number) => c8((c <= 0.0031308 ? 12.92 * c : 1.055 * Math.pow(c, 1 / 2.4) - 0.055) * 255);
  const inv = (f: number) => (f * f * f > EPS ? f * f * f : (116 * f - 16) / KAPPA);
  const refLabToRgb = (L: number, a: number, b: number) => {
    const fy = (L + 16) / 116, x = inv(fy + a / 500) * XN, y = inv(fy), z = inv(fy - b / 200) * ZN;
    return [enc(Math.max(0, 3.2404542 * x - 1.5371385 * y - 0.4985314 * z)), enc(Math.max(0, -0.9692660 * x + 1.8760108 * y + 0.0415560 * z)),
      enc(Math.max(0, 0.0556434 * x - 0.2040259 * y + 1.0572252 * z))];
  };
  const img = (f: () => [number, number, number], S: number) => {
    const im = createRGBA(S, S);
    for (let i = 0; i < S * S; i++) im.data.set([...f(), 255], i * 4);
    return im;
  };
  let seed = 7;
  const rand = () => { seed = (seed * 1103515245 + 12345) % 2147483648; return seed / 2147483648; };

  test('labToRgb (a table instead of pow) equals the formula, at random and at every 8-bit grey', () => {
    for (let i = 0; i < 200000; i++) {
      const L = rand() * 110 - 5, a = rand() * 240 - 120, b = rand() * 240 - 120;
      expect(labToRgb(L, a, b)).toEqual(refLabToRgb(L, a, b));
    }
    for (let v = 0; v < 256; v++) expect(labToRgb(...rgbToLab(v, v, v))).toEqual([v, v, v]);
  });

  test("'tone' removes the weighted median shift (quickselect) exactly as a sort finds it", () => {
    for (let t = 0; t < 60; t++) {
      const S = 6 + (t % 17), n = S * S, q = t % 3 === 0 ? 3 : 150; // few levels: many ties
      const mk = () => img(() => [40 + Math.floor(rand() * q), 40 + Math.floor(rand() * q), 40 + Math.floor(rand() * q)], S);
      const out = mk(), inp = mk();
      const mask = new Float32Array(n).map(() => (rand() < 0.3 ? 0 : t % 2 ? 1 : rand()));
      const got = correctColor(out, inp, mask, 'tone');
      const lo = rgbaToLab(out), li = rgbaToLab(inp);
      const idx = [...mask.keys()].filter((i) => mask[i] > 0);
      if (!idx.length) continue;
      const shift = [0, 1, 2].map((c) => {
        const v = idx.map((i) => lo[i * 3 + c] - li[i * 3 + c]), w = idx.map((i) => mask[i]);
        const order = v.map((_, i) => i).sort((x, y) => v[x] - v[y]);
        const half = w.reduce((s, x) => s + x, 0) / 2;
        let acc = 0;
        for (const i of order) { acc += w[i]; if (acc >= half) return v[i]; }
        return v[order[order.length - 1]];
      });
      for (const i of idx) {
        expect([got.data[i * 4], got.data[i * 4 + 1], got.data[i * 4 + 2]]).toEqual(refLabToRgb(lo[i * 3] - shift[0], lo[i * 3 + 1] - shift[1], lo[i * 3 + 2] - shift[2]));
      }
    }
  });
});
