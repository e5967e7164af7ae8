/** Report figures (src/eval/stats.ts). */
import { pairedFlips, pairSims, pct, rate, rateStr, table } from '../../src/eval/stats';

test('a rate with its Wilson interval, rounded to 4 places', () => {
  const r = rate([true, true, false, true]);
  expect(r.rate).toBe(0.75);
  expect(r.n).toBe(4);
  expect(r.ci95[0]).toBeLessThan(0.75);
  expect(r.ci95[1]).toBeGreaterThan(0.75);
  expect(rateStr(r)).toMatch(/^75\.0% \[\d+-\d+\]$/);
  expect(pct(0.1234)).toBe('12.3%');
});

test('pair similarities: within one set, or across two', () => {
  const a = [Float32Array.from([1, 0]), Float32Array.from([0, 1]), Float32Array.from([1, 1])];
  expect(pairSims(a)).toHaveLength(3);
  expect(pairSims(a, [Float32Array.from([1, 0])]).map((x) => +x.toFixed(3))).toEqual([1, 0, 0.707]);
});

test('a text table: first column left, the rest right, a rule under the header', () => {
  expect(table([['model', 'n'], ['a', '10'], ['bbb', '7']])).toBe('model   n\n-----  --\na      10\nbbb     7');
});

test('paired flips: the discordant photos of two evaluations on the same photos, with the exact McNemar p', () => {
  const v = (flips: string) => [...flips].map((c, i) => ({ file: `p${i}.jpg`, flip: c === '1' }));
  // five photos only the second flips, none only the first: p = 2 / 2^5
  expect(pairedFlips(v('1111100000'), v('1111111111'))).toEqual({ n: 10, onlyFirst: 0, onlySecond: 5, p: 0.0625 });
  // the same rate from different photos is not the same verdicts: 2 vs 2, p = 1
  expect(pairedFlips(v('1100'), v('0011'))).toEqual({ n: 4, onlyFirst: 2, onlySecond: 2, p: 1 });
  // 1 vs 9: p = 2 * (1 + 10) / 2^10
  expect(pairedFlips(v('1000000000'), v('0111111111')).p).toBeCloseTo(22 / 1024, 4);
  // photos only one side judged are left out; identical verdicts differ nowhere
  expect(pairedFlips(v('101'), v('10'))).toEqual({ n: 2, onlyFirst: 0, onlySecond: 0, p: 1 });
});
