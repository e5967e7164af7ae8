/**
 * The composite evaluation runs end to end on a handful of validation photos: the whole pipeline
 * (detect, align, transform, upscale, paste, composite), then the judges on the composited photo.
 */
import * as fs from 'fs';
import * as path from 'path';
import { evaluateComposites } from '../../scripts/eval-composite';
import { MODELS_DIR } from '../../src/platform/node';
import { SHARED } from '../helpers/photos';

const DATASET = path.join(SHARED, 'datasets', 'utkface');

(fs.existsSync(DATASET) ? test : test.skip)('judges the composited photo beside the unchanged one, at two sizes', async () => {
  const rs = await evaluateComposites({
    models: MODELS_DIR, dataset: DATASET, limit: 3, scales: [1, 3], pastes: ['detail', 'replace'], directions: ['female2male'], log: () => undefined,
    perPhoto: true,
  });
  expect(rs).toHaveLength(4);
  for (const r of rs) {
    expect(r.n + r.missed).toBe(3);
    expect(r.n).toBeGreaterThanOrEqual(1);
    expect(r.judge).toBe('GEAR and FaceRes agree');
    for (const x of [r.flip.rate, r.flipNoOp.rate, r.realTarget.rate]) { expect(x).toBeGreaterThanOrEqual(0); expect(x).toBeLessThanOrEqual(1); }
    // the same person after the change: far above two different people (about 0.4)
    expect(r.identityMedian).toBeGreaterThan(0.6);
    expect(r.identityMedian).toBeLessThan(1);
    // a flip needs both gender judges: each judge alone calls at least as many faces the target
    expect(r.byJudge!.gear.rate).toBeGreaterThanOrEqual(r.flip.rate);
    expect(r.byJudge!.faceres.rate).toBeGreaterThanOrEqual(r.flip.rate);
    // one verdict per judged photo, the same photos for every paste at a size, adding up to the rate
    expect(r.photos).toHaveLength(r.n);
    expect(r.photos!.filter((p) => p.flip).length / r.n).toBeCloseTo(r.flip.rate, 6);
  }
  for (const scale of [1, 3]) {
    const [a, b] = rs.filter((r) => r.scale === scale);
    expect(a.photos!.map((p) => p.file)).toEqual(b.photos!.map((p) => p.file));
  }
}, 600000);
