/**
 * Paste-back on real photos: the photo keeps its detail (new paste-back) where the old one replaced
 * it with the net's upscaled face, and the mask is face-shaped (the face mesh's oval, jaw included).
 */
import { createNodeEngine, nodeModelFiles, readManifest } from '../../src/platform/node';
import { loadNodeFaceMesh } from '../../src/runtime/landmarks.node';
import type { FaceMesh } from '../../src/runtime/landmarks';
import type { FaceEngine } from '../../src/engine/engine';
import { decodePhoto, MemoryPhotoSource } from '../../src/cli/photo';
import { facesToLayer, compositeLayer } from '../../src/core/layer';
import { detailKept } from '../../src/core/detail';
import { meshCropTransform } from '../../src/core/align';
import { invertAffine, warpAffine } from '../../src/core/geometry';
import { MESH_INDEX } from '../../src/core/mask';
import { photo } from '../helpers/photos';

let engine: FaceEngine;
let mesh: FaceMesh;
beforeAll(async () => {
  engine = await createNodeEngine();
  mesh = await loadNodeFaceMesh(nodeModelFiles(), readManifest());
});
afterAll(async () => { mesh?.dispose(); await engine?.dispose(); });

test('the new paste-back keeps the photo\'s fine detail; the old one kept about a fifth of it', async () => {
  const { image } = await decodePhoto(photo('wh_biden_official_2013'));
  const src = new MemoryPhotoSource(image);
  const faces = await engine.detect(src);
  const kept: Record<string, number> = {};
  for (const paste of ['detail', 'replace'] as const) {
    const r = await engine.run(src, { direction: 'male2female', paste }, faces);
    const layer = facesToLayer(r.faces.map((f) => f.patch))!;
    kept[paste] = detailKept(image, compositeLayer(image, layer), r.faces[0].face.box);
  }
  expect(kept.detail).toBeGreaterThanOrEqual(0.7);
  expect(kept.replace).toBeLessThan(0.4);
}, 120000);

test('the mask follows the face: jaw and cheeks in, background beside the face out', async () => {
  const { image } = await decodePhoto(photo('wh_obama_official_2012'));
  const src = new MemoryPhotoSource(image);
  const [face] = await engine.detect(src);
  const r = await engine.run(src, { direction: 'male2female', upscale: false }, [face]);
  const { box, mask } = r.faces[0].patch;
  // the face mesh's own landmarks of this face, in photo pixels
  const zoom = readManifest().landmarks!.input.crop.zoomOut;
  const toMesh = meshCropTransform(face.keypoints, engine.template, 192, zoom);
  const m = await mesh.mesh(warpAffine(image, invertAffine(toMesh), 192, 192));
  const toPhoto = invertAffine(toMesh);
  const at = (i: number) => {
    const p = m.points[i];
    const q = { x: toPhoto[0] * p.x + toPhoto[1] * p.y + toPhoto[2], y: toPhoto[3] * p.x + toPhoto[4] * p.y + toPhoto[5] };
    return mask.data[Math.round(q.y - box.y) * box.width + Math.round(q.x - box.x)] / 255;
  };
  // jaw angles and the lower jaw line, and the cheeks, are inside the mask
  const jaw = [MESH_INDEX.jawRight, MESH_INDEX.jawLeft, 136, 365, 234, 454];
  for (const i of jaw) expect(at(i)).toBeGreaterThanOrEqual(0.5);
  expect(at(MESH_INDEX.noseTip)).toBe(1);
  // the background beside the face, at the box's corners, is out
  expect(mask.data[0]).toBe(0);
  expect(mask.data[mask.data.length - 1]).toBe(0);
}, 120000);

test('where the forehead runs on past the crop\'s top, the change fades over it: no line across the forehead', async () => {
  const { image } = await decodePhoto(photo('wh_obama_official_2012'));
  const src = new MemoryPhotoSource(image);
  const [face] = await engine.detect(src);
  const r = await engine.run(src, { direction: 'male2female', upscale: false }, [face]);
  const { box, mask } = r.faces[0].patch;
  // down the middle of the face: from where the mask starts (the crop's top edge, on the forehead) to where it is full
  const x = Math.round(box.width / 2);
  const at = (y: number) => mask.data[y * box.width + x] / 255;
  let top = 0;
  while (top < box.height && at(top) <= 0.02) top++;
  let full = top;
  while (full < box.height && at(full) < 0.95) full++;
  expect(top).toBeLessThan(box.height * 0.1); // the mask does reach the crop's top here (a high forehead)
  // a fade over several percent of the face's height (a thin one showed as a line: 2 %)
  expect((full - top) / face.box.height).toBeGreaterThanOrEqual(0.06);
  // and the rest of the face is still fully in
  expect(at(Math.round(box.height * 0.5))).toBe(1);
}, 120000);
