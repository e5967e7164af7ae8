/**
 * The composite evaluation runs end to end on a handful of validation photos: the whole pipeline
 * (detect, align, transform, upscale, paste, composite), then the judges on the composited photo.
 */
import * as fs from 'fs';
import * as path from 'path';
import { CompositeResult, evaluateComposites, pairedComparisons } from '../../scripts/eval-composite';
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

test('paired comparisons: each paste against the first at its size, and each result against an earlier report', () => {
  const res = (model: string, scale: number, paste: string, flips: string) => ({
    direction: 'male2female', model, scale, paste, color: 'model (tone)', split: 'val',
    photos: [...flips].map((c, i) => ({ file: `p${i}.jpg`, flip: c === '1' })),
  }) as unknown as CompositeResult;
  const now = [res('v11', 1, 'detail', '1110'), res('v11', 1, 'replace', '1111'), res('v11', 3, 'detail', '1100')];
  const before = [res('v10', 1, 'detail', '0000'), res('v10', 3, 'replace', '1111')];
  const rows = pairedComparisons(now, before);
  expect(rows.map((r) => [r.scale, r.first, r.second, r.onlyFirst, r.onlySecond])).toEqual([
    [1, 'v11 replace model (tone)', 'v11 detail model (tone)', 1, 0],
    // against the earlier report: only the same paste at the same size (x3 detail has no partner there)
    [1, 'v11 detail model (tone)', 'v10 detail model (tone)', 3, 0],
  ]);
  expect(rows[1].p).toBe(0.25);
  // results without per-photo verdicts are not compared
  expect(pairedComparisons(now.map((r) => ({ ...r, photos: undefined })), before)).toEqual([]);
});
