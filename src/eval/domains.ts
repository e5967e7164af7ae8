/**
 * The domains a model changes between, as UTKFace labels them: training/domains.json, the file the
 * training recipe reads too (training/faceshift_train/data.py, tasks.py), so the two never differ.
 */
import * as fs from 'fs';
import * as path from 'path';
import type { LabelRow } from './dataset';

export type Attribute = 'gender' | 'race';

interface DomainsFile { labels: Record<Attribute, string[]>; domains: Record<Attribute, string[]>; adultAge: number }

/** training/domains.json (src/eval and build/eval both sit two levels below the repository). */
export const DOMAINS_FILE = path.resolve(__dirname, '..', '..', 'training', 'domains.json');

let cache: DomainsFile | null = null;
function file(): DomainsFile {
  cache ??= JSON.parse(fs.readFileSync(DOMAINS_FILE, 'utf8')) as DomainsFile;
  return cache;
}

/** A domain's attribute and its label value (its index in that attribute's labels). */
export function domainOf(name: string): { attribute: Attribute; value: number } {
  const f = file();
  for (const attribute of Object.keys(f.domains) as Attribute[]) {
    if (f.domains[attribute].includes(name)) return { attribute, value: f.labels[attribute].indexOf(name) };
  }
  const known = Object.values(f.domains).flat();
  throw new Error(`Unknown domain '${name}' in the manifest: expected one of ${known.join(', ')}.`);
}

/** Every label of an attribute, in code order (GEAR's race outputs are in this order too). */
export function labelNames(attribute: Attribute): string[] { return [...file().labels[attribute]]; }

/** The training recipe's filter: adults, colour photos. */
export function adultColour(it: Pick<LabelRow, 'age' | 'grayscale'>): boolean {
  return it.age >= file().adultAge && !it.grayscale;
}
