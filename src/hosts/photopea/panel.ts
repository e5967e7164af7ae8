/**
 * The plugin panel: the same controls as the Photoshop panel (direction, strength, faces, upscale,
 * transform, progress, cancel), driving the engine in this page and Photopea through PhotopeaHost.
 * Flow: export the document as PNG -> decode -> detect (cached per exported image) -> transform
 * the chosen faces -> one layer (facesToLayer) -> insert it with its mask over the source pixels.
 */
import type { FaceEngine, Progress } from '../../engine/engine';
import { noFaceMessage } from '../../engine/engine';
import { FaceShiftError } from '../../engine/errors';
import type { DetectedFace, FaceSelection } from '../../core/faces';
import { describeFaces, selectFaces } from '../../core/faces';
import { facesToLayer } from '../../core/layer';
import { RGBAImage, cropRGBA, resizeArea } from '../../core/image';
import { DEFAULT_MIN_FACE_SIZE } from '../../engine/engine';
import { PREVIEW_SIDE, PreviewPlan, faceInView, planPreview, renderPreview } from '../../engine/preview';
import { findTransform } from '../../models/manifest';
import { sha256Hex } from '../../runtime/sha256';
import { PhotopeaScriptError, PhotopeaTimeoutError } from './bridge';
import { DocumentSignature, PhotopeaHost, PhotopeaHostError } from './host';
import { BitmapPhotoSource, decodeImage, encodePngDataUrl, layerImages } from './image';

type Stage = Progress['stage'] | 'export' | 'insert';

const STAGE_TEXT: Record<Stage, string> = {
  export: 'Reading the document from Photopea',
  detect: 'Finding faces',
  align: 'Aligning face',
  transform: 'Transforming face',
  upscale: 'Upscaling face',
  paste: 'Blending face',
  insert: 'Adding the layer to Photopea',
};

/** Where each stage sits on the progress bar: [start, end]. */
const SPAN: Record<'export' | 'engine' | 'insert', [number, number]> = { export: [0, 0.08], engine: [0.08, 0.9], insert: [0.9, 1] };

export interface RunSummary {
  doc: DocumentSignature;
  detected: DetectedFace[];
  transformed: number;
  skipped: string[];
  layer: { name: string; box: { x: number; y: number; width: number; height: number }; maskSum: number; maskMax: number };
  timings: Record<string, number>;
}

interface Elements {
  backend: HTMLElement; direction: HTMLSelectElement; strength: HTMLInputElement; strengthValue: HTMLElement;
  faceSelect: HTMLSelectElement; find: HTMLButtonElement; upscale: HTMLInputElement;
  run: HTMLButtonElement; cancel: HTMLButtonElement; progress: HTMLProgressElement; stage: HTMLElement; status: HTMLElement;
  preview: HTMLCanvasElement; previewToggle: HTMLButtonElement; previewRefresh: HTMLButtonElement; previewCaption: HTMLElement;
}

function elements(doc: Document): Elements {
  const $ = <T extends HTMLElement>(id: string) => {
    const el = doc.getElementById(id);
    if (!el) throw new Error(`The panel page lacks #${id}.`);
    return el as T;
  };
  return {
    backend: $('backend'), direction: $('direction'), strength: $('strength'), strengthValue: $('strength-value'),
    faceSelect: $('face-select'), find: $('find'), upscale: $('upscale'),
    run: $('run'), cancel: $('cancel'), progress: $('progress'), stage: $('stage'), status: $('status'),
    preview: $('preview'), previewToggle: $('preview-toggle'), previewRefresh: $('preview-refresh'), previewCaption: $('preview-caption'),
  };
}

/** Plain-language text for any error the flow can raise. */
export function describeError(e: unknown): string {
  if (e instanceof FaceShiftError || e instanceof PhotopeaHostError) return e.message;
  if (e instanceof PhotopeaTimeoutError) return `${e.message} ${OUTSIDE_PHOTOPEA}`;
  if (e instanceof PhotopeaScriptError) return `Photopea reported an error: “${e.message}”. Nothing was changed.`;
  const m = (e as Error)?.message ?? String(e);
  return `Something went wrong: ${m}`;
}

/** What the page says when Photopea does not answer (opened on its own, or Photopea is stuck). */
export const OUTSIDE_PHOTOPEA = 'FaceShift works inside Photopea: open www.photopea.com and start FaceShift from its plugin button (Window › Plugins). Opened on its own, this page has no document to work on.';

/** The preview reuses the document read for a change less than this ago; after a pause it reads it again. */
const PREVIEW_REUSE_MS = 5000;

/** The document as last read, with its faces (the preview and the runs start from it). */
interface ReadDocument { key: string; readAt: number; doc: DocumentSignature; image: RGBAImage; source: BitmapPhotoSource; faces: DetectedFace[]; exportMs: number }

export class PhotopeaPanel {
  readonly el: Elements;
  private engine: FaceEngine | null = null;
  private busy: AbortController | null = null;
  /** the document as last exported, with its faces (cached by the exported image's digest) */
  private current: ReadDocument | null = null;
  /** the last successful run, for the curious (and the tests) */
  lastRun: RunSummary | null = null;
  /** Photopea's answer to the handshake: null while waiting */
  private connected: boolean | null = null;
  private readonly live = {
    timer: null as ReturnType<typeof setTimeout> | null,
    ctl: null as AbortController | null,
    job: Promise.resolve() as Promise<void>,
    view: null as { key: string; image: RGBAImage } | null,
    before: null as RGBAImage | null,
    after: null as RGBAImage | null,
    showBefore: false,
    /** bumped on every preview drawn (for the tests) */
    drawn: 0,
  };

  constructor(private readonly host: PhotopeaHost, doc: Document = document) {
    this.el = elements(doc);
    const { strength, strengthValue, run, cancel, find, direction, faceSelect, previewToggle, previewRefresh } = this.el;
    strength.addEventListener('input', () => { strengthValue.textContent = `${strength.value}%`; this.schedulePreview(); });
    direction.addEventListener('change', () => this.schedulePreview(0));
    faceSelect.addEventListener('change', () => this.schedulePreview(0));
    run.addEventListener('click', () => { void this.transform(); });
    find.addEventListener('click', () => { void this.findFaces(); });
    cancel.addEventListener('click', () => this.cancel());
    previewToggle.addEventListener('click', () => { this.live.showBefore = !this.live.showBefore; this.drawPreview(); });
    previewRefresh.addEventListener('click', () => { this.current = null; this.schedulePreview(0); });
    this.setBusy(false);
  }

  /** Engine ready: fill the direction picker from the manifest; the controls wait for Photopea too. */
  ready(engine: FaceEngine, backend: 'webgpu' | 'wasm'): void {
    this.engine = engine;
    const { direction, backend: badge } = this.el;
    direction.replaceChildren(...engine.directions().map((d) => new Option(d.label, d.direction)));
    badge.textContent = backend === 'webgpu' ? 'WebGPU' : 'WASM';
    badge.className = `badge ${backend}`;
    badge.title = backend === 'webgpu' ? 'The networks run on your graphics card (WebGPU).' : 'The networks run on your processor (WebAssembly); no WebGPU adapter was found.';
    this.settle();
  }

  /**
   * Photopea's answer to the handshake (or its absence). Until it has answered, the controls stay
   * disabled; a late answer enables them.
   */
  photopea(answered: boolean): void {
    if (this.connected === true) return;
    this.connected = answered;
    this.settle();
  }

  /** Usable only when both the engine and Photopea are there. */
  get usable(): boolean { return !!this.engine && this.connected === true; }

  private settle(): void {
    this.setBusy(!!this.busy);
    if (this.busy) return;
    if (this.connected === false) this.status(OUTSIDE_PHOTOPEA, 'error');
    else if (!this.engine) this.status(this.connected ? 'Connected to Photopea. Loading the face models…' : 'Loading the face models…');
    else if (this.connected === null) this.status('Waiting for Photopea to answer…');
    else {
      this.status('Ready. Open a photo in Photopea, choose a direction and click Transform face.');
      this.schedulePreview(0);
    }
  }

  failed(e: unknown): void {
    this.el.backend.textContent = 'unavailable';
    this.setBusy(false);
    this.status(`The face models could not be loaded. ${describeError(e)}`, 'error');
  }

  status(text: string, kind: 'info' | 'ok' | 'error' = 'info'): void {
    this.el.status.textContent = text;
    this.el.status.className = kind === 'info' ? '' : kind;
  }

  private progress(stage: Stage | null, fraction: number, face?: { i: number; n: number }): void {
    this.el.progress.value = fraction;
    this.el.stage.textContent = stage ? `${STAGE_TEXT[stage]}${face && face.n > 0 && stage !== 'detect' ? ` ${face.i} of ${face.n}` : ''}…` : '';
  }

  private setBusy(busy: boolean, cancellable = busy): void {
    const off = busy || !this.usable;
    for (const c of [this.el.run, this.el.find, this.el.direction, this.el.strength, this.el.faceSelect, this.el.upscale, this.el.previewToggle, this.el.previewRefresh]) c.disabled = off;
    if (!off && this.current?.faces.length === 1) this.el.faceSelect.disabled = true; // nothing to choose
    this.el.cancel.disabled = !busy || !cancellable;
  }

  cancel(): void {
    this.busy?.abort();
    this.status('Cancelling…');
  }

  private selection(): FaceSelection {
    const v = this.el.faceSelect.value;
    return v === 'all' || v === 'largest' ? v : Number(v);
  }

  /** The faces in words ("Face 1 (left), large"); with one face there is nothing to choose. */
  private showFaces(faces: DetectedFace[], photo: { width: number; height: number }): void {
    const { faceSelect } = this.el;
    const keep = faceSelect.value;
    const words = describeFaces(faces, photo, DEFAULT_MIN_FACE_SIZE);
    if (words.length === 1) {
      faceSelect.replaceChildren(new Option(words[0], 'all'));
      faceSelect.disabled = true;
      return;
    }
    faceSelect.replaceChildren(new Option('All faces', 'all'), new Option('Largest face', 'largest'), ...words.map((w, i) => new Option(w, String(i + 1))));
    if (Array.from(faceSelect.options).some((o) => o.value === keep)) faceSelect.value = keep;
    faceSelect.disabled = !this.usable || !!this.busy;
  }

  /** Export the document and detect its faces (cached for the same pixels). */
  private async readAndDetect(signal: AbortSignal, progress = true): Promise<ReadDocument> {
    const engine = this.engine!;
    const t0 = performance.now();
    if (progress) this.progress('export', SPAN.export[0]);
    const { doc, png } = await this.host.exportDocument();
    if (signal.aborted) throw new FaceShiftError('CANCELLED', 'Cancelled. Nothing was changed.');
    const { image, bitmap } = await decodeImage(png);
    const source = new BitmapPhotoSource(image, bitmap);
    const exportMs = performance.now() - t0;
    const key = await digest(png);
    let faces = this.current?.key === key ? this.current.faces : null;
    if (!faces) {
      if (progress) this.progress('detect', SPAN.export[1]);
      faces = await engine.detect(source, signal);
    }
    this.current = { key, readAt: performance.now(), doc, image, source, faces, exportMs };
    this.showFaces(faces, image);
    return this.current;
  }

  // -------------------------------------------------------------------------------------------
  // Live preview: the chosen face (the first, for "All faces"), before and after, small
  // -------------------------------------------------------------------------------------------

  /** Ask for a preview shortly after the last change (a burst of changes makes one). */
  schedulePreview(delayMs = 150): void {
    if (!this.usable || this.busy) return;
    if (this.live.timer) clearTimeout(this.live.timer);
    this.live.timer = setTimeout(() => {
      this.live.timer = null;
      this.live.job = this.live.job.then(() => this.updatePreview());
    }, delayMs);
  }

  /** Stop a preview in progress and wait until it has let go of the engine. */
  private async stopPreview(): Promise<void> {
    if (this.live.timer) { clearTimeout(this.live.timer); this.live.timer = null; }
    this.live.ctl?.abort();
    await this.live.job;
  }

  private async updatePreview(): Promise<void> {
    if (!this.usable || this.busy) return;
    const engine = this.engine!;
    const ctl = new AbortController();
    this.live.ctl = ctl;
    const { signal } = ctl;
    const direction = this.el.direction.value;
    const strength = Number(this.el.strength.value) / 100;
    try {
      this.el.previewCaption.textContent = 'Updating the preview…';
      // changes in a burst reuse the document as read; later ones read it again (the user may have edited it)
      const fresh = this.current && performance.now() - this.current.readAt < PREVIEW_REUSE_MS ? this.current : null;
      const doc = fresh ?? await this.readAndDetect(signal, false);
      doc.readAt = performance.now(); // a session of changes keeps reusing it
      if (signal.aborted) return;
      if (!doc.faces.length) {
        this.live.before = this.live.after = null;
        this.drawPreview();
        this.el.previewCaption.textContent = 'No face to preview in this document.';
        return;
      }
      const chosen = this.selection();
      const ordered = selectFaces(doc.faces, 'all');
      const face = chosen === 'all' ? ordered[0] : selectFaces(doc.faces, chosen)[0];
      const plan: PreviewPlan = planPreview(engine.regionFor(face, doc.source), doc.image, PREVIEW_SIDE);
      const viewKey = `${doc.key}:${plan.box.x},${plan.box.y},${plan.box.width},${plan.box.height}`;
      if (this.live.view?.key !== viewKey) {
        const b = plan.box;
        this.live.view = { key: viewKey, image: resizeArea(cropRGBA(doc.image, b.x, b.y, b.width, b.height), plan.width, plan.height) };
      }
      const view = this.live.view.image;
      const after = await renderPreview(engine, view, faceInView(face, plan, view), { direction, strength, signal });
      if (signal.aborted) return;
      this.live.before = view;
      this.live.after = after;
      this.drawPreview();
      const n = ordered.indexOf(face) + 1;
      this.el.preview.dataset.face = String(n);
      this.el.preview.dataset.strength = String(Math.round(strength * 100));
      this.el.previewCaption.textContent = `Face ${n}${ordered.length > 1 ? ` of ${ordered.length}` : ''} at ${Math.round(strength * 100)}%, without upscaling. The document is not changed.`;
    } catch (e) {
      if (signal.aborted || (e as FaceShiftError).code === 'CANCELLED') return;
      this.el.previewCaption.textContent = `No preview: ${describeError(e)}`;
    } finally {
      if (this.live.ctl === ctl) this.live.ctl = null;
    }
  }

  private drawPreview(): void {
    const { preview: canvas, previewToggle } = this.el;
    const img = this.live.showBefore ? this.live.before : this.live.after;
    previewToggle.textContent = this.live.showBefore ? 'Showing: before' : 'Showing: after';
    previewToggle.setAttribute('aria-pressed', String(this.live.showBefore));
    canvas.dataset.showing = this.live.showBefore ? 'before' : 'after';
    if (!img) { canvas.hidden = true; return; }
    canvas.hidden = false;
    canvas.width = img.width; canvas.height = img.height;
    canvas.getContext('2d', { willReadFrequently: true })!.putImageData(new ImageData(new Uint8ClampedArray(img.data), img.width, img.height), 0, 0);
    canvas.dataset.drawn = String(++this.live.drawn);
  }

  async findFaces(): Promise<void> {
    if (this.busy || !this.usable) return;
    const ctl = this.begin();
    try {
      await this.stopPreview();
      const { faces, image } = await this.readAndDetect(ctl.signal);
      const words = describeFaces(faces, image, DEFAULT_MIN_FACE_SIZE);
      this.status(faces.length === 1 ? `Found 1 face: ${words[0]}. Click Transform face.`
        : faces.length ? `Found ${faces.length} faces. Choose which to transform under Faces (or keep All faces), then click Transform face.`
          : noFaceMessage(image), faces.length ? 'info' : 'error');
    } catch (e) {
      this.status(describeError(e), (e as FaceShiftError).code === 'CANCELLED' ? 'info' : 'error');
    } finally {
      this.end();
    }
  }

  async transform(): Promise<RunSummary | null> {
    if (this.busy || !this.usable) return null;
    const engine = this.engine!;
    const ctl = this.begin();
    const { signal } = ctl;
    try {
      await this.stopPreview(); // one engine run at a time
      const direction = this.el.direction.value;
      const model = findTransform(engine.manifest, direction);
      const chosen = this.selection(); // before the list is refreshed from this document
      const { doc, image, source, faces, exportMs } = await this.readAndDetect(signal);
      if (!faces.length) throw new FaceShiftError('NO_FACE', noFaceMessage(image));
      if (typeof chosen === 'number' && chosen > faces.length) {
        throw new FaceShiftError('BAD_OPTION', `Face ${chosen} was chosen, but this document has ${faces.length} face${faces.length > 1 ? 's' : ''}. Choose again under Faces.`);
      }
      const [e0, e1] = SPAN.engine;
      const report = await engine.run(source, {
        direction, strength: Number(this.el.strength.value) / 100, faces: chosen, upscale: this.el.upscale.checked, signal,
        onProgress: (p) => this.progress(p.stage, e0 + (e1 - e0) * p.fraction, { i: p.face, n: p.faces }),
      }, faces);
      const layer = facesToLayer(report.faces.map((f) => f.patch));
      if (!layer) throw new FaceShiftError('NO_FACE', 'No face could be transformed (each lies too close to the photo border). Nothing was changed.');
      const images = layerImages(layer, image);
      const [pixels, mask] = await Promise.all([encodePngDataUrl(images.pixels), encodePngDataUrl(images.mask)]);
      if (signal.aborted) throw new FaceShiftError('CANCELLED', 'Cancelled. Nothing was changed.');
      // Past this point Photopea is being written to: finish rather than leave half a layer.
      this.setBusy(true, false);
      this.progress('insert', SPAN.insert[0]);
      const name = `FaceShift ${model.source}->${model.target}`;
      const t = performance.now();
      await this.host.insertLayer(doc, { box: layer.box, pixels, mask }, name);
      let maskSum = 0, maskMax = 0;
      for (const v of layer.mask.data) { maskSum += v; if (v > maskMax) maskMax = v; }
      const skipped = report.skipped.map((s) => s.reason);
      this.lastRun = {
        doc, detected: faces, transformed: report.faces.length, skipped,
        layer: { name, box: layer.box, maskSum, maskMax },
        timings: { export: exportMs, ...report.timings, insert: performance.now() - t },
      };
      this.progress(null, 1);
      const n = report.faces.length;
      this.status(`Done: ${n} face${n > 1 ? 's' : ''} transformed into the new layer “${name}”.`
        + (skipped.length ? ` Skipped ${skipped.length}: ${skipped.join('; ')}.` : '') + ' Paint its mask to refine.', 'ok');
      return this.lastRun;
    } catch (e) {
      this.progress(null, 0);
      const cancelled = (e as FaceShiftError).code === 'CANCELLED';
      this.status(describeError(e), cancelled ? 'info' : 'error');
      return null;
    } finally {
      this.end();
    }
  }

  private begin(): AbortController {
    const ctl = new AbortController();
    this.busy = ctl;
    this.setBusy(true);
    this.status('Working…');
    return ctl;
  }

  private end(): void {
    this.busy = null;
    this.setBusy(false);
    if (this.el.progress.value < 1) this.progress(null, 0);
    this.schedulePreview(0);
  }
}

async function digest(bytes: ArrayBuffer): Promise<string> {
  const subtle = globalThis.crypto?.subtle;
  if (!subtle) return sha256Hex(new Uint8Array(bytes));
  const d = new Uint8Array(await subtle.digest('SHA-256', bytes));
  return Array.from(d.subarray(0, 16), (b) => b.toString(16).padStart(2, '0')).join('');
}
