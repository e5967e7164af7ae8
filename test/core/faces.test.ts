/** Face bookkeeping around the detector (pure): views, turned views, the second look's measures. */
import {
  DETECTOR_INPUT, DetectedFace, FINE_TILE, PLANNED_FACE, TILE, implausibility, keypointShift, mapDetection, paddedViews, planDetectionViews, rotatedViews,
  smallestFindableFace, viewReach, viewTransform,
} from '../../src/core/faces';
import { applyAffine } from '../../src/core/geometry';

const upright: DetectedFace = {
  score: 0.9,
  box: { x: 100, y: 100, width: 100, height: 100 },
  // right eye, left eye, nose tip, mouth, right ear, left ear (MediaPipe order)
  keypoints: [{ x: 130, y: 135 }, { x: 170, y: 135 }, { x: 150, y: 160 }, { x: 150, y: 180 }, { x: 105, y: 140 }, { x: 195, y: 140 }],
};

describe('detection views', () => {
  test('small photos get fine tiles, so 50-px faces reach the detector at 40 px (item 9)', () => {
    const views = planDetectionViews(600, 450);
    expect(views.filter((v) => v.size === FINE_TILE).length).toBeGreaterThanOrEqual(4);
    // every pixel is inside some fine tile
    for (const [x, y] of [[0, 0], [599, 449], [300, 225]]) {
      expect(views.some((v) => v.size === FINE_TILE && x >= v.x && x < v.x + v.size && y >= v.y && y < v.y + v.size)).toBe(true);
    }
    expect(smallestFindableFace(600, 450, 256)).toBeLessThanOrEqual(40);
  });

  test('a strip gets one row of fine tiles along its length; a large photo keeps its coarse tiles only', () => {
    const strip = planDetectionViews(17736, 177);
    expect(strip.filter((v) => v.size === FINE_TILE).length).toBeGreaterThan(17736 / FINE_TILE);
    const large = planDetectionViews(2048, 1536);
    expect(large.some((v) => v.size === FINE_TILE)).toBe(false);
    expect(smallestFindableFace(2048, 1536, 256)).toBe(60);
  });

  test('no tile is finer than the one that shows the smallest face that matters at its planned size (issue 15)', () => {
    const sizes: [number, number][] = [[600, 450], [910, 1137], [1024, 768], [1200, 1200], [2048, 1536], [17736, 177], [427, 240]];
    for (const [w, h] of sizes) {
      for (const minFace of [20, 40, 60, 100, 200]) {
        // a finer tile than this would add only faces below the minimum, which are skipped anyway
        for (const t of planDetectionViews(w, h, minFace).slice(1)) expect((minFace * DETECTOR_INPUT) / t.size).toBeLessThanOrEqual(PLANNED_FACE + 0.1);
        // ... and where fine tiles are affordable, small photos still reach the minimum
        if (Math.min(w, h) <= 1024 && minFace >= 40 && Math.max(w, h) > 1.25 * minFace * (DETECTOR_INPUT / PLANNED_FACE)) {
          expect(smallestFindableFace(w, h, DETECTOR_INPUT, minFace)).toBeLessThanOrEqual(minFace);
        }
      }
      // at the default minimum (40 px) the plan is the one before issue 15
      expect(planDetectionViews(w, h, 40)).toEqual(planDetectionViews(w, h));
    }
  });

  test('a larger minimum face needs fewer views', () => {
    expect(planDetectionViews(910, 1137, 60).length).toBeLessThan(planDetectionViews(910, 1137, 40).length);
    expect(planDetectionViews(2048, 1536, 100).length).toBeLessThan(planDetectionViews(2048, 1536, 40).length);
    expect(planDetectionViews(2048, 1536).slice(1).every((v) => v.size === TILE)).toBe(true);
    expect(planDetectionViews(600, 450).slice(1).some((v) => v.size === FINE_TILE)).toBe(true);
    // a view sampled smaller than the detector's input reaches no smaller faces than at the input's size
    expect(viewReach(640, 128)).toBeGreaterThan(viewReach(640, 192));
    expect(viewReach(640, 256)).toBe(viewReach(640, 192));
  });

  test('padded views give a tight headshot half a side of margin; turned views turn about their centre (items 6, 8)', () => {
    expect(paddedViews(200, 200)[0]).toEqual({ x: -100, y: -100, size: 400 });
    const [v] = rotatedViews(200, 200, 90);
    const m = viewTransform(v, 256);
    const centre = applyAffine(m, { x: 128, y: 128 });
    expect(centre.x).toBeCloseTo(100);
    expect(centre.y).toBeCloseTo(100);
    // the view's "up" (its top edge centre) is the photo's right side: a face lying with its top to the right is shown upright
    const top = applyAffine(m, { x: 128, y: 0 });
    expect(top.x).toBeGreaterThan(100);
    expect(top.y).toBeCloseTo(100);
    // unturned: the old square view
    expect(viewTransform({ x: -10, y: 20, size: 512 }, 256)).toEqual([2, -0, -10, 0, 2, 20]);
  });

  test('a detection seen in a turned view maps back with its keypoints and a bounding box', () => {
    const m = viewTransform({ x: 0, y: 0, size: 256, angle: 90 }, 256);
    const f = mapDetection(upright, m);
    expect(f.keypoints[0]).toEqual(applyAffine(m, upright.keypoints[0]));
    expect(f.box.width).toBeCloseTo(100);
    expect(f.box.height).toBeCloseTo(100);
  });
});

describe('the second look', () => {
  test('face geometry: an upright or tilted face is plausible; keypoints on a face lying on its side are not (items 7, 8)', () => {
    expect(implausibility(upright.keypoints, upright.box)).toBeNull();
    // the same face rolled 40 degrees about its centre
    const c = { x: 150, y: 150 }, a = (40 * Math.PI) / 180;
    const roll = (p: { x: number; y: number }) => ({
      x: c.x + (p.x - c.x) * Math.cos(a) - (p.y - c.y) * Math.sin(a), y: c.y + (p.x - c.x) * Math.sin(a) + (p.y - c.y) * Math.cos(a),
    });
    expect(implausibility(upright.keypoints.map(roll), upright.box)).toBeNull();
    // both eyes on one vertical line with the "mouth" beside them (nasa_exp23_launch_day's profile)
    const stacked = [{ x: 852, y: 554 }, { x: 852, y: 536 }, { x: 901, y: 584 }, { x: 871, y: 631 }, { x: 706, y: 567 }, { x: 785, y: 539 }];
    expect(implausibility(stacked, { x: 732, y: 484, width: 220, height: 220 })).not.toBeNull();
  });

  test('keypoint shift: the same keypoints agree; a face found elsewhere does not', () => {
    const kp = upright.keypoints;
    expect(keypointShift(kp.map((p) => ({ x: p.x + 80, y: p.y + 80 })), kp, 96, 80)).toBeCloseTo(0);
    expect(keypointShift(kp.map((p) => ({ x: p.x + 30, y: p.y })), kp, 96)).toBeGreaterThan(0.1);
  });
});
