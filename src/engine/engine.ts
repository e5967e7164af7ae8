/**
 * The engine: detect, then per face align -> transform -> upscale -> paste. Host-agnostic: it
 * reads pixels through a PhotoSource, runs nets through a NetRuntime, and returns per-face
 * patches (pixels, soft mask, place in the photo). It never modifies or returns a whole photo,
 * and it never decides which faces to change: the application (src/app) chooses them.
 */
import { RGBAImage, createRGBA, toPlanar, fromPlanar, resizeArea } from '../core/image';
import { Affine, Box, affineScale, applyAffine, composeAffine, invertAffine, transformedBounds, warpAffine } from '../core/geometry';
import { AlignTemplate, AlignedFace, alignFace, alignmentTransform, meshCropTransform, meshToAlignedCrop } from '../core/align';
import { faceMask, faceOvalContour, featherForFace, landmarkFaceMask, mapPoints } from '../core/mask';
import { FacePatch, pasteBack, strengthProblem } from '../core/blend';
import type { ColorPolicy } from '../core/color';
import {
  DetectedFace, DetectionView, implausibility, mapDetection, mergeDetections, paddedViews, planDetectionViews,
  rotatedViews, orderFaces, smallestFindableFace, keypointShift, viewTransform,
} from '../core/faces';
import { CancelSignal, FaceShiftError, throwIfCancelled } from '../core/errors';
import {
  Manifest, ModelFiles, TransformModel, UpscaleModel, findTransform, findUpscaler, listDirections, loadTemplate, readVerified, validateManifest,
} from '../models/manifest';
import type { FaceMesh } from '../runtime/landmarks';
import type { Backend, Net, NetRuntime, Tensor } from '../runtime/net';
import type { RawDetection } from '../runtime/detector';
import { DEFAULT_CONFIG, EngineConfig, EngineConfigOverrides, engineConfig } from './config';

/** Where the engine reads pixels from. Hosts implement it (file, Photoshop layer, Photopea export). */
export interface PhotoSource {
  readonly width: number;
  readonly height: number;
  /** A downscaled copy whose longer side is at most maxSide (never upscaled). */
  readPreview(maxSide: number): Promise<RGBAImage>;
  /** Full-resolution pixels of a rectangle that lies inside the photo. */
  readRegion(box: Box): Promise<RGBAImage>;
}

/** The detector as the engine uses it: faces in each of several square views of one size, in one call. */
export interface FaceDetectorLike { detect(views: RGBAImage[]): Promise<RawDetection[][]> }

/** The steps of a run, in order ('detect' is timed by whoever detects). */
export type Stage = 'detect' | 'align' | 'transform' | 'upscale' | 'paste';

/** `fraction`: 0..1 over the run's faces, rising; `face` of `faces` is the one at work. */
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
  upscale?: boolean;
  /**
   * The user's switch for colour matching: false pastes the net's colours as they are ('none');
   * true or unset uses the model's measured policy (manifest `colorPolicy`), or 'reinhard' where that is 'none'.
   */
  colorMatch?: boolean;
  /** A colour policy that overrides both (the evaluation compares them). */
  colorPolicy?: ColorPolicy;
  /** Overrides the model's measured photoDetail (manifest; 0..1, default 1): the evaluation compares them. */
  photoDetail?: number;
  signal?: CancelSignal;
  onProgress?: (p: Progress) => void;
}

export interface FaceResult {
  face: DetectedFace;
  patch: FacePatch;
  /** crop -> photo transform of the aligned crop */
  fromCrop: Affine;
  /** side of that crop: the chosen model's input size */
  cropSize: number;
}

/** What an engine offers (the protocol's 'ready' reply carries it to hosts out of process). */
export interface EngineInfo {
  /** e.g. "onnxruntime-web (webgpu)" */
  runtime: string;
  backend: Backend;
  /** in the manifest's order; `source` -> `target` names the change */
  directions: { direction: string; label: string; source: string; target: string }[];
  /** faces smaller than this (box side, photo pixels) are skipped (engine config) */
  minFaceSize: number;
  /** longer side of the live preview (engine config) */
  previewSide: number;
}

export interface RunReport {
  direction: string;
  model: string;
  upscaler: string | null;
  runtime: string;
  /** one per face that landed in the photo (a crop wholly outside it gives none) */
  faces: FaceResult[];
  /** milliseconds per step, summed over faces ('detect' stays 0: detection is its own call) */
  timings: Record<Stage, number>;
}

/**
 * Longer side of the copy detection runs on: 2048 for a 4:3 photo (about 3 megapixels); a
 * panorama or strip keeps as many pixels, so its faces are not shrunk out of reach.
 */
export function previewMaxSide(width: number, height: number, side = DEFAULT_CONFIG.detect.previewMaxSide): number {
  const long = Math.max(width, height), short = Math.max(1, Math.min(width, height));
  const budget = side * side * 0.75;
  return Math.max(side, Math.min(long, Math.floor(Math.sqrt(budget * long / short))));
}

/** The smallest face (photo pixels) detection finds reliably in a photo of this size. */
export function smallestDetectableFace(width: number, height: number, detect = DEFAULT_CONFIG.detect, minFaceSize = DEFAULT_CONFIG.minFaceSize): number {
  const k = Math.max(1, Math.max(width, height) / previewMaxSide(width, height, detect.previewMaxSide));
  return Math.ceil(smallestFindableFace(Math.round(width / k), Math.round(height / k), detect.viewSize, minFaceSize / k) * k);
}

const now = () => (typeof performance !== 'undefined' ? performance.now() : Date.now());

/** What a run needs settled before the first face: the models and the strength. */
interface RunPlan {
  model: TransformModel;
  upscaler?: UpscaleModel;
  strength: number;
  steps: Stage[];
}

/** One face aligned: the region read around it and the crop the net sees. */
interface Aligned { region: RGBAImage; regionBox: Box; crop: AlignedFace; fromCrop: Affine }

export class FaceEngine {
  private nets = new Map<string, Promise<Net>>();

  private constructor(
    readonly manifest: Manifest,
    readonly template: AlignTemplate,
    readonly config: EngineConfig,
    private readonly files: ModelFiles,
    private readonly runtime: NetRuntime,
    private readonly detector: FaceDetectorLike,
    private readonly landmarks?: FaceMesh,
  ) {}

  /**
   * `landmarks` (the face mesh) gives face-shaped paste-back masks; without it the mask is a
   * rounded box. `config` overrides the tunables' defaults (engine/config.ts).
   */
  static async create(deps: {
    manifest: unknown; files: ModelFiles; runtime: NetRuntime; detector: FaceDetectorLike; landmarks?: FaceMesh; config?: EngineConfigOverrides;
  }): Promise<FaceEngine> {
    const config = engineConfig(deps.config);
    const manifest = validateManifest(deps.manifest);
    const template = await loadTemplate(deps.files, manifest);
    return new FaceEngine(manifest, template, config, deps.files, deps.runtime, deps.detector, deps.landmarks);
  }

  get runtimeName(): string { return this.runtime.name; }

  directions() { return listDirections(this.manifest); }

  /** What this engine offers, for hosts (`backend`: what the runtime adapter reported). */
  info(backend: Backend): EngineInfo {
    return {
      runtime: this.runtime.name, backend,
      directions: this.directions().map(({ direction, label }) => {
        const m = findTransform(this.manifest, direction);
        return { direction, label, source: m.source, target: m.target };
      }),
      minFaceSize: this.config.minFaceSize, previewSide: this.config.previewSide,
    };
  }

  /** Side of the aligned crop for a direction: its model's input size. */
  cropSize(direction: string): number { return findTransform(this.manifest, direction).input.size; }

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

  /**
   * Load (and verify) the nets a direction needs, so the first run is not slow. With `run`, also
   * run each once or more on a blank input: on onnxruntime-web's WASM backend the first runs of a
   * session are several times slower than later ones (the browser compiles the WebAssembly in a
   * fast baseline tier first and optimises hot code later; the runtime allocates on a first run),
   * and a page can pay for that while the user looks at the panel. The upscaler runs on a small
   * input (the same kernels, a sixteenth of the work). Each run is one call into the runtime; the
   * event loop gets a turn between runs, and a real run that arrives meanwhile waits for at most
   * the one in progress (a session's runs are serialised).
   */
  async warmup(direction: string, upscale = true, opts: { run?: boolean; runs?: number; signal?: CancelSignal } = {}): Promise<void> {
    const model = findTransform(this.manifest, direction);
    const gen = await this.net(model);
    const up = findUpscaler(this.manifest);
    const sr = upscale && up ? await this.net(up) : undefined;
    if (!opts.run) return;
    const size = model.input.size, small = Math.max(16, size >> 2);
    for (let r = 0; r < (opts.runs ?? 2); r++) {
      await turn();
      throwIfCancelled(opts.signal);
      await this.transform(gen, model, createRGBA(size, size));
      if (!sr) continue;
      await turn();
      throwIfCancelled(opts.signal);
      await sr.run({ data: new Float32Array(3 * small * small), dims: [1, 3, small, small] });
    }
  }

  // -------------------------------------------------------------------------------------------
  // Detection
  // -------------------------------------------------------------------------------------------

  /**
   * Every face in the photo, in photo pixels, in reading order. Each candidate gets a second
   * look (confirm) before it counts. When the upright views find none, the detector is shown
   * the photo with a wider margin (tight headshots), then turned by 90, 270 and 180 degrees
   * (faces lying on their side).
   */
  async detect(source: PhotoSource, signal?: CancelSignal): Promise<DetectedFace[]> {
    const preview = await source.readPreview(previewMaxSide(source.width, source.height, this.config.detect.previewMaxSide));
    // photo pixels per preview pixel, per axis (the preview's sides are rounded separately)
    const kx = source.width / preview.width, ky = source.height / preview.height;
    const pyramid = this.buildPyramid(preview);
    const { width: w, height: h } = preview;
    // faces below the minimum size are skipped anyway: no view is planned for them alone
    const minFace = this.config.minFaceSize / Math.max(kx, ky);
    let faces = await this.findFaces(pyramid, planDetectionViews(w, h, minFace, this.config.detect.viewSize), signal);
    if (!faces.length) faces = await this.findFaces(pyramid, paddedViews(w, h), signal);
    for (const angle of [90, 270, 180]) {
      if (faces.length) break;
      faces = await this.findFaces(pyramid, rotatedViews(w, h, angle), signal);
    }
    return orderFaces(faces.map((f) => scaleFace(f, kx, ky)));
  }

  /**
   * Run the detector on views, merge, and give each face the second look. A face the first look
   * saw large and whole (keypointsCertain) goes to the second look directly; the others, and any
   * the second look does not confirm, are first looked at again from close up (turned as the view
   * that found them), for keypoints precise enough to align on, and then given the second look.
   */
  private async findFaces(pyramid: RGBAImage[], views: DetectionView[], signal?: CancelSignal): Promise<DetectedFace[]> {
    const { viewSize, minScore } = this.config.detect;
    const transforms = views.map((v) => viewTransform(v, viewSize));
    const found = (await this.look(pyramid, transforms, viewSize, signal)).flatMap((dets, i) => dets.map((d) => ({
      ...mapDetection(d, transforms[i]), angle: views[i].angle, certain: keypointsCertain(d, viewSize, this.config.detect.closeUpFrom),
    })));
    const merged = mergeDetections(found, minScore);
    const refined: (DetectedFace | null)[] = merged.map(() => null);
    const direct = merged.flatMap((f, i) => (f.certain ? [i] : []));
    (await this.confirm(pyramid, direct.map((i) => merged[i]), signal)).forEach((c, k) => { refined[direct[k]] = c?.face ?? null; });
    const rest = merged.flatMap((f, i) => (refined[i] ? [] : [i]));
    const closer = await this.closeUp(pyramid, rest.map((i) => merged[i]), signal);
    (await this.confirm(pyramid, closer, signal)).forEach((c, k) => {
      const f = closer[k];
      // Some real faces (strong three-quarter views, motion blur) are not found a second time: a
      // confident detection with a face's geometry still counts (not one that cannot be aligned at all).
      refined[rest[k]] = c ? c.face : c === null && f.score >= this.config.detect.confidentScore && implausibility(f.keypoints, f.box) === null ? f : null;
    });
    return mergeDetections(refined.filter((f): f is DetectedFace => f !== null), minScore).map(({ score, box, keypoints }) => ({ score, box, keypoints }));
  }

  /** Each face looked at again from close up (2.5x its box, turned as its view): the nearest detection there, or the face as it was. */
  private async closeUp(pyramid: RGBAImage[], faces: (DetectedFace & { angle?: number })[], signal?: CancelSignal): Promise<DetectedFace[]> {
    const { viewSize } = this.config.detect;
    const views = faces.map((f) => {
      const side = Math.max(f.box.width, f.box.height) * 2.5;
      const cx = f.box.x + f.box.width / 2, cy = f.box.y + f.box.height / 2;
      return { x: cx - side / 2, y: cy - side / 2, size: side, angle: f.angle };
    });
    const transforms = views.map((v) => viewTransform(v, viewSize));
    return (await this.look(pyramid, transforms, viewSize, signal)).map((dets, k) => {
      const f = faces[k], v = views[k];
      const cx = v.x + v.size / 2, cy = v.y + v.size / 2;
      const best = dets.map((d) => mapDetection(d, transforms[k])).sort((a, b) => dist(a, cx, cy) - dist(b, cx, cy))[0];
      const face = best && dist(best, cx, cy) < v.size / 4 ? { ...best, score: Math.max(best.score, f.score) } : f;
      return { score: face.score, box: face.box, keypoints: face.keypoints };
    });
  }

  /**
   * The second look: align each face on its keypoints exactly as run() will, show the detector
   * that crop (with a margin), and confirm the face only if the detector finds it again where it
   * was put. A door or a wheel taken for a face, and a face on its side with keypoints on its
   * mouth and nose, are not found again; a real face is, upright, where the detector is most
   * precise: its keypoints from this look are the ones returned. Per face: `{ face }` when
   * confirmed; null when not; undefined when its keypoints cannot be aligned on at all.
   */
  private async confirm(pyramid: RGBAImage[], faces: DetectedFace[], signal?: CancelSignal): Promise<({ face: DetectedFace } | null | undefined)[]> {
    const { viewSize, verifyCrops, maxKeypointShift } = this.config.detect;
    const out: ({ face: DetectedFace } | null | undefined)[] = faces.map(() => null);
    let open = faces.map((_, i) => i);
    for (const crop of verifyCrops) {
      const margin = (viewSize - crop) / 2;
      const looks = open.flatMap((i) => {
        let toCrop: Affine;
        try { toCrop = alignmentTransform(faces[i].keypoints, this.template, crop); } catch { out[i] = undefined; return []; }
        return [{ i, toCrop, viewToPreview: composeAffine(invertAffine(toCrop), [1, 0, -margin, 0, 1, -margin]) }];
      });
      const again = await this.look(pyramid, looks.map((l) => l.viewToPreview), viewSize, signal);
      looks.forEach(({ i, toCrop, viewToPreview }, k) => {
        const aligned = faces[i].keypoints.map((p) => applyAffine(toCrop, p));
        const confirmed = again[k]
          .map((d) => ({ d, shift: keypointShift(d.keypoints, aligned, crop, margin) }))
          .filter((c) => c.shift <= maxKeypointShift)
          .sort((a, b) => a.shift - b.shift)[0];
        if (confirmed) out[i] = { face: { ...faces[i], keypoints: confirmed.d.keypoints.map((p) => applyAffine(viewToPreview, p)) } };
      });
      open = looks.map((l) => l.i).filter((i) => out[i] === null);
    }
    return out;
  }

  /**
   * Detections in view pixels of each `viewSize`-pixel view whose pixels come from the preview
   * through its view -> preview transform; the views go to the detector viewsPerCall at a time.
   */
  private async look(pyramid: RGBAImage[], viewToPreview: Affine[], viewSize: number, signal?: CancelSignal): Promise<DetectedFace[][]> {
    const { viewsPerCall } = this.config.detect;
    const out: DetectedFace[][] = [];
    for (let i = 0; i < viewToPreview.length; i += viewsPerCall) {
      throwIfCancelled(signal);
      out.push(...await this.detector.detect(viewToPreview.slice(i, i + viewsPerCall).map((m) => this.renderView(pyramid, m, viewSize))));
    }
    return out;
  }

  /** A view of the preview (may extend past it: edge pixels pad), sampled from the pyramid level that leaves at most 2x to shrink (4 samples a pixel, not 64). */
  private renderView(pyramid: RGBAImage[], viewToPreview: Affine, viewSize: number): RGBAImage {
    const level = Math.max(0, Math.min(pyramid.length - 1, Math.floor(Math.log2(affineScale(viewToPreview)))));
    const img = pyramid[level];
    const toLevel: Affine = [img.width / pyramid[0].width, 0, 0, 0, img.height / pyramid[0].height, 0];
    return warpAffine(img, composeAffine(toLevel, viewToPreview), viewSize, viewSize);
  }

  /** Halving pyramid of the preview, down to about the detector's view size. */
  private buildPyramid(img: RGBAImage): RGBAImage[] {
    const levels = [img];
    let cur = img;
    while (Math.min(cur.width, cur.height) >= 2 * this.config.detect.viewSize) {
      cur = resizeArea(cur, Math.round(cur.width / 2), Math.round(cur.height / 2));
      levels.push(cur);
    }
    return levels;
  }

  // -------------------------------------------------------------------------------------------
  // The run: align -> transform -> upscale -> paste, per face
  // -------------------------------------------------------------------------------------------

  /** The photo rectangle a face's crop (for `direction`'s model) reads from and its patch covers. */
  regionFor(face: DetectedFace, photo: { width: number; height: number }, direction: string): Box {
    return this.regionOfCrop(face, photo, this.cropSize(direction));
  }

  private regionOfCrop(face: DetectedFace, photo: { width: number; height: number }, size: number): Box {
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

  /** Transform these faces (the caller has chosen them): align -> transform -> upscale -> paste, one face after the other. */
  async run(source: PhotoSource, opts: TransformOptions, faces: DetectedFace[]): Promise<RunReport> {
    const plan = this.plan(opts);
    const { model, upscaler } = plan;
    const [gen, sr] = await Promise.all([this.net(model), upscaler ? this.net(upscaler) : Promise.resolve(undefined)]);
    const timings: Record<Stage, number> = { detect: 0, align: 0, transform: 0, upscale: 0, paste: 0 };
    const timed = async <T>(stage: Stage, work: () => Promise<T>): Promise<T> => {
      const t = now();
      try { return await work(); } finally { timings[stage] += now() - t; }
    };
    const results: FaceResult[] = [];
    for (let i = 0; i < faces.length; i++) {
      const face = faces[i];
      // each step: cancelled? -> say which step -> do it
      const step = (k: number) => {
        throwIfCancelled(opts.signal);
        opts.onProgress?.({ stage: plan.steps[k], face: i + 1, faces: faces.length, fraction: (i + k / plan.steps.length) / faces.length });
      };
      step(0);
      const aligned = await timed('align', () => this.align(source, face, model.input.size));
      step(1);
      const out = await timed('transform', () => this.transform(gen, model, aligned.crop.image));
      let faceImg: RGBAImage;
      if (sr && upscaler) {
        step(2);
        faceImg = await timed('upscale', () => this.upscale(sr, model, upscaler, out));
      } else faceImg = fromPlanar(out.data, out.dims[3], out.dims[2], model.output.range);
      step(plan.steps.length - 1);
      const patch = await timed('paste', () => this.paste(source, face, aligned, out, faceImg, plan, opts));
      if (patch) results.push({ face, patch, fromCrop: aligned.fromCrop, cropSize: model.input.size });
    }
    opts.onProgress?.({ stage: 'paste', face: faces.length, faces: faces.length, fraction: 1 });
    return { direction: model.direction, model: model.id, upscaler: upscaler?.id ?? null, runtime: this.runtime.name, faces: results, timings };
  }

  /** The models and strength of a run, checked before any pixel is read. */
  private plan(opts: TransformOptions): RunPlan {
    const strength = opts.strength ?? 1;
    const problem = strengthProblem(strength);
    if (problem) throw new FaceShiftError('BAD_OPTION', problem);
    const model = findTransform(this.manifest, opts.direction);
    const upscaler = opts.upscale === false ? undefined : findUpscaler(this.manifest);
    for (const m of [model, upscaler]) {
      if (m && m.template !== this.template.id) {
        throw new FaceShiftError('MODEL', `Model ${m.id} was trained on faces aligned with template "${m.template}", but the shipped template is "${this.template.id}". Restore models/ from one release.`);
      }
    }
    const steps: Stage[] = upscaler ? ['align', 'transform', 'upscale', 'paste'] : ['align', 'transform', 'paste'];
    return { model, upscaler, strength, steps };
  }

  /** Read the face's region at full resolution and cut the crop the net sees (THE template). */
  private async align(source: PhotoSource, face: DetectedFace, size: number): Promise<Aligned> {
    const regionBox = this.regionOfCrop(face, source, size);
    const region = await source.readRegion(regionBox);
    const local = face.keypoints.map((p) => ({ x: p.x - regionBox.x, y: p.y - regionBox.y }));
    const crop = alignFace(region, local, this.template, size);
    const fromCrop = composeAffine([1, 0, regionBox.x, 0, 1, regionBox.y], crop.fromCrop);
    return { region, regionBox, crop, fromCrop };
  }

  /** The generator on the crop (with its condition, for a conditional generator). */
  private transform(gen: Net, model: TransformModel, crop: RGBAImage): Promise<Tensor> {
    const size = model.input.size;
    const cond = model.condition;
    return gen.run({ data: toPlanar(crop, model.input.range), dims: [1, 3, size, size] },
      cond ? { [cond.name]: { data: Float32Array.from(cond.values), dims: [1, cond.values.length] } } : undefined);
  }

  /** The super-resolution net on the generator's output (ranges converted between the two). */
  private async upscale(sr: Net, model: TransformModel, upscaler: UpscaleModel, out: Tensor): Promise<RGBAImage> {
    const up = await sr.run({ data: rescale(out.data, model.output.range, upscaler.input.range), dims: out.dims });
    return fromPlanar(up.data, up.dims[3], up.dims[2], upscaler.output.range);
  }

  /** Back into the photo: the mask (face mesh or rounded box), then pasteBack into the crop's box. */
  private async paste(source: PhotoSource, face: DetectedFace, a: Aligned, out: Tensor, faceImg: RGBAImage, plan: RunPlan, opts: TransformOptions): Promise<FacePatch | null> {
    const { model, strength } = plan;
    const detail = (opts.paste ?? 'detail') === 'detail';
    const mask = await this.pasteMask(a.region, a.regionBox, face, faceImg.width, model.input.size);
    return pasteBack({
      photo: { width: source.width, height: source.height, region: a.region, regionBox: a.regionBox },
      face: faceImg, fromCrop: a.fromCrop, cropSize: model.input.size, strength, mask,
      color: colorPolicyFor(model, opts),
      // a net with an attention output confines its own change: its strong changes are wanted
      limitOutliers: !model.attention,
      photoDetail: opts.photoDetail ?? model.photoDetail ?? 1,
      ...(detail ? { crop: a.crop.image, netOutput: fromPlanar(out.data, out.dims[3], out.dims[2], model.output.range) } : {}),
    });
  }

  /**
   * The paste-back mask of a face (square, at the crop's size or the face's if smaller): the face
   * mesh's oval (forehead to chin, jaw included, no background), kept off the crop's padded border;
   * the rounded box when there is no mesh or it does not see a face.
   */
  private async pasteMask(region: RGBAImage, regionBox: Box, face: DetectedFace, faceSide: number, cropSize: number): Promise<Float32Array> {
    const zoom = this.manifest.landmarks?.input.crop?.zoomOut;
    // the mask is smooth: built at the crop's size at most, paste-back resamples it into the photo
    const side = Math.min(faceSide, cropSize);
    if (!this.landmarks || !zoom) return faceMask(side);
    const { meshSize: M, meshSupersample, minMeshScore, featherScale, outset, borderFade, borderFadeTop, borderInset } = this.config.mask;
    // the mesh looks at more of the photo than the net's crop (zoomed out): regionFor() covers it
    const toMesh = meshCropTransform(face.keypoints, this.template, M, zoom);
    // a few samples a pixel at most: the mesh needs the face's shape, not its finest detail (a portrait's
    // face would otherwise cost up to 64 samples a pixel)
    const crop = warpAffine(region, composeAffine([1, 0, -regionBox.x, 0, 1, -regionBox.y], invertAffine(toMesh)), M, M, meshSupersample);
    const { score, points } = await this.landmarks.mesh(crop);
    if (!(score >= minMeshScore)) return faceMask(side);
    const k = side / M;
    const toSide = composeAffine([k, 0, 0, 0, k, 0], meshToAlignedCrop(M, zoom));
    const feather = featherForFace(side * featherScale);
    const oval = landmarkFaceMask(faceOvalContour(mapPoints(points, toSide), { outset: outset * feather }), side, side, feather);
    // the net answers poorly in the last pixels of its crop (and a crop past the photo edge is padding): a thin border fade;
    // a wide one at the top, where the forehead runs on past the crop as skin and a thin fade would show as a line across it
    const f = side * borderFade, ft = side * borderFadeTop, inset = side * borderInset;
    for (let y = 0; y < side; y++) {
      for (let x = 0; x < side; x++) {
        const edge = Math.min((Math.min(x + 0.5, side - x - 0.5, side - y - 0.5) - inset) / f, (y + 0.5 - inset) / ft);
        const t = Math.min(1, Math.max(0, edge));
        oval[y * side + x] = Math.min(oval[y * side + x], t * t * (3 - 2 * t));
      }
    }
    return oval;
  }

  async dispose(): Promise<void> {
    for (const p of this.nets.values()) { try { (await p).dispose(); } catch { /* already failed */ } }
    this.nets.clear();
  }
}

/**
 * Is a first-look detection (view pixels) precise enough to align on without a close-up? When the
 * face is at least `from` pixels of the view and lies wholly inside it: the close-up (2.5x the box)
 * would show it at 40 % of the view, not much larger than it already is.
 */
export function keypointsCertain(d: DetectedFace, viewSize: number, from: number): boolean {
  const { x, y, width, height } = d.box;
  return Math.max(width, height) >= from && x >= 0 && y >= 0 && x + width <= viewSize && y + height <= viewSize;
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

/** One turn of the event loop, so a page stays responsive between net runs. */
const turn = () => new Promise<void>((r) => setTimeout(r, 0));
