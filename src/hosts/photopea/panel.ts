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
import { faceSize } from '../../core/faces';
import { facesToLayer } from '../../core/layer';
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
  faceSelect: HTMLSelectElement; find: HTMLButtonElement; faces: HTMLOListElement; upscale: HTMLInputElement;
  run: HTMLButtonElement; cancel: HTMLButtonElement; progress: HTMLProgressElement; stage: HTMLElement; status: HTMLElement;
}

function elements(doc: Document): Elements {
  const $ = <T extends HTMLElement>(id: string) => {
    const el = doc.getElementById(id);
    if (!el) throw new Error(`The panel page lacks #${id}.`);
    return el as T;
  };
  return {
    backend: $('backend'), direction: $('direction'), strength: $('strength'), strengthValue: $('strength-value'),
    faceSelect: $('face-select'), find: $('find'), faces: $('faces'), upscale: $('upscale'),
    run: $('run'), cancel: $('cancel'), progress: $('progress'), stage: $('stage'), status: $('status'),
  };
}

/** Plain-language text for any error the flow can raise. */
export function describeError(e: unknown): string {
  if (e instanceof FaceShiftError || e instanceof PhotopeaHostError) return e.message;
  if (e instanceof PhotopeaTimeoutError) return `${e.message} Open FaceShift from Photopea's Plugins panel and try again.`;
  if (e instanceof PhotopeaScriptError) return `Photopea reported an error: “${e.message}”. Nothing was changed.`;
  const m = (e as Error)?.message ?? String(e);
  return `Something went wrong: ${m}`;
}

export class PhotopeaPanel {
  readonly el: Elements;
  private engine: FaceEngine | null = null;
  private busy: AbortController | null = null;
  /** faces found in the last exported image, keyed by its digest */
  private detection: { key: string; faces: DetectedFace[] } | null = null;
  /** the last successful run, for the curious (and the tests) */
  lastRun: RunSummary | null = null;
  /** set when Photopea did not answer the page's first message */
  private unreachable: string | null = null;

  constructor(private readonly host: PhotopeaHost, doc: Document = document) {
    this.el = elements(doc);
    const { strength, strengthValue, run, cancel, find } = this.el;
    strength.addEventListener('input', () => { strengthValue.textContent = `${strength.value}%`; });
    run.addEventListener('click', () => { void this.transform(); });
    find.addEventListener('click', () => { void this.findFaces(); });
    cancel.addEventListener('click', () => this.cancel());
  }

  /** Engine ready: fill the direction picker from the manifest and enable the controls. */
  ready(engine: FaceEngine, backend: 'webgpu' | 'wasm'): void {
    this.engine = engine;
    const { direction, backend: badge } = this.el;
    direction.replaceChildren(...engine.directions().map((d) => new Option(d.label, d.direction)));
    direction.disabled = false;
    badge.textContent = backend === 'webgpu' ? 'WebGPU' : 'WASM';
    badge.className = `badge ${backend}`;
    badge.title = backend === 'webgpu' ? 'The networks run on your graphics card (WebGPU).' : 'The networks run on your processor (WebAssembly); no WebGPU adapter was found.';
    this.setBusy(false);
    if (this.unreachable) this.status(this.unreachable, 'error');
    else this.status('Ready. Open a photo in Photopea, choose a direction and click Transform face.');
  }

  /** The result of pinging Photopea at start-up (the controls stay usable: it may answer later). */
  photopea(answered: boolean): void {
    this.unreachable = answered ? null : 'Photopea did not answer. Open FaceShift from inside Photopea (Window › Plugins); opened on its own, this page has no document to work on.';
    if (this.unreachable) this.status(this.unreachable, 'error');
  }

  failed(e: unknown): void {
    this.el.backend.textContent = 'unavailable';
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
    const ready = !!this.engine;
    this.el.run.disabled = busy || !ready;
    this.el.find.disabled = busy || !ready;
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

  private showFaces(faces: DetectedFace[]): void {
    const { faceSelect, faces: list } = this.el;
    const keep = faceSelect.value;
    for (const o of Array.from(faceSelect.options)) if (o.value !== 'all' && o.value !== 'largest') o.remove();
    faces.forEach((_, i) => faceSelect.add(new Option(`Face ${i + 1} only`, String(i + 1))));
    if (Array.from(faceSelect.options).some((o) => o.value === keep)) faceSelect.value = keep;
    list.replaceChildren(...faces.map((f, i) => {
      const li = document.createElement('li');
      li.textContent = `Face ${i + 1}: ${Math.round(faceSize(f))} px, at ${Math.round(f.box.x)}, ${Math.round(f.box.y)}`;
      return li;
    }));
  }

  /** Export the document and detect its faces (cached for the same pixels). */
  private async readAndDetect(signal: AbortSignal) {
    const engine = this.engine!;
    const t0 = performance.now();
    this.progress('export', SPAN.export[0]);
    const { doc, png } = await this.host.exportDocument();
    if (signal.aborted) throw new FaceShiftError('CANCELLED', 'Cancelled. Nothing was changed.');
    const { image, bitmap } = await decodeImage(png);
    const source = new BitmapPhotoSource(image, bitmap);
    const exportMs = performance.now() - t0;
    const key = await digest(png);
    let faces = this.detection?.key === key ? this.detection.faces : null;
    if (!faces) {
      this.progress('detect', SPAN.export[1]);
      faces = await engine.detect(source, signal);
      this.detection = { key, faces };
    }
    this.showFaces(faces);
    return { doc, image, source, faces, exportMs };
  }

  async findFaces(): Promise<void> {
    if (this.busy || !this.engine) return;
    const ctl = this.begin();
    try {
      const { faces, image } = await this.readAndDetect(ctl.signal);
      this.status(faces.length
        ? `Found ${faces.length} face${faces.length > 1 ? 's' : ''}. Choose which to transform, then click Transform face.`
        : noFaceMessage(image), faces.length ? 'info' : 'error');
    } catch (e) {
      this.status(describeError(e), (e as FaceShiftError).code === 'CANCELLED' ? 'info' : 'error');
    } finally {
      this.end();
    }
  }

  async transform(): Promise<RunSummary | null> {
    if (this.busy || !this.engine) return null;
    const engine = this.engine;
    const ctl = this.begin();
    const { signal } = ctl;
    try {
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
  }
}

async function digest(bytes: ArrayBuffer): Promise<string> {
  const subtle = globalThis.crypto?.subtle;
  if (!subtle) return sha256Hex(new Uint8Array(bytes));
  const d = new Uint8Array(await subtle.digest('SHA-256', bytes));
  return Array.from(d.subarray(0, 16), (b) => b.toString(16).padStart(2, '0')).join('');
}
