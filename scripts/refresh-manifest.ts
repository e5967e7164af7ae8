/**
 * Recompute sha256 and size of every file models/manifest.json names (template, detector,
 * nets, landmarks), creating the manifest's fixed part if it is missing. Run after replacing a file by hand:
 *   npx tsx scripts/refresh-manifest.ts
 */
import * as fs from 'fs';
import * as path from 'path';
import * as crypto from 'crypto';

const dir = path.join(__dirname, '..', 'models');
const file = path.join(dir, 'manifest.json');
const entry = (f: string) => {
  const b = fs.readFileSync(path.join(dir, f));
  return { file: f, sha256: crypto.createHash('sha256').update(b).digest('hex'), bytes: b.length };
};
const m = fs.existsSync(file) ? JSON.parse(fs.readFileSync(file, 'utf8')) : { version: 1, models: [] };
const tpl = JSON.parse(fs.readFileSync(path.join(dir, 'templates', 'utkface-v1.json'), 'utf8'));
const out = {
  version: 1,
  template: { id: tpl.id, ...entry('templates/utkface-v1.json') },
  // The detector's contract is kept as written; its files and the conversion's source are rehashed.
  detector: { ...m.detector, files: (m.detector.files as { file: string }[]).map((f) => entry(f.file)),
    convertedFrom: (m.detector.convertedFrom as { file: string }[]).map((f) => entry(f.file)) },
  // The landmarks entry's contract (input, output) is kept as written; only its files are rehashed.
  ...(m.landmarks ? { landmarks: { ...m.landmarks, files: (m.landmarks.files as { file: string }[]).map((f) => entry(f.file)) } } : {}),
  models: (m.models as { file: string }[]).map((e) => ({ ...e, ...entry(e.file) })),
};
fs.writeFileSync(file, JSON.stringify(out, null, 2) + '\n');
console.log(`manifest: ${out.models.length} nets, template ${out.template.id}, detector files ${out.detector.files.length}`);
