/**
 * The crop a run is framed on follows the chosen direction's model (it once followed the first
 * transform model of the manifest, whatever the direction). The shipped models all take 128 px,
 * so this runs the shipped female2male model from a manifest variant that says it takes 256 px
 * (the generators are fully convolutional, exported with dynamic spatial axes), while
 * male2female, listed first, still takes 128.
 */
import { FaceEngine } from '../../src/engine/engine';
import { TransformModel, cropSizeFor, validateManifest } from '../../src/models/manifest';
import { nodeModelFiles, readManifest } from '../../src/platform/node';
import { OrtNodeRuntime } from '../../src/runtime/onnx.node';
import { loadNodeDetector } from '../../src/runtime/detector.node';
import { loadNodeFaceMesh } from '../../src/runtime/landmarks.node';
import { applyAffine } from '../../src/core/geometry';
import { MemoryPhotoSource, decodePhoto } from '../../src/cli/photo';
import { photo } from '../helpers/photos';

/** The shipped manifest with female2male's model declared at `size` px (same file, same hash). */
function variant(size: number) {
  const m = JSON.parse(JSON.stringify(readManifest()));
  const e = m.models.find((x: TransformModel) => x.direction === 'female2male');
  e.input.size = size;
  e.output.size = size;
  if (e.attention) e.attention.size = size;
  return validateManifest(m);
}

describe('the crop follows the chosen model', () => {
  test('cropSizeFor reads the direction\'s own entry, not the first transform model', () => {
    const m = variant(256);
    const first = m.models.find((x): x is TransformModel => x.task === 'transform')!;
    expect(first.direction).toBe('male2female');
    expect(cropSizeFor(m, 'male2female')).toBe(128);
    expect(cropSizeFor(m, 'female2male')).toBe(256);
  });

  test('the engine aligns, regions and pastes at the chosen model\'s size', async () => {
    const manifest = variant(256);
    const files = nodeModelFiles();
    const engine = await FaceEngine.create({
      manifest, files, runtime: new OrtNodeRuntime(1),
      detector: await loadNodeDetector(files, manifest), landmarks: await loadNodeFaceMesh(files, manifest),
    });
    try {
      expect(engine.cropSize('female2male')).toBe(256);
      expect(engine.cropSize('male2female')).toBe(128);
      const image = (await decodePhoto(photo('nasa_astronaut_collins'))).image;
      const src = new MemoryPhotoSource(image);
      const faces = await engine.detect(src);
      expect(faces).toHaveLength(1);
      // the region a face's crop reads covers the same part of the photo at either size
      const a = engine.regionFor(faces[0], src, 'female2male'), b = engine.regionFor(faces[0], src, 'male2female');
      for (const k of ['x', 'y', 'width', 'height'] as const) expect(Math.abs(a[k] - b[k])).toBeLessThanOrEqual(2);

      const r = await engine.run(src, { direction: 'female2male', upscale: false }, faces);
      expect(r.faces).toHaveLength(1);
      const f = r.faces[0];
      expect(f.cropSize).toBe(256);
      // crop -> photo: the template's eyes, at 256 px, land on the detected eyes
      for (const i of [0, 1]) {
        const [tx, ty] = engine.template.points[i];
        const p = applyAffine(f.fromCrop, { x: tx * 256, y: ty * 256 });
        const k = faces[0].keypoints[i];
        expect(Math.hypot(p.x - k.x, p.y - k.y)).toBeLessThan(0.05 * faces[0].box.width);
      }
      // the net's 256-px answer was pasted: a whole mask, and the face changed
      expect(Math.max(...f.patch.mask.data)).toBe(255);
    } finally {
      await engine.dispose();
    }
  });
});
