/**
 * Face landmarks: the MediaPipe face mesh (468 points) on tfjs, on the same backend as the
 * detector (initTfjsWasm first), weights handed over in memory (no network). The net's contract
 * (input size and range, output names) is read from the manifest's `landmarks` entry.
 */
import * as tf from '@tensorflow/tfjs-core';
import { loadGraphModel, GraphModel } from '@tensorflow/tfjs-converter';
import type { RGBAImage } from '../core/image';
import { Point, warpAffine } from '../core/geometry';
import { LandmarksModel, Manifest, ModelFileError, ModelFiles } from '../models/manifest';
import { GraphModelWeights, memoryIOHandler, readGraphModelWeights } from './tfjs';

export interface FaceMeshResult {
  /** face-presence confidence, 0..1 */
  score: number;
  /** the 468 mesh landmarks (MediaPipe order), in the crop's pixel coordinates */
  points: Point[];
}

export interface FaceMesh {
  /**
   * Landmarks of the face in `crop`: a square RGBA image of an upright face, framed as the
   * manifest's `landmarks.input.crop` says (see meshCropTransform in core/mask.ts), any size.
   */
  mesh(crop: RGBAImage): Promise<FaceMeshResult>;
  dispose(): void;
}

/** The face mesh's model.json and weights, named by the manifest and verified against it. */
export function readLandmarksWeights(files: ModelFiles, manifest: Manifest): Promise<GraphModelWeights> {
  return readGraphModelWeights(files, landmarksEntry(manifest), 'landmarks');
}

export function landmarksEntry(manifest: Manifest): LandmarksModel {
  if (!manifest.landmarks) {
    throw new ModelFileError('models/manifest.json has no "landmarks" model, so face-shaped masks are unavailable. Restore models/ from the release or repository.');
  }
  return manifest.landmarks;
}

/** The graph's tensor name for a signature output key (e.g. "output_mesh" -> "Identity_2:0"). */
function outputName(weights: GraphModelWeights, key: string): string {
  const sig = weights.modelJson.signature as { outputs?: Record<string, { name?: string }> } | undefined;
  return sig?.outputs?.[key]?.name ?? key;
}

export class TfjsFaceMesh implements FaceMesh {
  private constructor(
    private readonly model: GraphModel,
    private readonly contract: LandmarksModel,
    private readonly outputs: [string, string],
  ) {}

  /** Load the graph from memory; the tfjs backend must already be initialised (initTfjsWasm). */
  static async load(weights: GraphModelWeights, contract: LandmarksModel): Promise<TfjsFaceMesh> {
    const model = await loadGraphModel(memoryIOHandler(weights));
    const outputs: [string, string] = [outputName(weights, contract.output.mesh), outputName(weights, contract.output.score)];
    return new TfjsFaceMesh(model, contract, outputs);
  }

  async mesh(crop: RGBAImage): Promise<FaceMeshResult> {
    const { size: S, range: [lo, hi] } = this.contract.input;
    if (crop.width < 1 || crop.height < 1) throw new Error('FaceMesh.mesh: the crop is empty.');
    const kx = crop.width / S, ky = crop.height / S;
    // warpAffine supersamples when it shrinks, so a large crop is averaged down, not aliased.
    const small = crop.width === S && crop.height === S ? crop : warpAffine(crop, [kx, 0, 0, 0, ky, 0], S, S);
    const input = new Float32Array(S * S * 3);
    const k = (hi - lo) / 255;
    for (let i = 0, n = S * S; i < n; i++) {
      input[i * 3] = small.data[i * 4] * k + lo;
      input[i * 3 + 1] = small.data[i * 4 + 1] * k + lo;
      input[i * 3 + 2] = small.data[i * 4 + 2] * k + lo;
    }
    const x = tf.tensor4d(input, [1, S, S, 3]);
    let out: tf.Tensor[] = [];
    try {
      out = this.model.execute(x, this.outputs) as tf.Tensor[];
      const [meshT, scoreT] = out;
      const n = this.contract.output.points;
      if (meshT.size !== n * 3 || scoreT.size !== 1) {
        throw new ModelFileError(`The landmarks model returned ${meshT.size} mesh values and ${scoreT.size} scores; the manifest promises ${n * 3} and 1.`);
      }
      const [mesh, score] = await Promise.all([meshT.data(), scoreT.data()]);
      const points: Point[] = new Array(n);
      for (let i = 0; i < n; i++) points[i] = { x: mesh[i * 3] * kx, y: mesh[i * 3 + 1] * ky };
      return { score: score[0], points };
    } finally {
      x.dispose();
      tf.dispose(out);
    }
  }

  dispose(): void { this.model.dispose(); }
}
