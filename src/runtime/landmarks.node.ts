/** Node glue for the face mesh: weights (verified against the manifest) from disk, the detector's tfjs WASM backend. */
import { initTfjsWasm } from './tfjs';
import { nodeTfjsWasmDir } from './tfjs.node';
import { FaceMesh, TfjsFaceMesh, landmarksEntry, readLandmarksWeights } from './landmarks';
import type { Manifest, ModelFiles } from '../models/manifest';

export async function loadNodeFaceMesh(files: ModelFiles, manifest: Manifest): Promise<FaceMesh> {
  const entry = landmarksEntry(manifest);
  await initTfjsWasm(nodeTfjsWasmDir());
  return TfjsFaceMesh.load(await readLandmarksWeights(files, manifest), entry);
}
