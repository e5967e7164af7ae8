import { createRGBA, RGBAImage } from '../../src/core/image';
import {
  Affine, Point, applyAffine, composeAffine, invertAffine, fitSimilarity, warpAffine, affineScale, affineRotation,
} from '../../src/core/geometry';
import { alignFace, AlignTemplate, KEYPOINT_NAMES } from '../../src/core/align';

/** Similarity: rotate by theta, scale by s, then translate. */
function similarity(theta: number, s: number, tx: number, ty: number): Affine {
  const c = Math.cos(theta) * s, n = Math.sin(theta) * s;
  return [c, -n, tx, n, c, ty];
}

describe('affine algebra', () => {
  const m = similarity(0.7, 1.8, 12.5, -40);
  const pts: Point[] = [{ x: 0, y: 0 }, { x: 10, y: 3 }, { x: -7, y: 22 }, { x: 100.25, y: 55.5 }];

  test('fitSimilarity recovers a known similarity', () => {
    const fit = fitSimilarity(pts, pts.map((p) => applyAffine(m, p)));
    fit.forEach((v, i) => expect(v).toBeCloseTo(m[i], 9));
    expect(affineScale(fit)).toBeCloseTo(1.8, 9);
    expect(affineRotation(fit)).toBeCloseTo(0.7, 9);
  });

  test('invert then apply is the identity, both ways', () => {
    const inv = invertAffine(m);
    for (const p of pts) {
      const q = applyAffine(inv, applyAffine(m, p));
      expect(q.x).toBeCloseTo(p.x, 9);
      expect(q.y).toBeCloseTo(p.y, 9);
    }
    const id = composeAffine(m, inv);
    [1, 0, 0, 0, 1, 0].forEach((v, i) => expect(id[i]).toBeCloseTo(v, 9));
  });

  test('composeAffine applies its second argument first', () => {
    const t: Affine = [1, 0, 5, 0, 1, 0];
    const s: Affine = [2, 0, 0, 0, 2, 0];
    expect(applyAffine(composeAffine(t, s), { x: 1, y: 1 })).toEqual({ x: 7, y: 2 });
  });

  test('a singular transform is refused', () => {
    expect(() => invertAffine([1, 2, 0, 2, 4, 0])).toThrow(/singular/);
  });
});

function gradientImage(w: number, h: number, f: (x: number, y: number) => number): RGBAImage {
  const img = createRGBA(w, h);
  for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) {
    const o = (y * w + x) * 4;
    img.data[o] = f(x, y); img.data[o + 1] = (x * 7 + y * 13) % 256; img.data[o + 2] = 255 - f(x, y); img.data[o + 3] = 255;
  }
  return img;
}

describe('warpAffine', () => {
  const N = 32;
  const src = gradientImage(N, N, (x, y) => 2 * x + 3 * y + 10);

  test('an integer translation copies pixels exactly, edges replicated', () => {
    // output (x, y) reads source (x + 3, y - 2)
    const out = warpAffine(src, [1, 0, 3, 0, 1, -2], N, N);
    for (let y = 0; y < N; y++) for (let x = 0; x < N; x++) {
      const sx = Math.min(N - 1, x + 3), sy = Math.max(0, y - 2);
      for (let c = 0; c < 4; c++) expect(out.data[(y * N + x) * 4 + c]).toBe(src.data[(sy * N + sx) * 4 + c]);
    }
  });

  test('a 90 degree rotation maps pixels exactly', () => {
    // u = y, v = N - x in continuous coords: output (x, y) reads source column y, row N-1-x
    const out = warpAffine(src, [0, 1, 0, -1, 0, N], N, N);
    for (let y = 0; y < N; y++) for (let x = 0; x < N; x++) {
      const s = ((N - 1 - x) * N + y) * 4;
      for (let c = 0; c < 4; c++) expect(out.data[(y * N + x) * 4 + c]).toBe(src.data[s + c]);
    }
  });

  test('a 30 degree rotation of a linear ramp samples the ramp at the mapped points', () => {
    // Bilinear interpolation reproduces a linear function exactly, so each interior output pixel
    // must equal the ramp evaluated where its centre maps to (up to rounding).
    const rot = composeAffine([1, 0, N / 2, 0, 1, N / 2], composeAffine(similarity(Math.PI / 6, 1, 0, 0), [1, 0, -N / 2, 0, 1, -N / 2]));
    const out = warpAffine(src, rot, N, N);
    let checked = 0;
    for (let y = 0; y < N; y++) for (let x = 0; x < N; x++) {
      const p = applyAffine(rot, { x: x + 0.5, y: y + 0.5 });
      const u = p.x - 0.5, v = p.y - 0.5;
      if (u < 0 || v < 0 || u > N - 1 || v > N - 1) continue;
      expect(Math.abs(out.data[(y * N + x) * 4] - (2 * u + 3 * v + 10))).toBeLessThanOrEqual(0.51);
      checked++;
    }
    expect(checked).toBeGreaterThan(N * N / 2);
  });
});

describe('alignFace', () => {
  const template: AlignTemplate = {
    id: 'test',
    keypoints: ['rightEye', 'leftEye', 'noseTip', 'mouthCenter'],
    points: [[0.35, 0.45], [0.65, 0.45], [0.5, 0.6], [0.5, 0.72]],
    weights: [1, 1, 1, 1],
  };
  const S = 128;

  /** Photo with Gaussian blobs: red at the right eye, green at the left eye, blue at the mouth. */
  function syntheticPhoto(cropToPhoto: Affine, w: number, h: number): { photo: RGBAImage; keypoints: Point[] } {
    const at = (fx: number, fy: number) => applyAffine(cropToPhoto, { x: fx * S, y: fy * S });
    const [re, le, nose, mouth] = template.points.map(([x, y]) => at(x, y));
    const keypoints: Point[] = KEYPOINT_NAMES.map((k) => ({ rightEye: re, leftEye: le, noseTip: nose, mouthCenter: mouth,
      rightEarTragion: at(0.1, 0.5), leftEarTragion: at(0.9, 0.5) })[k]);
    const photo = createRGBA(w, h);
    const sigma = 4 * affineScale(cropToPhoto);
    for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) {
      const o = (y * w + x) * 4;
      [re, le, mouth].forEach((p, c) => {
        const d2 = (x + 0.5 - p.x) ** 2 + (y + 0.5 - p.y) ** 2;
        photo.data[o + c] = 255 * Math.exp(-d2 / (2 * sigma * sigma));
      });
      photo.data[o + 3] = 255;
    }
    return { photo, keypoints };
  }

  /** Intensity-weighted centroid of one channel, in continuous pixel coordinates. */
  function centroid(img: RGBAImage, c: number): Point {
    let sx = 0, sy = 0, sw = 0;
    for (let y = 0; y < img.height; y++) for (let x = 0; x < img.width; x++) {
      const v = img.data[(y * img.width + x) * 4 + c];
      if (v < 8) continue; // ignore the far tails of the other blobs' quantisation
      sx += v * (x + 0.5); sy += v * (y + 0.5); sw += v;
    }
    return { x: sx / sw, y: sy / sw };
  }

  test('keypoints land on the template points and a face rolled 40 degrees comes out upright', () => {
    const cropToPhoto = similarity((40 * Math.PI) / 180, 1.7, 180, 40);
    const { photo, keypoints } = syntheticPhoto(cropToPhoto, 360, 360);
    const aligned = alignFace(photo, keypoints, template, S);
    expect(aligned.image.width).toBe(S);
    template.keypoints.forEach((k, i) => {
      const q = applyAffine(aligned.toCrop, keypoints[KEYPOINT_NAMES.indexOf(k)]);
      expect(Math.abs(q.x - template.points[i][0] * S)).toBeLessThan(0.5);
      expect(Math.abs(q.y - template.points[i][1] * S)).toBeLessThan(0.5);
    });
    // The pixels, not only the transform: the blobs are found where the template says.
    const right = centroid(aligned.image, 0), left = centroid(aligned.image, 1), mouth = centroid(aligned.image, 2);
    expect(Math.abs(right.x - 0.35 * S)).toBeLessThan(0.5);
    expect(Math.abs(left.x - 0.65 * S)).toBeLessThan(0.5);
    expect(Math.abs(right.y - 0.45 * S)).toBeLessThan(0.5);
    expect(Math.abs(left.y - right.y)).toBeLessThan(0.5); // upright: eyes level
    expect(Math.abs(mouth.x - 0.5 * S)).toBeLessThan(0.5);
    expect(Math.abs(mouth.y - 0.72 * S)).toBeLessThan(0.5);
    // fromCrop undoes toCrop
    const p = applyAffine(aligned.fromCrop, applyAffine(aligned.toCrop, { x: 33, y: 77 }));
    expect(p.x).toBeCloseTo(33, 9);
    expect(p.y).toBeCloseTo(77, 9);
  });
});
