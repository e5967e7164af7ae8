/** The engine's tunables: one typed config, defaults merged with overrides and checked once (src/engine/config.ts). */
import { DEFAULT_CONFIG, engineConfig } from '../../src/engine/config';
import { previewMaxSide, smallestDetectableFace } from '../../src/engine/engine';

test('defaults: the values every shipped result was measured with', () => {
  const c = engineConfig();
  expect(c).toEqual(DEFAULT_CONFIG);
  expect(c.detect).toMatchObject({ previewMaxSide: 2048, viewSize: 256, minScore: 0.5, viewsPerCall: 4, closeUpFrom: 64, verifyCrops: [96], confidentScore: 0.85, maxKeypointShift: 0.1 });
  expect(c.mask).toMatchObject({ meshSize: 192, minMeshScore: 0.5, featherScale: 0.6, outset: 0.6 });
  expect([c.minFaceSize, c.previewSide]).toEqual([40, 192]);
  expect(Object.isFrozen(DEFAULT_CONFIG)).toBe(true);
});

test('a partial override keeps the other defaults', () => {
  const c = engineConfig({ detect: { minScore: 0.6 }, minFaceSize: 24 });
  expect(c.detect.minScore).toBe(0.6);
  expect(c.detect.viewSize).toBe(256);
  expect(c.minFaceSize).toBe(24);
  expect(c.mask).toEqual(DEFAULT_CONFIG.mask);
});

test('a value out of range is refused, naming the setting', () => {
  expect(() => engineConfig({ detect: { minScore: 2 } })).toThrow(/detect\.minScore must be between 0 and 1, got 2/);
  expect(() => engineConfig({ detect: { verifyCrops: [300] } })).toThrow(/detect\.verifyCrops/);
  expect(() => engineConfig({ previewSide: 0 })).toThrow(/previewSide must be a whole number above 0/);
  expect(() => engineConfig({ minFaceSize: 0 })).toThrow(/minFaceSize must be 1 or more/);
  expect(() => engineConfig({ detect: { viewSize: 64 } })).toThrow(/detect\.verifyCrops/);
  expect(() => engineConfig({ detect: { viewsPerCall: 0 } })).toThrow(/detect\.viewsPerCall must be a whole number above 0/);
  expect(() => engineConfig({ detect: { closeUpFrom: 0 } })).toThrow(/detect\.closeUpFrom must be above 0/);
});

test('what detection promises follows the configured sides', () => {
  expect(previewMaxSide(4000, 3000)).toBe(2048);
  expect(previewMaxSide(4000, 3000, 1024)).toBe(1024);
  // the detector's reach is in view pixels: a smaller view reaches fewer photo pixels
  expect(smallestDetectableFace(4000, 3000, { ...DEFAULT_CONFIG.detect, viewSize: 128 })).toBeGreaterThan(smallestDetectableFace(4000, 3000));
});
