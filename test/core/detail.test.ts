/** Detail from the photo, change from the net (core/detail.ts) and its paste-back (core/blend.ts). */
import { blurPlane, detailKept, keepDetail, netChange } from '../../src/core/detail';
import { MAX_STRENGTH, pasteBack } from '../../src/core/blend';
import { RGBAImage, createRGBA, resizeArea } from '../../src/core/image';
import { rgbToLab } from '../../src/core/color';

/** A grey image with seeded noise texture of amplitude `amp` inside [x0, x1) x [y0, y1) (everywhere by default). */
function textured(size: number, base: number, amp: number, seed = 1, area = [0, 0, size, size]): RGBAImage {
  const img = createRGBA(size, size);
  let s = seed;
  const rnd = () => { s = (s * 1103515245 + 12345) % 2147483648; return s / 2147483648; };
  for (let y = 0; y < size; y++) {
    for (let x = 0; x < size; x++) {
      const inside = x >= area[0] && y >= area[1] && x < area[2] && y < area[3];
      const v = base + (inside ? (rnd() * 2 - 1) * amp : 0);
      const o = (y * size + x) * 4;
      img.data[o] = img.data[o + 1] = img.data[o + 2] = v; img.data[o + 3] = 255;
    }
  }
  return img;
}
function add(img: RGBAImage, d: number): RGBAImage {
  const out = createRGBA(img.width, img.height);
  for (let i = 0; i < img.data.length; i++) out.data[i] = (i % 4 === 3) ? img.data[i] : img.data[i] + d;
  return out;
}
function blurred(img: RGBAImage, sigma: number): RGBAImage {
  const out = createRGBA(img.width, img.height);
  for (let c = 0; c < 3; c++) {
    const p = blurPlane({ width: img.width, height: img.height, data: Float32Array.from({ length: img.width * img.height }, (_, i) => img.data[i * 4 + c]) }, sigma);
    p.data.forEach((v, i) => { out.data[i * 4 + c] = v; });
  }
  for (let i = 3; i < out.data.length; i += 4) out.data[i] = 255;
  return out;
}
const meanOf = (a: Float32Array, x0: number, y0: number, x1: number, y1: number, w: number) => {
  let s = 0, n = 0;
  for (let y = y0; y < y1; y++) for (let x = x0; x < x1; x++) { s += a[y * w + x]; n++; }
  return s / n;
};

describe('keepDetail', () => {
  test('an unchanged or merely softened face keeps the photo detail', () => {
    const x = textured(64, 128, 20);
    expect(meanOf(keepDetail(x, x).data, 8, 8, 56, 56, 64)).toBeGreaterThan(0.95);
    // the net's answers are softer than its inputs: correlated texture of lower amplitude is not a change
    expect(meanOf(keepDetail(x, blurred(x, 0.7)).data, 8, 8, 56, 56, 64)).toBeGreaterThan(0.8);
  });

  test('texture the net removed (a beard) or replaced is taken from the net', () => {
    const x = textured(64, 128, 30, 1, [16, 32, 48, 60]);     // "beard" in the lower middle
    const y = textured(64, 140, 0);                             // smooth skin everywhere
    const k = keepDetail(x, y).data;
    expect(meanOf(k, 22, 40, 42, 54, 64)).toBeLessThan(0.2);   // the beard area: net pixels
    expect(meanOf(k, 4, 4, 60, 20, 64)).toBeGreaterThan(0.9);  // the flat forehead: photo kept
    const z = textured(64, 128, 30, 99, [16, 32, 48, 60]);     // different texture in the same place
    expect(meanOf(keepDetail(x, z).data, 22, 40, 42, 54, 64)).toBeLessThan(0.3);
  });
});

describe('netChange', () => {
  test('is y - x at the crop\'s scale, with outliers compressed', () => {
    const x = textured(32, 100, 0), y = add(x, 12);
    const w = new Float32Array(32 * 32).fill(1);
    const d = netChange(x, y, w);
    expect(d).toHaveLength(3);
    expect(meanOf(d[0].data, 4, 4, 28, 28, 32)).toBeCloseTo(12, 0);
    // a small dark blotch 120 levels deep is limited to well under its depth
    const b = createRGBA(32, 32); b.data.set(y.data);
    for (let yy = 14; yy < 18; yy++) for (let xx = 14; xx < 18; xx++) for (let c = 0; c < 3; c++) b.data[(yy * 32 + xx) * 4 + c] = 0;
    const db = netChange(x, b, w);
    expect(Math.min(...db[0].data)).toBeGreaterThan(-60);
    // for nets with an attention output the limit is off: the change passes whole
    const free = netChange(x, b, w, { limitOutliers: false });
    expect(Math.min(...free[0].data)).toBeLessThan(-95);
  });
});

describe('pasteBack with the net change', () => {
  const S = 64;
  const args = (strength: number) => {
    const photo = textured(S, 100, 0);
    return pasteBack({ photo, face: add(photo, 20), crop: photo, netOutput: add(photo, 20), fromCrop: [1, 0, 0, 0, 1, 0], cropSize: S, strength, color: 'none' });
  };
  test('strength scales the change, and above 100 % extrapolates it', () => {
    const centre = (k: number) => args(k)!.rgba.data[(32 * S + 32) * 4];
    expect(centre(0)).toBe(100);
    expect(centre(0.5)).toBeCloseTo(110, -0.5);
    expect(centre(1)).toBeCloseTo(120, -0.5);
    expect(centre(MAX_STRENGTH)).toBeCloseTo(130, -0.5);
    // strength acts on the pixels: the layer mask stays at full opacity
    expect(args(0.5)!.mask.data[32 * S + 32]).toBe(255);
  });
  test('refuses strengths outside 0..150 %', () => {
    expect(() => args(1.6)).toThrow(/between 0 and 1.5/);
    expect(() => args(-0.1)).toThrow(/between 0 and 1.5/);
  });
  test('keeps the photo\'s texture finer than the crop, where the net only changed tone', () => {
    // the photo holds the face at twice the crop's resolution; the net answers softer and darker
    const photo = textured(128, 120, 25);
    const crop = resizeArea(photo, S, S);
    const y = blurred(add(crop, -15), 1);
    const r = pasteBack({ photo, face: y, crop, netOutput: y, fromCrop: [2, 0, 0, 0, 2, 0], cropSize: S, color: 'none' })!;
    const box = { x: 32, y: 32, width: 64, height: 64 };
    expect(detailKept(photo, r.rgba, box)).toBeGreaterThan(0.7);
    // and the tone changed
    let d = 0;
    for (let yy = 48; yy < 80; yy++) for (let xx = 48; xx < 80; xx++) d += r.rgba.data[(yy * 128 + xx) * 4] - photo.data[(yy * 128 + xx) * 4];
    expect(d / 1024).toBeLessThan(-10);
  });
  test('a toned black-and-white photo stays toned: the net\'s colours (pink eyelids) are dropped, its lightness change kept', () => {
    const tone = (img: RGBAImage) => { // a warm print: grey values with a faint sepia cast
      const out = createRGBA(img.width, img.height);
      for (let i = 0; i < img.data.length; i += 4) { const v = img.data[i]; out.data[i] = v + 6; out.data[i + 1] = v + 2; out.data[i + 2] = v - 5; out.data[i + 3] = 255; }
      return out;
    };
    const photo = tone(textured(128, 120, 25));
    const crop = resizeArea(photo, S, S);
    const y = add(crop, -15); // darker ...
    for (let yy = 20; yy < 30; yy++) for (let xx = 16; xx < 48; xx++) { const o = (yy * S + xx) * 4; y.data[o] += 40; y.data[o + 2] -= 10; } // ... and pink eyelids
    const r = pasteBack({ photo, face: resizeArea(y, 128, 128), crop, netOutput: y, fromCrop: [2, 0, 0, 0, 2, 0], cropSize: S, color: 'none' })!;
    let chroma = 0, chroma0 = 0, dL = 0, n = 0;
    for (let yy = 40; yy < 60; yy++) for (let xx = 34; xx < 94; xx++) { // the eyelids, in photo pixels
      const o = (yy * 128 + xx) * 4;
      if (r.mask.data[yy * 128 + xx] < 250) continue;
      const [L, a, b] = rgbToLab(r.rgba.data[o], r.rgba.data[o + 1], r.rgba.data[o + 2]);
      const [L0, a0, b0] = rgbToLab(photo.data[o], photo.data[o + 1], photo.data[o + 2]);
      chroma += Math.hypot(a - a0, b - b0); chroma0 += Math.hypot(a0, b0); dL += L - L0; n++;
    }
    expect(n).toBeGreaterThan(500);
    expect(chroma / n).toBeLessThan(1);   // the print's own tone, pixel by pixel (the net's pink is ~15 away)
    expect(chroma0 / n).toBeGreaterThan(3); // which is a tone, not grey
    expect(Math.abs(dL / n)).toBeGreaterThan(2); // the net's lightness change is kept
    // in a colour photo the net's colours are the change and stay
    const skin = textured(128, 120, 25), colour = createRGBA(128, 128);
    for (let i = 0; i < skin.data.length; i += 4) { const v = skin.data[i]; colour.data[i] = v + 50; colour.data[i + 1] = v; colour.data[i + 2] = v - 30; colour.data[i + 3] = 255; }
    const cc = resizeArea(colour, S, S), yc = add(cc, -15);
    for (let yy = 20; yy < 30; yy++) for (let xx = 16; xx < 48; xx++) { const o = (yy * S + xx) * 4; yc.data[o] += 40; yc.data[o + 2] -= 10; }
    const rc = pasteBack({ photo: colour, face: resizeArea(yc, 128, 128), crop: cc, netOutput: yc, fromCrop: [2, 0, 0, 0, 2, 0], cropSize: S, color: 'none' })!;
    const o = (50 * 128 + 64) * 4;
    expect((rc.rgba.data[o] - rc.rgba.data[o + 2]) - (colour.data[o] - colour.data[o + 2])).toBeGreaterThan(20);
  });
  test('photoDetail mixes in the net\'s own pixels: 1 keeps the photo\'s texture, 0 takes the net\'s softer face, in between in between', () => {
    const photo = textured(128, 120, 25);
    const crop = resizeArea(photo, S, S);
    const y = blurred(add(crop, -15), 1);
    const face = resizeArea(y, 128, 128); // the net's answer at the photo's size, soft
    const paste = (photoDetail?: number) => pasteBack({ photo, face, crop, netOutput: y, fromCrop: [2, 0, 0, 0, 2, 0], cropSize: S, color: 'none', photoDetail })!;
    const box = { x: 32, y: 32, width: 64, height: 64 };
    const kept = [1, 0.5, 0].map((k) => detailKept(photo, paste(k).rgba, box));
    expect(kept[0]).toBeGreaterThan(0.7);
    expect(kept[1]).toBeLessThan(kept[0] - 0.1);
    expect(kept[2]).toBeLessThan(kept[1] - 0.1);
    expect(Array.from(paste().rgba.data)).toEqual(Array.from(paste(1).rgba.data)); // 1 is the default
    expect(() => paste(1.2)).toThrow(/photoDetail must be between 0 and 1/);
  });
});
