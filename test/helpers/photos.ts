/** The shared real test photos (../shared/photos) and their hand counts. */
import * as fs from 'fs';
import * as path from 'path';

export const SHARED = process.env.FACESHIFT_SHARED ?? path.resolve(__dirname, '..', '..', '..', 'shared');
export const PHOTOS = path.join(SHARED, 'photos');

export interface PhotoRow { id: string; file: string; width: number; height: number; faces: number; tags: string[] }

export function photoRows(): PhotoRow[] {
  const text = fs.readFileSync(path.join(PHOTOS, 'photos.csv'), 'utf8').trim().split('\n');
  const head = text[0].split(',');
  return text.slice(1).map((line) => {
    // fields may be quoted and hold commas
    const cells: string[] = [];
    let cur = '', q = false;
    for (const ch of line) {
      if (ch === '"') q = !q;
      else if (ch === ',' && !q) { cells.push(cur); cur = ''; } else cur += ch;
    }
    cells.push(cur);
    const o: Record<string, string> = {};
    head.forEach((h, i) => { o[h] = cells[i]; });
    return { id: o.id, file: path.join(PHOTOS, o.file), width: +o.width, height: +o.height, faces: +o.faces_estimate, tags: o.tags.split(';') };
  });
}

export function photo(id: string): string {
  const r = photoRows().find((p) => p.id === id);
  if (!r) throw new Error(`no test photo ${id}`);
  return r.file;
}
