import { faceMask, featherForFace, maskToGray } from '../../src/core/mask';

describe('faceMask', () => {
  const S = 128;
  const m = faceMask(S);
  const at = (x: number, y: number) => m[y * S + x];

  test('is 1 over the face and 0 all along the crop border', () => {
    expect(at(S / 2, S / 2)).toBe(1);
    // eyes, nose, mouth of a UTKFace-framed crop are fully shown
    for (const [fx, fy] of [[0.35, 0.45], [0.65, 0.45], [0.5, 0.6], [0.5, 0.72], [0.2, 0.5], [0.8, 0.5], [0.5, 0.25]]) {
      expect(at(Math.floor(fx * S), Math.floor(fy * S))).toBe(1);
    }
    for (let i = 0; i < S; i++) {
      expect(at(i, 0)).toBe(0); expect(at(i, S - 1)).toBe(0);
      expect(at(0, i)).toBe(0); expect(at(S - 1, i)).toBe(0);
    }
    for (const v of m) { expect(v).toBeGreaterThanOrEqual(0); expect(v).toBeLessThanOrEqual(1); }
  });

  test('falls off monotonically from the centre, with values in between (soft, not a hard edge)', () => {
    const c = S / 2;
    const rays: [number, number][] = [[1, 0], [-1, 0], [0, 1], [0, -1], [1, 1], [-1, -1], [1, -0.5]];
    for (const [dx, dy] of rays) {
      let prev = 1;
      for (let t = 0; ; t++) {
        const x = Math.round(c + dx * t), y = Math.round(c + dy * t);
        if (x < 0 || y < 0 || x >= S || y >= S) break;
        expect(at(x, y)).toBeLessThanOrEqual(prev + 1e-6);
        prev = at(x, y);
      }
    }
    const soft = Array.from(m).filter((v) => v > 0.05 && v < 0.95).length;
    expect(soft).toBeGreaterThan(S * 4);
  });

  test('the falloff width scales with the size', () => {
    const rampWidth = (size: number) => {
      const mm = faceMask(size);
      let n = 0;
      for (let x = 0; x < size / 2; x++) { const v = mm[(size / 2) * size + x]; if (v > 0 && v < 1) n++; }
      return n;
    };
    const w128 = rampWidth(128), w512 = rampWidth(512);
    expect(w128).toBeGreaterThanOrEqual(10);
    expect(w512 / w128).toBeGreaterThan(3.6);
    expect(w512 / w128).toBeLessThan(4.4);
    // an explicit feather is honoured
    const narrow = faceMask(128, { feather: 4 });
    let n = 0;
    for (let x = 0; x < 64; x++) { const v = narrow[64 * 128 + x]; if (v > 0 && v < 1) n++; }
    expect(n).toBeLessThanOrEqual(5);
  });

  test('featherForFace is a tenth of the face, at least 2 px', () => {
    expect(featherForFace(300)).toBeCloseTo(30);
    expect(featherForFace(5)).toBe(2);
  });

  test('maskToGray maps 0..1 to 0..255 and clamps', () => {
    const g = maskToGray(new Float32Array([0, 0.5, 1, -1, 2, 0.2]), 3, 2);
    expect(Array.from(g.data)).toEqual([0, 128, 255, 0, 255, 51]);
    expect(() => maskToGray(new Float32Array(5), 3, 2)).toThrow(/expected 3x2/);
  });
});
