import { createRGBA, cropRGBA, RGBAImage } from '../../src/core/image';
import { Affine, applyAffine } from '../../src/core/geometry';
import { pasteBack, pasteBounds } from '../../src/core/blend';
import { compositeLayer, facesToLayer } from '../../src/core/layer';
import { faceMask } from '../../src/core/mask';
import { rgbToLab } from '../../src/core/color';

function pattern(w: number, h: number, f: (x: number, y: number) => [number, number, number]): RGBAImage {
  const img = createRGBA(w, h);
  for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) img.data.set([...f(x, y), 255], (y * w + x) * 4);
  return img;
}

const photo = pattern(200, 160, (x, y) => [(x * 3) % 256, (y * 5) % 256, ((x + y) * 2) % 256]);
const S = 64; // crop size
const face = pattern(256, 256, (x, y) => [100 + ((x >> 4) % 2) * 60, 80 + (y % 50), 140]); // SR x4 face
// crop -> photo: rotated 25 degrees, scale 2, hanging off the photo's right edge
const th = (25 * Math.PI) / 180;
const fromCrop: Affine = [2 * Math.cos(th), -2 * Math.sin(th), 150, 2 * Math.sin(th), 2 * Math.cos(th), 20];

describe('pasteBack', () => {
  const patch = pasteBack({ photo, face, fromCrop, cropSize: S })!;

  test('the patch box lies within the photo and covers the warped face corners', () => {
    expect(patch).not.toBeNull();
    const { box } = patch;
    expect(box.x).toBeGreaterThanOrEqual(0); expect(box.y).toBeGreaterThanOrEqual(0);
    expect(box.x + box.width).toBeLessThanOrEqual(photo.width);
    expect(box.y + box.height).toBeLessThanOrEqual(photo.height);
    expect(box.x + box.width).toBe(photo.width); // clipped at the right edge
    for (const c of [{ x: 0, y: 0 }, { x: S, y: 0 }, { x: 0, y: S }, { x: S, y: S }]) {
      const p = applyAffine(fromCrop, c);
      const px = Math.min(Math.max(p.x, 0), photo.width), py = Math.min(Math.max(p.y, 0), photo.height);
      expect(px).toBeGreaterThanOrEqual(box.x); expect(px).toBeLessThanOrEqual(box.x + box.width);
      expect(py).toBeGreaterThanOrEqual(box.y); expect(py).toBeLessThanOrEqual(box.y + box.height);
    }
    expect(patch.rgba.width).toBe(box.width); expect(patch.rgba.height).toBe(box.height);
    expect(patch.mask.width).toBe(box.width); expect(patch.mask.height).toBe(box.height);
    expect(pasteBounds(fromCrop, S, photo.width, photo.height)).toEqual(box);
  });

  test('the mask is feathered, fully on at the face centre and off at the box corners', () => {
    const d = patch.mask.data;
    expect(Array.from(d).some((v) => v > 0 && v < 255)).toBe(true);
    const centre = applyAffine(fromCrop, { x: S / 2, y: S / 2 });
    const cx = Math.floor(centre.x) - patch.box.x, cy = Math.floor(centre.y) - patch.box.y;
    expect(d[cy * patch.box.width + cx]).toBe(255);
    expect(d[0]).toBe(0);
    for (let i = 3; i < patch.rgba.data.length; i += 4) expect(patch.rgba.data[i]).toBe(255);
  });

  test('strength scales the mask; 0 gives an all-zero mask', () => {
    const zero = pasteBack({ photo, face, fromCrop, cropSize: S, strength: 0 })!;
    expect(Array.from(zero.mask.data).every((v) => v === 0)).toBe(true);
    const half = pasteBack({ photo, face, fromCrop, cropSize: S, strength: 0.5 })!;
    const maxHalf = Math.max(...Array.from(half.mask.data));
    expect(maxHalf).toBeGreaterThanOrEqual(127); expect(maxHalf).toBeLessThanOrEqual(128);
    expect(() => pasteBack({ photo, face, fromCrop, cropSize: S, strength: 1.5 })).toThrow(/strength/);
  });

  test('returns null when the crop lands outside the photo', () => {
    expect(pasteBack({ photo, face, fromCrop: [1, 0, 500, 0, 1, 500], cropSize: S })).toBeNull();
  });

  test('with an identity-like transform the face pixels come back exactly where the mask is full', () => {
    const f = pattern(S, S, (x, y) => [(x * 11) % 256, (y * 7) % 256, ((x * y) >> 2) % 256]);
    const p = pasteBack({ photo, face: f, fromCrop: [1, 0, 30, 0, 1, 40], cropSize: S, color: 'none' })!;
    expect(p.box).toEqual({ x: 30, y: 40, width: S, height: S });
    const m = faceMask(S);
    let full = 0;
    for (let y = 0; y < S; y++) for (let x = 0; x < S; x++) {
      for (let c = 0; c < 3; c++) expect(p.rgba.data[(y * S + x) * 4 + c]).toBe(f.data[(y * S + x) * 4 + c]);
      expect(Math.abs(p.mask.data[y * S + x] - m[y * S + x] * 255)).toBeLessThanOrEqual(1);
      if (p.mask.data[y * S + x] === 255) full++;
    }
    expect(full).toBeGreaterThan(S * S / 3);
    const out = compositeLayer(photo, facesToLayer([p])!); // what the CLI writes
    for (let y = 0; y < S; y++) for (let x = 0; x < S; x++) {
      if (p.mask.data[y * S + x] !== 255) continue;
      const o = ((40 + y) * photo.width + 30 + x) * 4;
      for (let c = 0; c < 3; c++) expect(out.data[o + c]).toBe(f.data[(y * S + x) * 4 + c]);
    }
  });

  test('colour matching pulls the face towards the photo under the mask', () => {
    const grey = pattern(S, S, (x, y) => [128 + ((x + y) % 9), 128, 128]);
    const warm = pattern(200, 160, (x, y) => [210 + (x % 7), 150 + (y % 5), 110]);
    const matched = pasteBack({ photo: warm, face: grey, fromCrop: [1, 0, 30, 0, 1, 40], cropSize: S })!;
    const raw = pasteBack({ photo: warm, face: grey, fromCrop: [1, 0, 30, 0, 1, 40], cropSize: S, color: 'none' })!;
    const i = ((S / 2) * S + S / 2) * 4;
    expect(raw.rgba.data[i]).toBeLessThan(140);
    expect(matched.rgba.data[i]).toBeGreaterThan(195);
    expect(matched.rgba.data[i + 2]).toBeLessThan(125);
  });

  test('without colour matching, a toned black-and-white photo still gives the face its tone (lightness stays the net\'s)', () => {
    const sepia = pattern(200, 160, (x, y) => { const v = 70 + ((x * 3 + y * 2) % 130); return [v + 7, v + 2, v - 6]; });
    const pink = pattern(S, S, (x, y) => [190 + (x % 20), 110 + (y % 15), 100]);
    const p = pasteBack({ photo: sepia, face: pink, fromCrop: [1, 0, 30, 0, 1, 40], cropSize: S, color: 'none' })!;
    let chroma = 0, dL = 0, n = 0;
    for (let i = 0; i < S * S; i++) {
      if (p.mask.data[i] !== 255) continue;
      const [L, a, b] = rgbToLab(p.rgba.data[i * 4], p.rgba.data[i * 4 + 1], p.rgba.data[i * 4 + 2]);
      const [L0] = rgbToLab(pink.data[i * 4], pink.data[i * 4 + 1], pink.data[i * 4 + 2]);
      chroma += Math.hypot(a, b); dL += Math.abs(L - L0); n++;
    }
    expect(n).toBeGreaterThan(S * S / 3);
    expect(chroma / n).toBeLessThan(8);   // the pink face took the print's faint warm tone (the face alone: ~30)
    expect(dL / n).toBeLessThan(2);       // and kept its own lightness
    // a colour photo is left alone: the net's colours are the change
    const colour = pattern(200, 160, (x, y) => [210 + (x % 7), 150 + (y % 5), 110]);
    const q = pasteBack({ photo: colour, face: pink, fromCrop: [1, 0, 30, 0, 1, 40], cropSize: S, color: 'none' })!;
    const i = ((S / 2) * S + S / 2) * 4;
    expect(Array.from(q.rgba.data.slice(i, i + 3))).toEqual(Array.from(pink.data.slice(i, i + 3)));
  });

  test('region-only input gives the same patch as whole-photo input', () => {
    const box = pasteBounds(fromCrop, S, photo.width, photo.height)!;
    const regionBox = { x: box.x - 5, y: box.y, width: box.width + 5, height: box.height + 3 };
    const region = cropRGBA(photo, regionBox.x, regionBox.y, regionBox.width, regionBox.height);
    const fromRegion = pasteBack({ photo: { width: photo.width, height: photo.height, region, regionBox }, face, fromCrop, cropSize: S })!;
    expect(fromRegion.box).toEqual(patch.box);
    expect(Array.from(fromRegion.rgba.data)).toEqual(Array.from(patch.rgba.data));
    expect(Array.from(fromRegion.mask.data)).toEqual(Array.from(patch.mask.data));
    // a region that misses part of the box is refused, not silently cut
    const small = { x: box.x + 4, y: box.y, width: box.width - 4, height: box.height };
    expect(() => pasteBack({ photo: { width: photo.width, height: photo.height, region: cropRGBA(photo, small.x, small.y, small.width, small.height), regionBox: small }, face, fromCrop, cropSize: S }))
      .toThrow(/does not cover/);
  });
});

describe('grayscale photos', () => {
  test('a black-and-white photo gets a black-and-white face', () => {
    const S = 64;
    const photo = createRGBA(200, 200);
    for (let i = 0; i < photo.data.length; i += 4) { const v = (i / 4) % 200; photo.data[i] = photo.data[i + 1] = photo.data[i + 2] = v; photo.data[i + 3] = 255; }
    const face = createRGBA(S, S);
    for (let i = 0; i < face.data.length; i += 4) { face.data[i] = 200; face.data[i + 1] = 80; face.data[i + 2] = 40; face.data[i + 3] = 255; }
    const patch = pasteBack({ photo, face, fromCrop: [1, 0, 60, 0, 1, 60], cropSize: S })!;
    for (let i = 0; i < patch.rgba.data.length; i += 4) {
      expect(patch.rgba.data[i]).toBe(patch.rgba.data[i + 1]);
      expect(patch.rgba.data[i + 1]).toBe(patch.rgba.data[i + 2]);
    }
  });
});
