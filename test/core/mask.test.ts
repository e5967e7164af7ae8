import { FACE_OVAL, faceMask, faceOvalContour, featherForFace, landmarkFaceMask, mapPoints, maskToGray } from '../../src/core/mask';
import { meshToAlignedCrop } from '../../src/core/align';
import { Affine, Point, composeAffine } from '../../src/core/geometry';

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

describe('landmarkFaceMask', () => {
  const S = 128;
  const circle = (cx: number, cy: number, r: number, n = 72): Point[] =>
    Array.from({ length: n }, (_, i) => ({ x: cx + r * Math.cos((2 * Math.PI * i) / n), y: cy + r * Math.sin((2 * Math.PI * i) / n) }));
  /** pixels strictly between 0 and 1 along the row through the centre, left half */
  const ramp = (m: Float32Array) => { let n = 0; for (let x = 0; x < S / 2; x++) { const v = m[(S / 2) * S + x]; if (v > 0 && v < 1) n++; } return n; };

  test('is 1 inside, 0 outside and at the corners, with a smoothstep inside the contour', () => {
    const m = landmarkFaceMask(circle(64, 64, 40), S, S, 10);
    const at = (x: number, y: number) => m[y * S + x];
    expect(at(64, 64)).toBe(1);
    for (const [x, y] of [[0, 0], [S - 1, 0], [0, S - 1], [S - 1, S - 1], [64, 10], [10, 64], [64, 120]]) expect(at(x, y)).toBe(0);
    // pixel centre x + 0.5 at distance d inside the edge (x = 24) reads smoothstep(d / 10)
    const ss = (t: number) => t * t * (3 - 2 * t);
    for (const x of [25, 27, 29, 31]) expect(at(x, 64)).toBeCloseTo(ss((x + 0.5 - 24) / 10), 2);
    for (const v of m) { expect(v).toBeGreaterThanOrEqual(0); expect(v).toBeLessThanOrEqual(1); }
  });

  test('falls off monotonically from the centre outward', () => {
    const m = landmarkFaceMask(circle(64, 60, 45), S, S, 12);
    for (const [dx, dy] of [[1, 0], [-1, 0], [0, 1], [0, -1], [1, 1], [-1, 0.5]]) {
      let prev = 1;
      for (let t = 0; ; t++) {
        const x = Math.round(64 + dx * t), y = Math.round(60 + dy * t);
        if (x < 0 || y < 0 || x >= S || y >= S) break;
        expect(m[y * S + x]).toBeLessThanOrEqual(prev + 1e-6);
        prev = m[y * S + x];
      }
    }
  });

  test('the feather width scales with the value given', () => {
    const poly = circle(64, 64, 50);
    const w5 = ramp(landmarkFaceMask(poly, S, S, 5)), w10 = ramp(landmarkFaceMask(poly, S, S, 10)), w20 = ramp(landmarkFaceMask(poly, S, S, 20));
    expect(w5).toBeGreaterThanOrEqual(4);
    expect(w10 / w5).toBeGreaterThan(1.7); expect(w10 / w5).toBeLessThan(2.3);
    expect(w20 / w10).toBeGreaterThan(1.8); expect(w20 / w10).toBeLessThan(2.2);
  });

  test('fills a concave contour and either winding the same way; refuses bad sizes', () => {
    // a "C": the notch is outside
    const c: Point[] = [{ x: 10, y: 10 }, { x: 110, y: 10 }, { x: 110, y: 40 }, { x: 40, y: 40 }, { x: 40, y: 80 }, { x: 110, y: 80 }, { x: 110, y: 110 }, { x: 10, y: 110 }];
    const a = landmarkFaceMask(c, S, S, 4), b = landmarkFaceMask([...c].reverse(), S, S, 4);
    expect(Array.from(a)).toEqual(Array.from(b));
    expect(a[60 * S + 80]).toBe(0);
    expect(a[60 * S + 25]).toBe(1);
    expect(() => landmarkFaceMask(c, 0, 10, 4)).toThrow(/positive integers/);
    expect(() => landmarkFaceMask(c.slice(0, 2), 10, 10, 4)).toThrow(/three or more/);
  });
});

describe('face oval from the mesh', () => {
  test('FACE_OVAL is MediaPipe\'s 36-point oval, in order around the face', () => {
    expect(FACE_OVAL).toHaveLength(36);
    expect(new Set(FACE_OVAL).size).toBe(36);
    expect(FACE_OVAL[0]).toBe(10);
    expect(FACE_OVAL.indexOf(152)).toBe(18); // the chin, half-way round
    expect(FACE_OVAL.indexOf(397)).toBeLessThan(FACE_OVAL.indexOf(152));
    expect(FACE_OVAL.indexOf(172)).toBeGreaterThan(FACE_OVAL.indexOf(152));
    for (const i of FACE_OVAL) { expect(i).toBeGreaterThanOrEqual(0); expect(i).toBeLessThan(468); }
  });

  /** A synthetic mesh: the oval on an ellipse (forehead top up), rolled by `roll` radians. */
  const syntheticMesh = (roll = 0): Point[] => {
    const mesh: Point[] = Array.from({ length: 468 }, () => ({ x: 100, y: 100 }));
    FACE_OVAL.forEach((idx, k) => {
      const a = -Math.PI / 2 + (2 * Math.PI * k) / FACE_OVAL.length; // k = 0 at the top, clockwise on screen
      const x = 40 * Math.cos(a), y = 55 * Math.sin(a);
      mesh[idx] = { x: 100 + x * Math.cos(roll) - y * Math.sin(roll), y: 100 + x * Math.sin(roll) + y * Math.cos(roll) };
    });
    return mesh;
  };
  const area = (p: Point[]) => Math.abs(p.reduce((s, q, i) => { const r = p[(i + 1) % p.length]; return s + q.x * r.y - r.x * q.y; }, 0)) / 2;

  test('lifts the forehead, keeps the jaw, grows by the outset, at any roll', () => {
    for (const roll of [0, 0.5, -1.2]) {
      const mesh = syntheticMesh(roll);
      const plain = faceOvalContour(mesh, { foreheadLift: 0 });
      const lifted = faceOvalContour(mesh, { foreheadLift: 0.1 });
      const up = { x: Math.sin(roll), y: -Math.cos(roll) };
      // top point moves up by 0.1 x the oval height (110 px), the chin and jaw not at all
      expect((lifted[0].x - plain[0].x) * up.x + (lifted[0].y - plain[0].y) * up.y).toBeCloseTo(11, 5);
      for (const k of [9, 12, 18, 24, 27]) expect(lifted[k]).toEqual(plain[k]);
      const grown = faceOvalContour(mesh, { foreheadLift: 0, outset: 5 });
      // an ellipse 40 x 55 offset by 5: about pi(45*60) (a little more, mitred polygon)
      expect(area(grown) / area(plain)).toBeGreaterThan(1.18);
      expect(area(grown) / area(plain)).toBeLessThan(1.3);
    }
    expect(() => faceOvalContour(syntheticMesh().slice(0, 100))).toThrow(/468/);
  });

  test('the mask built from the contour is over half on the oval points with an outset of 0.6 x feather', () => {
    const mesh = syntheticMesh(0.3);
    const f = 12;
    const m = landmarkFaceMask(faceOvalContour(mesh, { outset: 0.6 * f, foreheadLift: 0 }), 200, 200, f);
    for (const i of FACE_OVAL) {
      const p = mesh[i];
      expect(m[Math.floor(p.y) * 200 + Math.floor(p.x)]).toBeGreaterThanOrEqual(0.5);
    }
  });

  test('mapPoints applies an affine; meshToAlignedCrop and its inverse cancel', () => {
    const m: Affine = [2, 0, 5, 0, 2, -3];
    expect(mapPoints([{ x: 1, y: 2 }], m)).toEqual([{ x: 7, y: 1 }]);
    const id = composeAffine(meshToAlignedCrop(192, 1.5), meshToAlignedCrop(192, 1.5, true));
    [1, 0, 0, 0, 1, 0].forEach((v, i) => expect(id[i]).toBeCloseTo(v, 9));
    // the crop's centre is fixed, its corner goes 1.5x as far out
    expect(mapPoints([{ x: 96, y: 96 }, { x: 0, y: 0 }], meshToAlignedCrop(192, 1.5))).toEqual([{ x: 96, y: 96 }, { x: -48, y: -48 }]);
  });
});
