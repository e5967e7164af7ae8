/** Faces described the way a retoucher would say it. */
import { DetectedFace, describeFaces } from '../../src/core/faces';

const face = (x: number, y: number, size: number): DetectedFace => ({ score: 0.9, box: { x, y, width: size, height: size }, keypoints: [] });
const photo = { width: 1200, height: 800 };

test('place by thirds and size against the photo, in the order given', () => {
  expect(describeFaces([face(100, 300, 300), face(550, 350, 120), face(1000, 300, 50)], photo, 40))
    .toEqual(['Face 1 (left), large', 'Face 2 (centre), medium', 'Face 3 (right), small']);
});

test('two faces on the same side get their row; faces below the minimum say so', () => {
  expect(describeFaces([face(100, 50, 100), face(120, 600, 30)], photo, 40))
    .toEqual(['Face 1 (top left), medium', 'Face 2 (bottom left), too small to change']);
  expect(describeFaces([face(560, 600, 200)], photo)).toEqual(['Face 1 (centre), medium']);
});
