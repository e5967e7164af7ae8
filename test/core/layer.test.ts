import { createRGBA, createGray } from '../../src/core/image';
import { facesToLayer, compositeLayer } from '../../src/core/layer';
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
