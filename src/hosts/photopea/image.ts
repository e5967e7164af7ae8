/**
 * Pixels in the page: decode what Photopea exports, read it as the engine's PhotoSource, encode
 * the layer we send back. Canvas-based; colour management is switched off so pixels stay as sent.
 */
import { RGBAImage, cropRGBA } from '../../core/image';
import type { Box } from '../../core/geometry';
import type { PhotoSource } from '../../engine/engine';
import type { FaceLayer } from '../../core/layer';

function canvas(width: number, height: number): HTMLCanvasElement {
  const c = document.createElement('canvas');
  c.width = width; c.height = height;
  return c;
}

function context(c: HTMLCanvasElement): CanvasRenderingContext2D {
  const ctx = c.getContext('2d', { willReadFrequently: true });
  if (!ctx) throw new Error('This browser cannot create a 2D canvas.');
  return ctx;
}

/** Decode PNG/JPEG bytes to RGBA pixels (and keep the bitmap for fast previews). */
export async function decodeImage(bytes: ArrayBuffer, type = 'image/png'): Promise<{ image: RGBAImage; bitmap: ImageBitmap }> {
  let bitmap: ImageBitmap;
  try {
    bitmap = await createImageBitmap(new Blob([bytes], { type }), { premultiplyAlpha: 'none', colorSpaceConversion: 'none' });
  } catch (e) {
    throw new Error(`The image Photopea sent could not be decoded (${(e as Error).message}).`);
  }
  const c = canvas(bitmap.width, bitmap.height);
  const ctx = context(c);
  ctx.drawImage(bitmap, 0, 0);
  const data = ctx.getImageData(0, 0, bitmap.width, bitmap.height).data;
  return { image: { width: bitmap.width, height: bitmap.height, data }, bitmap };
}

/** The decoded document as the engine reads it: a canvas-scaled preview, regions cropped at full resolution. */
export class BitmapPhotoSource implements PhotoSource {
  constructor(private readonly image: RGBAImage, private readonly bitmap?: ImageBitmap) {}
  get width() { return this.image.width; }
  get height() { return this.image.height; }

  async readPreview(maxSide: number): Promise<RGBAImage> {
    const { width, height } = this.image;
    const k = Math.min(1, maxSide / Math.max(width, height));
    if (k === 1 || !this.bitmap) return this.image;
    const w = Math.max(1, Math.round(width * k)), h = Math.max(1, Math.round(height * k));
    const c = canvas(w, h);
    const ctx = context(c);
    ctx.imageSmoothingEnabled = true;
    ctx.imageSmoothingQuality = 'high';
    ctx.drawImage(this.bitmap, 0, 0, w, h);
    return { width: w, height: h, data: ctx.getImageData(0, 0, w, h).data };
  }

  async readRegion(box: Box): Promise<RGBAImage> {
    return cropRGBA(this.image, box.x, box.y, box.width, box.height);
  }
}

export async function encodePngDataUrl(img: RGBAImage): Promise<string> {
  const c = canvas(img.width, img.height);
  context(c).putImageData(new ImageData(new Uint8ClampedArray(img.data), img.width, img.height), 0, 0);
  const blob = await new Promise<Blob>((ok, fail) => c.toBlob((b) => (b ? ok(b) : fail(new Error('PNG encoding failed.'))), 'image/png'));
  return new Promise((ok, fail) => {
    const r = new FileReader();
    r.onload = () => ok(r.result as string);
    r.onerror = () => fail(r.error ?? new Error('PNG encoding failed.'));
    r.readAsDataURL(blob);
  });
}

/**
 * The two images the layer is sent as. Pixels: opaque everywhere (where no face was generated, the
 * photo's own pixels, hidden by the mask), so the layer's bounds are exactly its box. Mask: white,
 * its alpha the soft mask; the four corners are kept at least 1/255 so its bounds are the box too.
 */
export function layerImages(layer: FaceLayer, photo: RGBAImage): { pixels: RGBAImage; mask: RGBAImage } {
  const { box } = layer;
  const photoBox = cropRGBA(photo, box.x, box.y, box.width, box.height);
  const n = box.width * box.height;
  const px = new Uint8ClampedArray(layer.rgba.data);
  const mk = new Uint8ClampedArray(n * 4);
  for (let i = 0; i < n; i++) {
    if (px[i * 4 + 3] === 0) px.set(photoBox.data.subarray(i * 4, i * 4 + 3), i * 4);
    px[i * 4 + 3] = 255;
    mk[i * 4] = mk[i * 4 + 1] = mk[i * 4 + 2] = 255;
    mk[i * 4 + 3] = layer.mask.data[i];
  }
  for (const i of [0, box.width - 1, n - box.width, n - 1]) if (mk[i * 4 + 3] === 0) mk[i * 4 + 3] = 1;
  return { pixels: { width: box.width, height: box.height, data: px }, mask: { width: box.width, height: box.height, data: mk } };
}
