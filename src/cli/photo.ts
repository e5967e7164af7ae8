/** Photo files for the command line: decoding with sharp, and a PhotoSource over the pixels. */
import sharp from 'sharp';
import { RGBAImage, cropRGBA } from '../core/image';
import type { Box } from '../core/geometry';
import type { PhotoSource } from '../engine/engine';
import { FaceShiftError } from '../core/errors';

export interface DecodedPhoto {
  image: RGBAImage;
  format: string;
  /** notes about conversions made while decoding (16-bit, CMYK, ...) */
  notes: string[];
}

/** Above this many pixels sharp refuses to decode (about 268 MP is its default; we keep a clear margin). */
export const MAX_PIXELS = 200_000_000;

/** The first line of a decoder message (libvips stacks several, e.g. four "bad seek" lines before the reason). */
function firstLine(msg: string): string {
  return msg.split(/\r?\n/).map((l) => l.trim()).filter(Boolean)[0] ?? msg;
}

const HEIC = /\.(heic|heif|hif)$/i;
const HEIC_MESSAGE = (file: string) => `${file} is a HEIC/HEIF photo, which this build cannot decode (no HEVC decoder). Convert it to JPEG or PNG first (e.g. Photos/Preview "Export", or heif-convert).`;

export async function decodePhoto(file: string): Promise<DecodedPhoto> {
  let meta: Awaited<ReturnType<ReturnType<typeof sharp>["metadata"]>>;
  try {
    meta = await sharp(file, { limitInputPixels: MAX_PIXELS }).metadata();
  } catch (e) {
    const msg = (e as Error).message;
    if (/pixel limit/i.test(msg)) throw new FaceShiftError('BAD_INPUT', `${file} is larger than ${MAX_PIXELS / 1e6} megapixels. Downscale it first.`);
    if (/permission denied|EACCES/i.test(msg)) throw new FaceShiftError('BAD_INPUT', `Could not read ${file}: permission denied. Check its permissions.`);
    if (HEIC.test(file) || /heif|hevc/i.test(msg)) throw new FaceShiftError('BAD_INPUT', HEIC_MESSAGE(file));
    throw new FaceShiftError('BAD_INPUT', `${file} is not a readable image (${firstLine(msg)}). Use a JPEG, PNG, WebP or TIFF photo.`);
  }
  if (meta.format === 'heif' && (meta.compression === 'hevc' || HEIC.test(file))) {
    // sharp's prebuilt libvips reads HEIF headers but has no HEVC decoder: say so in one line, not after four "bad seek" errors
    try { await sharp(file, { limitInputPixels: MAX_PIXELS }).raw().toBuffer(); } catch { throw new FaceShiftError('BAD_INPUT', HEIC_MESSAGE(file)); }
  }
  const notes: string[] = [];
  if (meta.depth && !['uchar', 'char'].includes(meta.depth)) notes.push(`${meta.depth === 'ushort' ? '16' : meta.depth}-bit image converted to 8 bits per channel`);
  if (meta.space && !['srgb', 'b-w', 'rgb16', 'grey16'].includes(meta.space)) notes.push(`${meta.space} colour converted to sRGB`);
  if (meta.orientation && meta.orientation > 1) notes.push(`EXIF orientation ${meta.orientation} applied`);
  try {
    // autoOrient: pixels as the photo is meant to be seen; toColourspace('srgb') + ensureAlpha: RGBA8 always.
    const { data, info } = await sharp(file, { limitInputPixels: MAX_PIXELS, autoOrient: true })
      .toColourspace('srgb').ensureAlpha().raw({ depth: 'uchar' }).toBuffer({ resolveWithObject: true });
    if (info.channels !== 4) throw new Error(`unexpected ${info.channels} channels after decoding`);
    return {
      image: { width: info.width, height: info.height, data: new Uint8ClampedArray(data.buffer, data.byteOffset, data.byteLength) },
      format: meta.format ?? 'unknown',
      notes,
    };
  } catch (e) {
    throw new FaceShiftError('BAD_INPUT', `${file} could not be decoded (${firstLine((e as Error).message)}). Re-save it as JPEG or PNG.`);
  }
}

/** The engine reads the photo through this: a downscaled copy for detection, full-resolution regions for faces. */
export class MemoryPhotoSource implements PhotoSource {
  constructor(private readonly image: RGBAImage) {}
  get width() { return this.image.width; }
  get height() { return this.image.height; }

  async readPreview(maxSide: number): Promise<RGBAImage> {
    const { width, height } = this.image;
    const k = Math.min(1, maxSide / Math.max(width, height));
    if (k === 1) return this.image;
    const w = Math.max(1, Math.round(width * k)), h = Math.max(1, Math.round(height * k));
    const data = await sharp(Buffer.from(this.image.data.buffer, this.image.data.byteOffset, this.image.data.byteLength),
      { raw: { width, height, channels: 4 }, limitInputPixels: false })
      .resize(w, h, { kernel: 'mitchell', fit: 'fill' }).raw().toBuffer();
    return { width: w, height: h, data: new Uint8ClampedArray(data.buffer, data.byteOffset, data.byteLength) };
  }

  async readRegion(box: Box): Promise<RGBAImage> {
    return cropRGBA(this.image, box.x, box.y, box.width, box.height);
  }
}
