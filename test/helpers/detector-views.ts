/**
 * Real detector views, as the engine makes them (256 px): a whole photo with margin, tiles,
 * close-ups, a turned view and a view with no face. Shared by test/runtime/detector.test.ts and
 * scripts/detector-parity.ts, so the parity script measures the views the test holds to.
 */
import { decodePhoto } from '../../src/cli/photo';
import { warpAffine } from '../../src/core/geometry';
import type { RGBAImage } from '../../src/core/image';
import { photo } from './photos';

export async function detectorViews(): Promise<RGBAImage[]> {
  const greenroom = (await decodePhoto(photo('wh_biden_obama_greenroom'))).image;
  const collins = (await decodePhoto(photo('nasa_astronaut_collins'))).image;
  const flotus = (await decodePhoto(photo('wh_flotus_tarmac_children'))).image;
  const cat = (await decodePhoto(photo('neg_cc0_chelsea_cat'))).image;
  // a square of `size` photo pixels at (x, y), turned by `angle` degrees about its centre, at 256 px
  const view = (img: RGBAImage, x: number, y: number, size: number, angle = 0) => {
    const s = size / 256, a = (angle * Math.PI) / 180, c = Math.cos(a) * s, sn = Math.sin(a) * s;
    const cx = x + size / 2, cy = y + size / 2;
    return warpAffine(img, [c, -sn, cx - c * 128 + sn * 128, sn, c, cy - sn * 128 - c * 128], 256, 256);
  };
  return [view(greenroom, -410, -666, 2868), view(greenroom, 448, 0, 640), view(greenroom, 896, 448, 640),
    view(collins, -102, -102, 716), view(collins, 120, 20, 300, 30), view(flotus, 896, 448, 640), view(flotus, 1408, 896, 640), view(cat, 0, 0, 300)];
}
