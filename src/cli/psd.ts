/** Layered PSD output with ag-psd: the original untouched at the bottom, the faces above with a layer mask. */
import { writePsdBuffer, Psd, Layer } from 'ag-psd';
import type { RGBAImage } from '../core/image';
import type { FaceLayer } from '../core/layer';

export interface PsdContent {
  original: RGBAImage;
  originalName: string;
  faces: FaceLayer | null;
  facesName: string;
  /** what the document looks like (original + faces); stored as the PSD's composite image */
  composite: RGBAImage;
}

export function buildPsd(c: PsdContent): Buffer {
  const { width, height } = c.original;
  const children: Layer[] = [{
    name: c.originalName, top: 0, left: 0, bottom: height, right: width,
    imageData: { width, height, data: c.original.data },
  }];
  if (c.faces) {
    const { box, rgba, mask } = c.faces;
    // ag-psd takes a mask as RGBA image data and reads its first channel
    const m = new Uint8ClampedArray(box.width * box.height * 4);
    for (let i = 0; i < box.width * box.height; i++) { m[i * 4] = m[i * 4 + 1] = m[i * 4 + 2] = mask.data[i]; m[i * 4 + 3] = 255; }
    children.push({
      name: c.facesName, top: box.y, left: box.x, bottom: box.y + box.height, right: box.x + box.width,
      imageData: { width: box.width, height: box.height, data: rgba.data },
      mask: {
        top: box.y, left: box.x, bottom: box.y + box.height, right: box.x + box.width,
        defaultColor: 0, // hidden outside the mask's rectangle
        imageData: { width: box.width, height: box.height, data: m },
      },
    });
  }
  const psd: Psd = { width, height, children, imageData: { width, height, data: c.composite.data } };
  return writePsdBuffer(psd, { noBackground: true, psb: width > 30000 || height > 30000 });
}
