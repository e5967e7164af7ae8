/** PhotoSources for hosts that hand the engine only parts of a photo. Pure. */
import { RGBAImage, cropRGBA } from '../core/image';
import type { Box } from '../core/geometry';
import { FaceShiftError } from '../core/errors';
import type { PhotoSource } from './engine';

/** The photo's full-resolution pixels inside `box` (photo coordinates; the image is the box's size). */
export interface RegionPixels { box: Box; image: RGBAImage }

/**
 * A photo known only through a small preview and full-resolution regions (what the Photoshop
 * panel sends: `getPixels` with `targetSize`, then with `sourceBounds` per face).
 */
export class RegionPhotoSource implements PhotoSource {
  constructor(readonly width: number, readonly height: number,
    private readonly regions: RegionPixels[], private readonly preview?: RGBAImage) {
    for (const r of regions) {
      if (r.image.width !== r.box.width || r.image.height !== r.box.height) {
        throw new FaceShiftError('BAD_INPUT', `A region of ${r.image.width}x${r.image.height} pixels was sent for a ${r.box.width}x${r.box.height} box; send the pixels of exactly the box asked for.`);
      }
    }
  }

  async readPreview(_maxSide: number): Promise<RGBAImage> {
    if (!this.preview) throw new FaceShiftError('BAD_INPUT', 'No preview of the photo was sent; detection needs one.');
    return this.preview;
  }

  async readRegion(box: Box): Promise<RGBAImage> {
    const r = this.regions.find((g) => g.box.x <= box.x && g.box.y <= box.y
      && g.box.x + g.box.width >= box.x + box.width && g.box.y + g.box.height >= box.y + box.height);
    if (!r) throw new FaceShiftError('BAD_INPUT', `No pixels were sent for the region ${box.x},${box.y} ${box.width}x${box.height}; send the regions the engine asked for.`);
    return cropRGBA(r.image, box.x - r.box.x, box.y - r.box.y, box.width, box.height);
  }
}
