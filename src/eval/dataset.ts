/**
 * The training and evaluation data, one reader (and writer) per format:
 *   - UTKFace's labels.csv (file, age, gender, race, sharpness, grayscale), with the split;
 *   - the packs scripts/prepare-dataset.ts writes and training/faceshift_train/data.py reads:
 *     <name>.u8 (N x S x S x 3 uint8, NHWC RGB) and <name>.json (size, template, items with labels and split).
 * Node only (fs, crypto).
 */
import * as fs from 'fs';
import * as path from 'path';
import * as crypto from 'crypto';
import { RGBAImage, toRGBA } from '../core/image';

export interface LabelRow { file: string; age: number; gender: number; race: number; sharpness: number; grayscale: number }

/** A labelled photo with its split (every pack item is one). */
export interface PackItem extends LabelRow { split: 'train' | 'val' }

/** UTKFace's labels.csv (its lines end in CRLF); a row without numbers where they belong is refused. */
export function readLabels(dataset: string): LabelRow[] {
  const lines = fs.readFileSync(path.join(dataset, 'labels.csv'), 'utf8').trim().split(/\r?\n/);
  const head = lines[0].split(',').map((h) => h.trim());
  return lines.slice(1).map((l) => {
    const v = l.split(',');
    const o: Record<string, string> = {};
    head.forEach((h, i) => { o[h] = v[i]; });
    const r = { file: o.file, age: +o.age, gender: +o.gender, race: +o.race, sharpness: +o.sharpness, grayscale: +o.grayscale };
    if ([r.age, r.gender, r.race, r.grayscale].some((x) => !Number.isFinite(x))) throw new Error(`labels.csv: bad row "${l}"`);
    return r;
  });
}

/** Deterministic validation split: 5 % of files by hash, never trained on. */
export function splitOf(file: string): 'train' | 'val' {
  const h = crypto.createHash('sha1').update(file).digest().readUInt32BE(0);
  return h % 100 < 5 ? 'val' : 'train';
}

/** labels.csv with each photo's split. */
export function labelsWithSplit(dataset: string): PackItem[] {
  return readLabels(dataset).map((r) => ({ ...r, split: splitOf(r.file) }));
}

/**
 * Items of one split passing `keep`, at most `limit`, in a fixed order that does not follow the
 * file list's (UTKFace file names start with the age, so the first N would all be children).
 */
export function evalItems<T extends { file: string; split: 'train' | 'val' }>(items: T[], keep: (it: T) => boolean, limit: number, split: 'train' | 'val' = 'val'): T[] {
  const key = (it: T) => crypto.createHash('sha1').update('eval:' + it.file).digest('hex');
  return items.filter((it) => it.split === split && keep(it)).map((it) => ({ it, k: key(it) }))
    .sort((a, b) => (a.k < b.k ? -1 : 1)).slice(0, limit).map((x) => x.it);
}

export interface PackMeta { size: number; template?: string; layout?: string; items: PackItem[] }

const files = (dir: string, name: string) => ({ meta: path.join(dir, `${name}.json`), pixels: path.join(dir, `${name}.u8`) });

/** A pack, its crops read on demand (the packs are around a gigabyte; an evaluation needs a few hundred crops). */
export class Pack {
  private constructor(readonly name: string, readonly size: number, readonly items: PackItem[], private readonly fd: number) {}

  static load(dir: string, name: string): Pack {
    const f = files(dir, name);
    if (!fs.existsSync(f.meta) || !fs.existsSync(f.pixels)) {
      throw new Error(`${f.meta} or its .u8 is missing. Prepare the data first: tsx scripts/prepare-dataset.ts pack <dataset> (or pass --pack-dir).`);
    }
    const meta = JSON.parse(fs.readFileSync(f.meta, 'utf8')) as PackMeta;
    const want = meta.items.length * meta.size * meta.size * 3;
    const have = fs.statSync(f.pixels).size;
    if (have !== want) throw new Error(`${name}.u8 holds ${have} bytes, ${name}.json describes ${want}: rebuild the pack.`);
    return new Pack(name, meta.size, meta.items, fs.openSync(f.pixels, 'r'));
  }

  image(i: number): RGBAImage {
    const n = this.size * this.size * 3;
    const buf = Buffer.alloc(n);
    fs.readSync(this.fd, buf, 0, n, i * n);
    return toRGBA(buf, this.size, this.size, 3);
  }

  /** Indices of val items passing `keep`, at most `limit`, in evalItems' fixed order. */
  val(keep: (it: PackItem) => boolean, limit: number): number[] {
    const indexed = this.items.map((it, i) => ({ ...it, i }));
    return evalItems(indexed, keep, limit).map((x) => x.i);
  }

  close(): void { fs.closeSync(this.fd); }
}

/** Writes a pack: crops one after the other, then the description. */
export class PackWriter {
  private readonly fd: number;
  private n = 0;

  constructor(private readonly dir: string, private readonly name: string, readonly size: number) {
    this.fd = fs.openSync(files(dir, name).pixels, 'w');
  }

  /** One crop (size x size; alpha is dropped). */
  add(img: RGBAImage): void {
    if (img.width !== this.size || img.height !== this.size) throw new Error(`${this.name}: a ${img.width}x${img.height} crop in a ${this.size}-px pack.`);
    const rgb = Buffer.alloc(this.size * this.size * 3);
    for (let i = 0; i < this.size * this.size; i++) { rgb[i * 3] = img.data[i * 4]; rgb[i * 3 + 1] = img.data[i * 4 + 1]; rgb[i * 3 + 2] = img.data[i * 4 + 2]; }
    fs.writeSync(this.fd, rgb);
    this.n++;
  }

  /** The items, one per crop added, in order. */
  close(items: PackItem[], template: string): void {
    fs.closeSync(this.fd);
    if (items.length !== this.n) throw new Error(`${this.name}: ${this.n} crops but ${items.length} items.`);
    const meta: PackMeta = { size: this.size, template, layout: 'NHWC uint8 RGB', items };
    fs.writeFileSync(files(this.dir, this.name).meta, JSON.stringify(meta));
  }
}
