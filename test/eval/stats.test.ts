/** Report figures (src/eval/stats.ts). */
import { pairSims, pct, rate, rateStr, table } from '../../src/eval/stats';

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
