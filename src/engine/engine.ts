/**
 * The engine: detect -> align -> transform -> upscale -> paste. Host-agnostic: it reads pixels
 * through a PhotoSource, runs nets through a NetRuntime, and returns per-face patches (pixels,
 * soft mask, place in the photo). It never modifies or returns a whole photo.
 */
import { RGBAImage, toPlanar, fromPlanar, resizeArea } from '../core/image';
import { Affine, Box, affineScale, applyAffine, composeAffine, invertAffine, transformedBounds, warpAffine, warpGray } from '../core/geometry';
import { AlignTemplate, alignFace, alignmentTransform, meshCropTransform, meshToAlignedCrop } from '../core/align';
import { faceMask, faceOvalContour, featherForFace, landmarkFaceMask, mapPoints } from '../core/mask';
import type { FaceMesh } from '../runtime/landmarks';
import { FacePatch, MAX_STRENGTH, pasteBack } from '../core/blend';
import type { ColorPolicy } from '../core/color';
import {
  DetectedFace, DetectionView, FaceSelection, CONFIDENT_SCORE, MAX_KEYPOINT_SHIFT, implausibility, mapDetection, mergeDetections, paddedViews, planDetectionViews,
  rotatedViews, selectFaces, faceSize, orderFaces, smallestFindableFace, keypointShift, viewTransform,
} from '../core/faces';
import {
  Manifest, ModelFiles, TransformModel, UpscaleModel, findTransform, findUpscaler, listDirections, loadTemplate, readVerified, validateManifest,
} from '../models/manifest';
import type { Net, NetRuntime } from '../runtime/net';
import type { RawDetection } from '../runtime/detector';
import { FaceShiftError, throwIfAborted } from './errors';

/** Where the engine reads pixels from. Hosts implement it (file, Photoshop layer, Photopea export). */
export interface PhotoSource {
  readonly width: number;
  readonly height: number;
  /** A downscaled copy whose longer side is at most maxSide (never upscaled). */
  readPreview(maxSide: number): Promise<RGBAImage>;
  /** Full-resolution pixels of a rectangle that lies inside the photo. */
  readRegion(box: Box): Promise<RGBAImage>;
}

export interface FaceDetectorLike { detect(image: RGBAImage): Promise<RawDetection[]> }

export type Stage = 'detect' | 'align' | 'transform' | 'upscale' | 'paste';

export interface Progress { stage: Stage; face: number; faces: number; fraction: number }

export interface TransformOptions {
  direction: string;
  /** 0..1.5 (MAX_STRENGTH): how much of the change shows; above 1 the change is extrapolated. */
  strength?: number;
  /**
   * 'detail' (default): the photo keeps its detail and takes the net's change (core/detail.ts);
   * 'replace': the net's upscaled face replaces the photo under the mask (releases up to 0.1).
   */
  paste?: 'detail' | 'replace';
  faces?: FaceSelection;
  upscale?: boolean;
  /** Faces smaller than this (box side, photo pixels) are skipped and reported. */
  minFaceSize?: number;
  /**
   * The user's switch for colour matching: false pastes the net's colours as they are ('none');
   * true or unset uses the model's measured policy (manifest `colorPolicy`), or 'reinhard' where that is 'none'.
   */
  colorMatch?: boolean;
  /** A colour policy that overrides both (the evaluation compares them). */
  colorPolicy?: ColorPolicy;
  signal?: AbortSignal;
  onProgress?: (p: Progress) => void;
}

export interface FaceResult {
  face: DetectedFace;
  patch: FacePatch;
  /** crop -> photo transform of the aligned crop (crop of the model's input size) */
  fromCrop: Affine;
}

export interface SkippedFace { face: DetectedFace; reason: string }

export interface RunReport {
  direction: string;
  model: string;
  upscaler: string | null;
  runtime: string;
  faces: FaceResult[];
  skipped: SkippedFace[];
  detected: DetectedFace[];
  /** milliseconds per stage, summed over faces */
  timings: Record<Stage, number>;
}

export const DEFAULT_MIN_FACE_SIZE = 40;
export const PREVIEW_MAX_SIDE = 2048;
const VIEW_SIZE = 256;
/** Side of the aligned crop inside the second look's 256-px view: the face at about the size the close-up shows it. */
const VERIFY_CROPS = [96];

/**
 * Longer side of the copy detection runs on: 2048 for a 4:3 photo (about 3 megapixels); a
 * panorama or strip keeps as many pixels, so its faces are not shrunk out of reach.
 */
export function previewMaxSide(width: number, height: number): number {
  const long = Math.max(width, height), short = Math.max(1, Math.min(width, height));
  const budget = PREVIEW_MAX_SIDE * PREVIEW_MAX_SIDE * 0.75;
  return Math.max(PREVIEW_MAX_SIDE, Math.min(long, Math.floor(Math.sqrt(budget * long / short))));
}

/** The smallest face (photo pixels) detection finds reliably in a photo of this size. */
export function smallestDetectableFace(width: number, height: number): number {
  const k = Math.max(1, Math.max(width, height) / previewMaxSide(width, height));
  return Math.ceil(smallestFindableFace(Math.round(width / k), Math.round(height / k), VIEW_SIZE) * k);
}

const now = () => (typeof performance !== 'undefined' ? performance.now() : Date.now());

export class FaceEngine {
  private nets = new Map<string, Promise<Net>>();

  private constructor(
    readonly manifest: Manifest,
    readonly template: AlignTemplate,
    private readonly files: ModelFiles,
    private readonly runtime: NetRuntime,
    private readonly detector: FaceDetectorLike,
    private readonly landmarks?: FaceMesh,
  ) {}

  /** `landmarks` (the face mesh) gives face-shaped paste-back masks; without it the mask is a rounded box. */
  static async create(deps: { manifest: unknown; files: ModelFiles; runtime: NetRuntime; detector: FaceDetectorLike; landmarks?: FaceMesh }): Promise<FaceEngine> {
    const manifest = validateManifest(deps.manifest);
    const template = await loadTemplate(deps.files, manifest);
    return new FaceEngine(manifest, template, deps.files, deps.runtime, deps.detector, deps.landmarks);
  }

  /**
   * The paste-back mask of a face (square, at the crop's size or the face's if smaller): the face mesh's
   * oval (forehead to chin, jaw included, no background), kept off the crop's padded border; the
   * rounded box when there is no mesh or it does not see a face (score below 0.5).
   */
  private async pasteMask(region: RGBAImage, regionBox: Box, face: DetectedFace, faceSide: number): Promise<Float32Array> {
    const zoom = this.manifest.landmarks?.input.crop?.zoomOut;
    // the mask is smooth: built at the crop's size at most, paste-back resamples it into the photo
    const side = Math.min(faceSide, this.cropSize());
    if (!this.landmarks || !zoom) return faceMask(side);
    const M = 192;
    // the mesh looks at more of the photo than the net's crop (zoomed out): regionFor() covers it
    const toMesh = meshCropTransform(face.keypoints, this.template, M, zoom);
    // 3x3 samples a pixel at most: the mesh needs the face's shape, not its finest detail (a portrait's
    // face would otherwise cost up to 64 samples a pixel)
    const crop = warpAffine(region, composeAffine([1, 0, -regionBox.x, 0, 1, -regionBox.y], invertAffine(toMesh)), M, M, 3);
    const { score, points } = await this.landmarks.mesh(crop);
    if (!(score >= 0.5)) return faceMask(side);
    const k = side / M;
    const toSide = composeAffine([k, 0, 0, 0, k, 0], meshToAlignedCrop(M, zoom));
    const feather = featherForFace(side * 0.6);
    const oval = landmarkFaceMask(faceOvalContour(mapPoints(points, toSide), { outset: 0.6 * feather }), side, side, feather);
    // the net answers poorly in the last pixels of its crop (and a crop past the photo edge is padding): a thin border fade
    const f = side / 48, inset = side / 256;
    for (let y = 0; y < side; y++) {
      for (let x = 0; x < side; x++) {
        const edge = Math.min(x + 0.5, y + 0.5, side - x - 0.5, side - y - 0.5) - inset;
        const t = Math.min(1, Math.max(0, edge / f));
        oval[y * side + x] = Math.min(oval[y * side + x], t * t * (3 - 2 * t));
      }
    }
    return oval;
  }

  get runtimeName(): string { return this.runtime.name; }

  directions() { return listDirections(this.manifest); }

  /** One session per file: a conditional generator serves several directions from one file. */
  private net(entry: TransformModel | UpscaleModel): Promise<Net> {
    const key = `${entry.file}#${entry.sha256}`;
    let p = this.nets.get(key);
    if (!p) {
      p = readVerified(this.files, entry).then((bytes) => this.runtime.load(bytes, entry.id));
      p.catch(() => this.nets.delete(key));
      this.nets.set(key, p);
    }
    return p;
  }

  /** Load (and verify) the nets a direction needs, so the first run is not slow. */
  async warmup(direction: string, upscale = true): Promise<void> {
    await this.net(findTransform(this.manifest, direction));
    const up = findUpscaler(this.manifest);
    if (upscale && up) await this.net(up);
  }

  /**
   * Every face in the photo, in photo pixels, in reading order. Each candidate gets a second
   * look (verifyFace) before it counts. When the upright views find none, the detector is shown
   * the photo with a wider margin (tight headshots), then turned by 90, 270 and 180 degrees
   * (faces lying on their side).
   */
  async detect(source: PhotoSource, signal?: AbortSignal): Promise<DetectedFace[]> {
    const preview = await source.readPreview(previewMaxSide(source.width, source.height));
    // photo pixels per preview pixel, per axis (the preview's sides are rounded separately)
    const kx = source.width / preview.width, ky = source.height / preview.height;
    const pyramid = buildPyramid(preview);
    const { width: w, height: h } = preview;
    let faces = await this.findFaces(pyramid, planDetectionViews(w, h), signal);
    if (!faces.length) faces = await this.findFaces(pyramid, paddedViews(w, h), signal);
    for (const angle of [90, 270, 180]) {
      if (faces.length) break;
      faces = await this.findFaces(pyramid, rotatedViews(w, h, angle), signal);
    }
    return orderFaces(faces.map((f) => scaleFace(f, kx, ky)));
  }

  /** Run the detector on views, merge, look again from close up, keep what the second look confirms. */
  private async findFaces(pyramid: RGBAImage[], views: DetectionView[], signal?: AbortSignal): Promise<DetectedFace[]> {
    const found: (DetectedFace & { angle?: number })[] = [];
    for (const v of views) {
      throwIfAborted(signal);
      found.push(...await this.detectInView(pyramid, v));
    }
    const merged = mergeDetections(found);
    // Look again at each face from close up (turned as the view that found it), for keypoints precise enough to align on.
    const refined: DetectedFace[] = [];
    for (const f of merged) {
      throwIfAborted(signal);
      const side = Math.max(f.box.width, f.box.height) * 2.5;
      const cx = f.box.x + f.box.width / 2, cy = f.box.y + f.box.height / 2;
      const near = await this.detectInView(pyramid, { x: cx - side / 2, y: cy - side / 2, size: side, angle: f.angle });
      const best = near.sort((a, b) => dist(a, cx, cy) - dist(b, cx, cy))[0];
      const face = best && dist(best, cx, cy) < side / 4 ? { ...best, score: Math.max(best.score, f.score) } : f;
      const verified = await this.verifyFace(pyramid, face);
      if (verified) refined.push(verified);
    }
    return mergeDetections(refined).map(({ score, box, keypoints }) => ({ score, box, keypoints }));
  }

  /**
   * The second look: align the face on its keypoints exactly as run() will, show the detector
   * that crop (with a margin), and keep the face only if the detector finds it again where it
   * was put. A door or a wheel taken for a face, and a face on its side with keypoints on its
   * mouth and nose, are not found again; a real face is, upright, where the detector is most
   * precise: its keypoints from this look are the ones returned. Null: not a face to align on.
   */
  private async verifyFace(pyramid: RGBAImage[], f: DetectedFace): Promise<DetectedFace | null> {
    // (one size today; a list so another framing can be tried without restructuring)
    for (const crop of VERIFY_CROPS) {
      const margin = (VIEW_SIZE - crop) / 2;
      let toCrop: Affine;
      try { toCrop = alignmentTransform(f.keypoints, this.template, crop); } catch { return null; }
      const viewToPreview = composeAffine(invertAffine(toCrop), [1, 0, -margin, 0, 1, -margin]);
      const again = await this.detectThrough(pyramid, viewToPreview);
      const aligned = f.keypoints.map((p) => applyAffine(toCrop, p));
      const confirmed = again
        .map((d) => ({ d, shift: keypointShift(d.keypoints, aligned, crop, margin) }))
        .filter((c) => c.shift <= MAX_KEYPOINT_SHIFT)
        .sort((a, b) => a.shift - b.shift)[0];
      if (confirmed) return { ...f, keypoints: confirmed.d.keypoints.map((p) => applyAffine(viewToPreview, p)) };
    }
    // Some real faces (strong three-quarter views, motion blur) are not found a second time: a
    // confident detection with a face's geometry still counts.
    return f.score >= CONFIDENT_SCORE && implausibility(f.keypoints, f.box) === null ? f : null;
  }

  /** Run the detector on a square view of the preview (may extend past it: edge pixels pad). */
  private async detectInView(pyramid: RGBAImage[], v: DetectionView): Promise<(DetectedFace & { angle?: number })[]> {
    const viewToPreview = viewTransform(v, VIEW_SIZE);
    return (await this.detectThrough(pyramid, viewToPreview)).map((d) => ({ ...mapDetection(d, viewToPreview), angle: v.angle }));
  }

  /** Detections in view pixels of the view whose pixels come from the preview through viewToPreview. */
  private async detectThrough(pyramid: RGBAImage[], viewToPreview: Affine): Promise<DetectedFace[]> {
    // sample from the pyramid level that leaves at most 2x to shrink (4 samples a pixel, not 64)
    const level = Math.max(0, Math.min(pyramid.length - 1, Math.floor(Math.log2(affineScale(viewToPreview)))));
    const img = pyramid[level];
    const toLevel: Affine = [img.width / pyramid[0].width, 0, 0, 0, img.height / pyramid[0].height, 0];
    const view = warpAffine(img, composeAffine(toLevel, viewToPreview), VIEW_SIZE, VIEW_SIZE);
    return this.detector.detect(view);
  }

  /** The photo rectangle a face's crop reads from and its patch covers. */
  regionFor(face: DetectedFace, photo: { width: number; height: number }): Box {
    const size = this.cropSize();
    const fromCrop = invertAffine(alignmentTransform(face.keypoints, this.template, size));
    let b = transformedBounds(fromCrop, size, size, photo.width, photo.height);
    if (!b) throw new FaceShiftError('BAD_INPUT', 'The face lies outside the photo.');
    // the face mesh (paste-back mask) looks at a zoomed-out view of the same crop: read that too
    const zoom = this.landmarks ? this.manifest.landmarks?.input.crop?.zoomOut : undefined;
    if (zoom) {
      const m = transformedBounds(invertAffine(meshCropTransform(face.keypoints, this.template, size, zoom)), size, size, photo.width, photo.height);
      if (m) b = { x: Math.min(b.x, m.x), y: Math.min(b.y, m.y), width: Math.max(b.x + b.width, m.x + m.width) - Math.min(b.x, m.x), height: Math.max(b.y + b.height, m.y + m.height) - Math.min(b.y, m.y) };
    }
    // one pixel of slack for bilinear sampling at the edges
    const x0 = Math.max(0, b.x - 2), y0 = Math.max(0, b.y - 2);
    return { x: x0, y: y0, width: Math.min(photo.width, b.x + b.width + 2) - x0, height: Math.min(photo.height, b.y + b.height + 2) - y0 };
  }

  private cropSize(): number {
    return this.manifest.models.find((m) => m.task === 'transform')?.input.size ?? 128;
  }

  /** Detect (unless faces are given), then transform the chosen faces. */
  async run(source: PhotoSource, opts: TransformOptions, detected?: DetectedFace[]): Promise<RunReport> {
    const strength = opts.strength ?? 1;
    if (!(strength >= 0 && strength <= MAX_STRENGTH)) throw new FaceShiftError('BAD_OPTION', `Strength must be between 0 and ${MAX_STRENGTH} (0-${MAX_STRENGTH * 100} %), got ${opts.strength}.`);
    const model = findTransform(this.manifest, opts.direction);
    for (const m of [model, opts.upscale === false ? undefined : findUpscaler(this.manifest)]) {
      if (m && m.template !== this.template.id) {
        throw new FaceShiftError('MODEL', `Model ${m.id} was trained on faces aligned with template "${m.template}", but the shipped template is "${this.template.id}". Restore models/ from one release.`);
      }
    }
    const upscaler = opts.upscale === false ? undefined : findUpscaler(this.manifest);
    const timings: Record<Stage, number> = { detect: 0, align: 0, transform: 0, upscale: 0, paste: 0 };
    const progress = (stage: Stage, face: number, faces: number, fraction: number) => opts.onProgress?.({ stage, face, faces, fraction });

    let t = now();
    progress('detect', 0, 0, 0);
    const all = detected ?? await this.detect(source, opts.signal);
    timings.detect = now() - t;
    if (!all.length) throw new FaceShiftError('NO_FACE', noFaceMessage(source));
    const minSize = opts.minFaceSize ?? DEFAULT_MIN_FACE_SIZE;
    let chosen: DetectedFace[];
    try { chosen = selectFaces(all, opts.faces ?? 'all'); } catch (e) { throw new FaceShiftError('BAD_OPTION', (e as Error).message); }
    const skipped: SkippedFace[] = [];
    const todo = chosen.filter((f) => {
      if (faceSize(f) >= minSize) return true;
      skipped.push({ face: f, reason: `face is ${Math.round(faceSize(f))} px wide, below the ${minSize} px minimum` });
      return false;
    });
    if (!todo.length) {
      throw new FaceShiftError('FACE_TOO_SMALL', `Every selected face is smaller than ${minSize} pixels (largest: ${Math.round(Math.max(...chosen.map(faceSize)))} px). Use a larger photo or a closer crop.`);
    }
    const [gen, sr] = await Promise.all([this.net(model), upscaler ? this.net(upscaler) : Promise.resolve(undefined)]);
    const size = model.input.size;
    const results: FaceResult[] = [];
    for (let i = 0; i < todo.length; i++) {
      const face = todo[i];
      const step = (k: number) => (i + k / 5) / todo.length;
      throwIfAborted(opts.signal);
      progress('align', i + 1, todo.length, step(0));
      t = now();
      const regionBox = this.regionFor(face, source);
      const region = await source.readRegion(regionBox);
      const local = face.keypoints.map((p) => ({ x: p.x - regionBox.x, y: p.y - regionBox.y }));
      const aligned = alignFace(region, local, this.template, size);
      const fromCrop = composeAffine([1, 0, regionBox.x, 0, 1, regionBox.y], aligned.fromCrop);
      timings.align += now() - t;

      throwIfAborted(opts.signal);
      progress('transform', i + 1, todo.length, step(1));
      t = now();
      const cond = model.condition;
      const out = await gen.run({ data: toPlanar(aligned.image, model.input.range), dims: [1, 3, size, size] },
        cond ? { [cond.name]: { data: Float32Array.from(cond.values), dims: [1, cond.values.length] } } : undefined);
      timings.transform += now() - t;

      let faceOut = out;
      if (sr && upscaler) {
        throwIfAborted(opts.signal);
        progress('upscale', i + 1, todo.length, step(2));
        t = now();
        faceOut = await sr.run({ data: rescale(out.data, model.output.range, upscaler.input.range), dims: out.dims });
        timings.upscale += now() - t;
      }
      const range = sr && upscaler ? upscaler.output.range : model.output.range;
      const faceImg = fromPlanar(faceOut.data, faceOut.dims[3], faceOut.dims[2], range);
      const detail = (opts.paste ?? 'detail') === 'detail';

      throwIfAborted(opts.signal);
      progress('paste', i + 1, todo.length, step(4));
      t = now();
      const mask = await this.pasteMask(region, regionBox, face, faceImg.width);
      const patch = pasteBack({
        photo: { width: source.width, height: source.height, region, regionBox },
        face: faceImg, fromCrop, cropSize: size, strength, mask,
        color: colorPolicyFor(model, opts),
        // a net with an attention output confines its own change: its strong changes are wanted
        limitOutliers: !model.attention,
        ...(detail ? { crop: aligned.image, netOutput: fromPlanar(out.data, out.dims[3], out.dims[2], model.output.range) } : {}),
      });
      timings.paste += now() - t;
      if (patch) results.push({ face, patch, fromCrop });
    }
    progress('paste', todo.length, todo.length, 1);
    return {
      direction: model.direction, model: model.id, upscaler: upscaler?.id ?? null, runtime: this.runtime.name,
      faces: results, skipped, detected: all, timings,
    };
  }

  async dispose(): Promise<void> {
    for (const p of this.nets.values()) { try { (await p).dispose(); } catch { /* already failed */ } }
    this.nets.clear();
  }
}

/** What the detector promises for this photo's size, so the message never promises more than it finds. */
export function noFaceMessage(photo: { width: number; height: number }): string {
  return `No face was found in the photo. Faces at least about ${smallestDetectableFace(photo.width, photo.height)} pixels wide are found in a photo this size: use one where a face is visible, or crop it closer around the face.`;
}

/** Halving pyramid of the preview, down to about the detector's view size. */
function buildPyramid(img: RGBAImage): RGBAImage[] {
  const levels = [img];
  let cur = img;
  while (Math.min(cur.width, cur.height) >= 2 * VIEW_SIZE) {
    cur = resizeArea(cur, Math.round(cur.width / 2), Math.round(cur.height / 2));
    levels.push(cur);
  }
  return levels;
}

function dist(f: DetectedFace, cx: number, cy: number): number {
  return Math.hypot(f.box.x + f.box.width / 2 - cx, f.box.y + f.box.height / 2 - cy);
}

function scaleFace(f: DetectedFace, kx: number, ky: number): DetectedFace {
  return {
    score: f.score,
    box: { x: f.box.x * kx, y: f.box.y * ky, width: f.box.width * kx, height: f.box.height * ky },
    keypoints: f.keypoints.map((p) => ({ x: p.x * kx, y: p.y * ky })),
  };
}

function rescale(data: Float32Array, from: [number, number], to: [number, number]): Float32Array {
  if (from[0] === to[0] && from[1] === to[1]) return data;
  const k = (to[1] - to[0]) / (from[1] - from[0]);
  return data.map((v) => (v - from[0]) * k + to[0]);
}

/** The colour policy a run pastes with: an explicit policy, else the user's switch over the model's measured one. */
export function colorPolicyFor(model: TransformModel, opts: Pick<TransformOptions, 'colorMatch' | 'colorPolicy'>): ColorPolicy {
  if (opts.colorPolicy) return opts.colorPolicy;
  const measured = model.colorPolicy ?? 'reinhard';
  if (opts.colorMatch === false) return 'none';
  if (opts.colorMatch === true && measured === 'none') return 'reinhard';
  return measured;
}
