/**
 * The layered PSD: the original untouched at the bottom, the faces above with a layer mask, and the
 * composite (what the document looks like) as the file's image data.
 *
 * Written to the file as it is encoded, row by row: ag-psd (which reads PSDs in the tests) builds
 * the whole file in one growing buffer, beside an 8-bytes-per-pixel scratch buffer and a copy of
 * the composite: 1.1 GB on a 24 MP photo, 2.7 GB on a 100 MP one. Here the memory is a write
 * buffer and one composite row; the composite is blended per row from the photo and the layer and
 * never held. Lengths that come before the data they count (channel lengths in the layer records,
 * section lengths, RLE row tables) are written as zeros and filled in once known.
 *
 * The bytes are exactly those ag-psd's writePsd writes for the same layers (test/cli/psd.test.ts
 * compares them), so anything that opened our files before opens these.
 */
import { promises as fsp } from 'fs';
import type { RGBAImage } from '../core/image';
import { FaceLayer, compositeRow, layerRow } from '../core/layer';
import { CancelSignal, throwIfCancelled } from '../core/errors';

export interface PsdContent {
  original: RGBAImage;
  originalName: string;
  faces: FaceLayer | null;
  facesName: string;
}

/** Photoshop's limit for a PSD's side; larger documents are PSB (large document format). */
const PSD_MAX_SIDE = 30000;
const RLE = 1;
const CHANNEL = { alpha: -1, mask: -2 } as const;

/**
 * One row of one channel, PackBits-compressed exactly as ag-psd's writeDataRLE does it (the same
 * runs and literals, so the same bytes): `n` values from `src[start]`, every `step`-th byte.
 * Returns the new end of `out`.
 */
export function packBitsRow(src: Uint8Array | Uint8ClampedArray, start: number, step: number, n: number, out: Uint8Array, o: number): number {
  const end = start + n * step;
  const lastIndex = start + (n - 1) * step;
  const lastIndex2 = lastIndex - step;
  for (let p = start; p < end; p += step) {
    if (p < lastIndex2) {
      let v1 = src[p]; p += step;
      let v2 = src[p]; p += step;
      let v3 = src[p];
      if (v1 === v2 && v1 === v3) {
        let count = 3;
        while (count < 128 && p < lastIndex && src[p + step] === v1) { count++; p += step; }
        out[o++] = 1 - count;
        out[o++] = v1;
      } else {
        const countIndex = o;
        let writeLast = true;
        let count = 1;
        out[o++] = 0;
        out[o++] = v1;
        while (p < lastIndex && count < 128) {
          p += step;
          v1 = v2; v2 = v3; v3 = src[p];
          if (v1 === v2 && v1 === v3) { p -= 3 * step; writeLast = false; break; }
          count++;
          out[o++] = v1;
        }
        if (writeLast) {
          if (count < 127) { out[o++] = v2; out[o++] = v3; count += 2; } else if (count < 128) { out[o++] = v2; count++; p -= step; } else p -= 2 * step;
        }
        out[countIndex] = count - 1;
      }
    } else if (p === lastIndex) {
      out[o++] = 0;
      out[o++] = src[p];
    } else { // p === lastIndex2
      out[o++] = 1;
      out[o++] = src[p]; p += step;
      out[o++] = src[p];
    }
  }
  return o;
}

/** Sequential writes through one buffer; numbers written now can be filled in later (`patch`). */
class FileWriter {
  private buf: Buffer;
  private used = 0;
  /** file position of buf[0] */
  private flushed = 0;

  constructor(private readonly fh: fsp.FileHandle, size: number, private readonly signal?: CancelSignal) {
    this.buf = Buffer.alloc(size);
  }

  get position(): number { return this.flushed + this.used; }

  async flush(): Promise<void> {
    throwIfCancelled(this.signal);
    let done = 0;
    while (done < this.used) done += (await this.fh.write(this.buf, done, this.used - done, this.flushed + done)).bytesWritten;
    this.flushed += this.used;
    this.used = 0;
  }

  /** Room for `n` more bytes in the buffer (flushing if needed); returns the buffer to write into at `at()`. */
  async room(n: number): Promise<Buffer> {
    if (this.used + n > this.buf.length) await this.flush();
    if (n > this.buf.length) throw new Error(`FileWriter: ${n} bytes do not fit a ${this.buf.length}-byte buffer`);
    return this.buf;
  }

  get at(): number { return this.used; }
  advanceTo(o: number): void { this.used = o; }

  async bytes(b: Uint8Array): Promise<void> {
    if (b.length > this.buf.length) { await this.flush(); await this.writeAt(this.flushed, b); this.flushed += b.length; return; }
    await this.room(b.length);
    this.buf.set(b, this.used);
    this.used += b.length;
  }

  u8(v: number) { return this.bytes(Uint8Array.of(v & 0xff)); }
  u16(v: number) { const b = Buffer.alloc(2); b.writeUInt16BE(v & 0xffff); return this.bytes(b); }
  i16(v: number) { const b = Buffer.alloc(2); b.writeInt16BE(v); return this.bytes(b); }
  u32(v: number) { const b = Buffer.alloc(4); b.writeUInt32BE(v >>> 0); return this.bytes(b); }
  i32(v: number) { const b = Buffer.alloc(4); b.writeInt32BE(v | 0); return this.bytes(b); }
  ascii(s: string) { return this.bytes(Buffer.from(s, 'latin1')); }
  zeros(n: number) { return this.bytes(new Uint8Array(n)); }

  /** Overwrite bytes already written at `pos` (in the buffer or in the file). */
  async patch(pos: number, b: Uint8Array): Promise<void> {
    if (pos >= this.flushed) { this.buf.set(b, pos - this.flushed); return; }
    if (pos + b.length > this.flushed) await this.flush();
    await this.writeAt(pos, b);
  }

  private async writeAt(pos: number, b: Uint8Array): Promise<void> {
    let done = 0;
    while (done < b.length) done += (await this.fh.write(b, done, b.length - done, pos + done)).bytesWritten;
  }
}

const u32be = (v: number) => { const b = Buffer.alloc(4); b.writeUInt32BE(v >>> 0); return b; };
/** A length field: 4 bytes, or 8 in a PSB. */
const lengthField = (v: number, large: boolean) => {
  if (!large) return u32be(v);
  const b = Buffer.alloc(8);
  b.writeUInt32BE(Math.floor(v / 2 ** 32)); b.writeUInt32BE(v >>> 0, 4);
  return b;
};

/** A channel's rows as the writer reads them: row y starts at src[start(y)], one value every `step` bytes. */
interface ChannelRows { id: number; width: number; height: number; rows: (y: number) => { src: Uint8Array | Uint8ClampedArray; start: number } ; step: number }

interface LayerPlan {
  name: string; top: number; left: number; width: number; height: number;
  channels: ChannelRows[];
  mask?: { top: number; left: number; width: number; height: number };
}

/** RGBA rows as four channels, in ag-psd's order: transparency first, then red, green, blue. */
function rgbaChannels(width: number, height: number, row: (y: number) => { src: Uint8Array | Uint8ClampedArray; start: number }): ChannelRows[] {
  return [[CHANNEL.alpha, 3], [0, 0], [1, 1], [2, 2]].map(([id, offset]) => ({
    id, width, height, step: 4,
    rows: (y: number) => { const r = row(y); return { src: r.src, start: r.start + offset }; },
  }));
}

/**
 * Write the layered PSD to `file` (created or truncated). Checks `signal` between chunks: a cancelled
 * write stops with CANCELLED and leaves a partial file for the caller to remove.
 */
export async function writePsd(file: string, c: PsdContent, signal?: CancelSignal): Promise<void> {
  const { width, height, data } = c.original;
  const large = width > PSD_MAX_SIDE || height > PSD_MAX_SIDE;
  const rowCount = large ? 4 : 2;

  // The composite's alpha is the photo's: any alpha below 255 makes a 4-channel composite (and a
  // negative layer count), and partly transparent pixels get ag-psd's white matte.
  let globalAlpha = false;
  const partial = new Uint8Array(height);
  for (let y = 0; y < height; y++) {
    const end = (y + 1) * width * 4;
    for (let i = y * width * 4 + 3; i < end; i += 4) {
      const a = data[i];
      if (a !== 255) { globalAlpha = true; if (a !== 0) { partial[y] = 1; break; } }
    }
  }

  const layers: LayerPlan[] = [{ name: c.originalName, top: 0, left: 0, width, height, channels: rgbaChannels(width, height, (y) => ({ src: data, start: y * width * 4 })) }];
  const faces = c.faces;
  if (faces) {
    // the faces' rows as the layer gives them: its whole box is never drawn for this
    const { box } = faces;
    layers.push({
      name: c.facesName, top: box.y, left: box.x, width: box.width, height: box.height,
      channels: [...rgbaChannels(box.width, box.height, (y) => ({ src: layerRow(faces, y).rgba, start: 0 })),
        { id: CHANNEL.mask, width: box.width, height: box.height, step: 1, rows: (y) => ({ src: layerRow(faces, y).mask, start: 0 }) }],
      mask: { top: box.y, left: box.x, width: box.width, height: box.height },
    });
  }

  const fh = await fsp.open(file, 'w');
  try {
    const maxWidth = Math.max(width, ...layers.map((l) => l.width));
    const w = new FileWriter(fh, Math.max(1 << 20, 2 * (maxWidth + Math.ceil(maxWidth / 64) + 8)), signal);

    // header
    await w.ascii('8BPS'); await w.u16(large ? 2 : 1); await w.zeros(6);
    await w.u16(globalAlpha ? 4 : 3); await w.u32(height); await w.u32(width);
    await w.u16(8); await w.u16(3); // 8 bits, RGB
    await w.u32(0); // colour mode data

    // image resources: layer groups (1026, all 0) and their enabled flags (1072, all 1), as ag-psd writes them
    const n = layers.length;
    const res = Buffer.concat([
      Buffer.from('8BIM'), Buffer.from([0x04, 0x02, 0, 0]), u32be(2 * n), Buffer.alloc(2 * n),
      Buffer.from('8BIM'), Buffer.from([0x04, 0x30, 0, 0]), u32be(n), Buffer.alloc(n, 1), Buffer.alloc(n % 2),
    ]);
    await w.u32(res.length); await w.bytes(res);

    // layer and mask information
    const layerAndMaskPos = w.position;
    await w.bytes(lengthField(0, large));
    const layerInfoPos = w.position;
    await w.bytes(lengthField(0, large));
    await w.i16(globalAlpha ? -n : n);
    const lengthPos: number[][] = [];
    for (const l of layers) {
      await w.i32(l.top); await w.i32(l.left); await w.i32(l.top + l.height); await w.i32(l.left + l.width);
      await w.u16(l.channels.length);
      const at: number[] = [];
      for (const ch of l.channels) {
        await w.i16(ch.id);
        at.push(w.position);
        await w.bytes(lengthField(0, large));
      }
      lengthPos.push(at);
      await w.ascii('8BIMnorm');
      await w.bytes(Uint8Array.of(255, 0, 0x08, 0)); // opacity, clipping, flags (bit 4 meaningful), filler
      await w.bytes(layerExtra(l));
    }
    for (const [i, l] of layers.entries()) {
      for (const [j, ch] of l.channels.entries()) {
        const start = w.position;
        await w.u16(RLE);
        await writeChannelRows(w, [ch], rowCount);
        await w.patch(lengthPos[i][j] + (large ? 4 : 0), u32be(w.position - start));
      }
    }
    let layerInfoLength = w.position - layerInfoPos - (large ? 8 : 4);
    if (layerInfoLength % 4) { await w.zeros(4 - (layerInfoLength % 4)); layerInfoLength += 4 - (layerInfoLength % 4); }
    await w.patch(layerInfoPos, lengthField(layerInfoLength, large));
    await w.u32(0); // global layer mask info
    await w.patch(layerAndMaskPos, lengthField(w.position - layerAndMaskPos - (large ? 8 : 4), large));

    // the composite, channel after channel, each row blended from the photo and the layer when needed
    const row = new Uint8ClampedArray(width * 4);
    let rowY = -1;
    const compositeRows = (y: number) => {
      const inLayer = !!c.faces && y >= c.faces.box.y && y < c.faces.box.y + c.faces.box.height;
      if (!inLayer && !partial[y]) return { src: data, start: y * width * 4 };
      if (rowY !== y) {
        compositeRow(c.original, c.faces, y, row);
        if (partial[y]) {
          // ag-psd's white matte on partly transparent pixels (truncated into bytes, as it does)
          for (let i = 0; i < row.length; i += 4) {
            const pa = row[i + 3];
            if (pa !== 0 && pa !== 255) {
              const a = pa / 255, ra = 255 * (1 - a);
              for (let k = 0; k < 3; k++) row[i + k] = Math.floor(row[i + k] * a + ra) & 0xff;
            }
          }
        }
        rowY = y;
      }
      return { src: row, start: 0 };
    };
    const offsets = globalAlpha ? [0, 1, 2, 3] : [0, 1, 2];
    await w.u16(RLE);
    await writeChannelRows(w, offsets.map((k) => ({
      id: k, width, height, step: 4, rows: (y: number) => { const r = compositeRows(y); return { src: r.src, start: r.start + k }; },
    })), rowCount);
    await w.flush();
  } finally {
    await fh.close();
  }
}

/** The layer record's extra data: mask rectangle, blending ranges (none), names (Pascal and Unicode). */
function layerExtra(l: LayerPlan): Buffer {
  const parts: Buffer[] = [];
  if (l.mask) {
    const m = Buffer.alloc(4 + 20);
    m.writeUInt32BE(20);
    m.writeInt32BE(l.mask.top, 4); m.writeInt32BE(l.mask.left, 8);
    m.writeInt32BE(l.mask.top + l.mask.height, 12); m.writeInt32BE(l.mask.left + l.mask.width, 16);
    // default colour 0 (hidden outside the mask's rectangle), flags 0, 2 bytes padding: already zero
    parts.push(m);
  } else parts.push(u32be(0));
  parts.push(u32be(0)); // blending ranges
  // Pascal name: at most 255 characters, non-ASCII as '?', padded (with its length byte) to 4
  const short = l.name.substring(0, 255);
  const pascal = Buffer.alloc(Math.ceil((short.length + 1) / 4) * 4);
  pascal[0] = short.length;
  for (let i = 0; i < short.length; i++) { const code = short.charCodeAt(i); pascal[1 + i] = code < 128 ? code : 0x3f; }
  parts.push(pascal);
  // 'luni': the full name in UTF-16, section padded to 4
  const uni = Buffer.alloc(Math.ceil((4 + 2 * l.name.length) / 4) * 4);
  uni.writeUInt32BE(l.name.length);
  for (let i = 0; i < l.name.length; i++) uni.writeUInt16BE(l.name.charCodeAt(i), 4 + 2 * i);
  parts.push(Buffer.from('8BIMluni'), u32be(uni.length), uni);
  const body = Buffer.concat(parts);
  return Buffer.concat([u32be(body.length), body]);
}

/**
 * RLE channel data as ag-psd lays it out: one table of every row's compressed length (for all the
 * given channels), then the rows, channel after channel. The table is filled in afterwards.
 */
async function writeChannelRows(w: FileWriter, channels: ChannelRows[], rowCount: number): Promise<void> {
  const height = channels[0].height;
  const table = Buffer.alloc(channels.length * height * rowCount);
  const tablePos = w.position;
  await w.bytes(table);
  let t = 0;
  for (const ch of channels) {
    const worst = ch.width + Math.ceil(ch.width / 64) + 8; // PackBits adds at most one byte per 128
    for (let y = 0; y < height; y++) {
      const buf = await w.room(worst);
      const { src, start } = ch.rows(y);
      const before = w.at;
      const after = packBitsRow(src, start, ch.step, ch.width, buf, before);
      w.advanceTo(after);
      if (rowCount === 4) table.writeUInt32BE(after - before, t); else table.writeUInt16BE(after - before, t);
      t += rowCount;
    }
  }
  await w.patch(tablePos, table);
}
