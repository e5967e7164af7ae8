import { createRGBA, createGray } from '../../src/core/image';
import { facesToLayer, compositeLayer, compositeLayerInPlace, layerRow } from '../../src/core/layer';
import type { FacePatch } from '../../src/core/blend';
import { alignFace } from '../../src/core/align';

function patch(x: number, y: number, w: number, h: number, rgb: [number, number, number], m: number, alpha = 255): FacePatch {
  const rgba = createRGBA(w, h);
  const mask = createGray(w, h);
  for (let i = 0; i < w * h; i++) { rgba.data.set([...rgb, alpha], i * 4); mask.data[i] = m; }
  return { box: { x, y, width: w, height: h }, rgba, mask };
}

describe('facesToLayer / compositeLayer (what the CLI writes)', () => {
  test('one layer spans every patch; the stronger mask wins where they overlap', () => {
    const layer = facesToLayer([patch(10, 10, 20, 20, [255, 0, 0], 100), patch(20, 20, 20, 20, [0, 0, 255], 200)])!;
    expect(layer.box).toEqual({ x: 10, y: 10, width: 30, height: 30 });
    const at = (x: number, y: number) => (y - 10) * 30 + (x - 10);
    expect(layer.mask.data[at(25, 25)]).toBe(200);
    expect([...layer.rgba.data.slice(at(25, 25) * 4, at(25, 25) * 4 + 3)]).toEqual([0, 0, 255]);
    expect(layer.mask.data[at(12, 12)]).toBe(100);
    expect(layer.mask.data[at(35, 12)]).toBe(0); // between patches: hidden
    expect(layer.rgba.data[at(35, 12) * 4 + 3]).toBe(0);
    expect(facesToLayer([])).toBeNull();
  });

  test('the composite blends through the mask and never modifies the photo', () => {
    const photo = createRGBA(50, 50);
    photo.data.fill(100);
    const copy = new Uint8ClampedArray(photo.data);
    const layer = facesToLayer([patch(0, 0, 10, 10, [200, 200, 200], 51)])!;
    const out = compositeLayer(photo, layer);
    expect(out.data[0]).toBe(120); // 100 * 0.8 + 200 * 0.2
    expect(out.data[(20 * 50 + 20) * 4]).toBe(100);
    expect(photo.data).toEqual(copy);
  });

  test('over transparent pixels of a cut-out nothing shows', () => {
    const photo = createRGBA(20, 20); // all transparent
    const layer = facesToLayer([patch(0, 0, 20, 20, [255, 255, 255], 255, 0)])!;
    const out = compositeLayer(photo, layer);
    expect(out.data.every((v) => v === 0)).toBe(true);
  });
});

describe('the layer read row by row (what the CLI\'s PSD and PNG writers do)', () => {
  /** The layer as facesToLayer drew it before rows existed: patch after patch over the whole box. */
  function drawnPatchByPatch(patches: FacePatch[]) {
    const x0 = Math.min(...patches.map((p) => p.box.x)), y0 = Math.min(...patches.map((p) => p.box.y));
    const W = Math.max(...patches.map((p) => p.box.x + p.box.width)) - x0, H = Math.max(...patches.map((p) => p.box.y + p.box.height)) - y0;
    const rgba = createRGBA(W, H), mask = createGray(W, H);
    for (const p of patches) {
      for (let y = 0; y < p.box.height; y++) for (let x = 0; x < p.box.width; x++) {
        const s = y * p.box.width + x, d = (p.box.y - y0 + y) * W + (p.box.x - x0 + x);
        const m = p.mask.data[s];
        if (rgba.data[d * 4 + 3] !== 0 && m <= mask.data[d]) continue;
        rgba.data.set(p.rgba.data.subarray(s * 4, s * 4 + 4), d * 4);
        if (m > mask.data[d]) mask.data[d] = m;
      }
    }
    return { rgba, mask };
  }
  const ramp = (x: number, y: number, w: number, h: number, rgb: [number, number, number], alpha = 255): FacePatch => {
    const p = patch(x, y, w, h, rgb, 0, alpha);
    for (let i = 0; i < w * h; i++) p.mask.data[i] = (i * 37) % 256;
    return p;
  };
  const cases: [string, FacePatch[]][] = [
    ['apart', [ramp(0, 0, 10, 10, [255, 0, 0]), ramp(30, 5, 8, 12, [0, 255, 0]), ramp(12, 20, 6, 4, [0, 0, 255])]],
    ['overlapping, partly transparent', [ramp(0, 0, 20, 20, [255, 0, 0], 0), ramp(10, 10, 20, 20, [0, 0, 255]), ramp(5, 15, 30, 3, [9, 9, 9])]],
  ];
  test.each(cases)('%s: rows, and the drawn layer, equal drawing patch after patch', (_name, patches) => {
    const ref = drawnPatchByPatch(patches);
    const rows = facesToLayer(patches)!;
    const { width: W, height: H } = rows.box;
    for (let y = H - 1; y >= 0; y--) { // any order
      const r = layerRow(rows, y);
      expect([...r.rgba]).toEqual([...ref.rgba.data.subarray(y * W * 4, (y + 1) * W * 4)]);
      expect([...r.mask]).toEqual([...ref.mask.data.subarray(y * W, (y + 1) * W)]);
    }
    const drawn = facesToLayer(patches)!;
    expect([...drawn.rgba.data]).toEqual([...ref.rgba.data]);
    expect([...drawn.mask.data]).toEqual([...ref.mask.data]);
    expect([...layerRow(drawn, 3).mask]).toEqual([...ref.mask.data.subarray(3 * W, 4 * W)]);
  });

  test('the composite made in the photo itself equals the composite beside it', () => {
    const photo = createRGBA(50, 40);
    for (let i = 0; i < photo.data.length; i++) photo.data[i] = (i * 13) % 256;
    const layer = facesToLayer(cases[1][1])!;
    const beside = compositeLayer(photo, layer);
    const inPlace = compositeLayerInPlace(photo, layer);
    expect(inPlace.data).toBe(photo.data);
    expect([...inPlace.data]).toEqual([...beside.data]);
  });
});

describe('alignFace on a face far larger than the crop', () => {
  test('is averaged, not point-sampled: a fine stripe pattern comes out grey', () => {
    const W = 4000;
    const img = createRGBA(W, W);
    for (let y = 0; y < W; y++) for (let x = 0; x < W; x++) { const v = x % 2 ? 255 : 0; img.data.set([v, v, v, 255], (y * W + x) * 4); }
    // eyes 1600 px apart: the crop shrinks the photo about 30x
    const kp = [{ x: 1200, y: 1500 }, { x: 2800, y: 1500 }, { x: 2000, y: 2300 }, { x: 2000, y: 2800 }, { x: 800, y: 1700 }, { x: 3200, y: 1700 }];
    const template = { id: 't', keypoints: ['rightEye', 'leftEye', 'noseTip', 'mouthCenter'] as const, points: [[0.3, 0.3], [0.7, 0.3], [0.5, 0.53], [0.5, 0.72]] as [number, number][], weights: [1, 1, 0.5, 1] };
    const crop = alignFace(img, kp, { ...template, keypoints: [...template.keypoints] }, 64).image;
    for (let i = 0; i < crop.data.length; i += 4) expect(Math.abs(crop.data[i] - 127.5)).toBeLessThan(20);
  });
});
