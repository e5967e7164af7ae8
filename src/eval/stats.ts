/** Figures and tables of the evaluation reports: rates with their 95 % interval, rounding, plain-text tables. Pure. */
import { cosineSimilarity, wilsonInterval } from '../core/metrics';

export const r4 = (x: number) => Math.round(x * 1e4) / 1e4;
export const r2 = (x: number) => Math.round(x * 100) / 100;

export interface Rate { rate: number; ci95: [number, number]; n: number }

/** The share of hits, with its Wilson 95 % interval. */
export function rate(hits: boolean[]): Rate {
  const k = hits.filter(Boolean).length;
  const [lo, hi] = wilsonInterval(k, hits.length);
  return { rate: r4(k / hits.length), ci95: [r4(lo), r4(hi)], n: hits.length };
}

/** Cosine similarities of all pairs (i < j) within `a`, or of all a x b pairs. */
export function pairSims(a: Float32Array[], b?: Float32Array[]): number[] {
  const s: number[] = [];
  if (b) { for (const x of a) for (const y of b) s.push(cosineSimilarity(x, y)); } else {
    for (let i = 0; i < a.length; i++) for (let j = i + 1; j < a.length; j++) s.push(cosineSimilarity(a[i], a[j]));
  }
  return s;
}

export const pct = (x: number) => `${(100 * x).toFixed(1)}%`;
export const rateStr = (r: Rate) => `${pct(r.rate)} [${(100 * r.ci95[0]).toFixed(0)}-${(100 * r.ci95[1]).toFixed(0)}]`;

/** Rows as a text table: the first column left-aligned, the others right-aligned, a rule under the header. */
export function table(rows: string[][]): string {
  const w = rows[0].map((_, c) => Math.max(...rows.map((r) => r[c].length)));
  return rows.map((r, k) => {
    const line = r.map((cell, c) => (c === 0 ? cell.padEnd(w[c]) : cell.padStart(w[c]))).join('  ');
    return k === 0 ? `${line}\n${w.map((x) => '-'.repeat(x)).join('  ')}` : line;
  }).join('\n');
}

/** One photo's verdict, as the composite report records it with --per-photo. */
export interface PhotoVerdict { file: string; flip: boolean }

/** Two verdict lists compared on the photos they share: photos only the first flips, only the second flips. */
export interface Paired { n: number; onlyFirst: number; onlySecond: number; p: number }

/**
 * Paired comparison of two evaluations on the same photos (matched by file): the discordant photos
 * and the exact two-sided McNemar p (binomial, 1/2, on the discordant pairs). Photos only one list
 * judged are left out.
 */
export function pairedFlips(a: PhotoVerdict[], b: PhotoVerdict[]): Paired {
  const second = new Map(b.map((x) => [x.file, x.flip]));
  let n = 0, onlyFirst = 0, onlySecond = 0;
  for (const { file, flip } of a) {
    const other = second.get(file);
    if (other === undefined) continue;
    n++;
    if (flip && !other) onlyFirst++;
    else if (other && !flip) onlySecond++;
  }
  const d = onlyFirst + onlySecond, k = Math.min(onlyFirst, onlySecond);
  // P(X <= k) for X ~ Binomial(d, 1/2), doubled
  let pmf = Math.pow(0.5, d), tail = 0;
  for (let i = 0; i <= k; i++) { tail += pmf; pmf *= (d - i) / (i + 1); }
  return { n, onlyFirst, onlySecond, p: r4(Math.min(1, 2 * tail)) };
}
