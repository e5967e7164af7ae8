/**
 * The plugin panel: the same controls as the Photoshop panel (direction, strength, faces, upscale,
 * transform, progress, cancel), driving the engine in this page (app/engine-port.ts localEngine)
 * and Photopea through PhotopeaHost. The flow is the use case's (src/app); this file is its
 * Photopea adapter: the exported document is the source (cached by its digest, with its faces),
 * a new Photopea layer with its mask is the sink, and the controls show what the use case reports.
 */
import type { DetectedFace, FaceSelection } from '../../core/faces';
import { describeFaces } from '../../core/faces';
import type { RGBAImage } from '../../core/image';
import { FaceShiftError, errorCode } from '../../core/errors';
import type { EngineInfo } from '../../engine/engine';
import type { EnginePort } from '../../app/engine-port';
import { HostWords, messages } from '../../app/messages';
import { FaceShiftSettings, RunProgress, RunStage, TransformOutcome, UseCase, findFaces, transformDocument } from '../../app/transform';
import { PreviewView, previewFace } from '../../app/preview';
import { PhotopeaScriptError, PhotopeaTimeoutError } from './bridge';
import { DocumentSignature, PhotopeaHost, PhotopeaHostError } from './host';
import { PhotopeaDocument } from './document';

/** The panel's words for what to do. */
const WORDS: HostWords = {
  where: 'in the document',
  noFace: 'use one where a face is visible, or crop it closer around the face.',
  chooseFace: 'Choose again under Faces.',
  enlarge: 'Use a larger photo or a closer crop.',
};

const STAGE_TEXT: Record<RunStage, string> = {
  read: 'Reading the document from Photopea',
  detect: 'Finding faces',
  align: 'Aligning face',
  transform: 'Transforming face',
  upscale: 'Upscaling face',
  paste: 'Blending face',
  write: 'Adding the layer to Photopea',
};

/** The last run, for the curious (window.faceshift.panel.lastRun): the use case's outcome in Photopea's terms. */
export type RunSummary = TransformOutcome<DocumentSignature>;

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

export class PhotopeaPanel {
  readonly el: Elements;
  private engine: EnginePort | null = null;
  private info: EngineInfo | null = null;
  private busy: AbortController | null = null;
  /** the document as last exported, with its faces (the source and sink of every run) */
  private readonly document: PhotopeaDocument;
  /** the last successful run, for the curious */
  lastRun: RunSummary | null = null;
  /** Photopea's answer to the handshake: null while waiting */
  private connected: boolean | null = null;
  private readonly live = {
    timer: null as ReturnType<typeof setTimeout> | null,
    ctl: null as AbortController | null,
    job: Promise.resolve() as Promise<void>,
    /** the preview's view, for the document read under `key` */
    view: null as { key: string; view: PreviewView } | null,
    before: null as RGBAImage | null,
    after: null as RGBAImage | null,
    showBefore: false,
    /** bumped on every preview drawn (the canvas's data-drawn) */
    drawn: 0,
  };

  constructor(private readonly host: PhotopeaHost, doc: Document = document) {
    this.el = elements(doc);
    this.document = new PhotopeaDocument(host);
    const { strength, strengthValue, run, cancel, find, direction, faceSelect, previewToggle, previewRefresh } = this.el;
    strength.addEventListener('input', () => { strengthValue.textContent = `${strength.value}%`; this.schedulePreview(); });
    direction.addEventListener('change', () => this.schedulePreview(0));
    faceSelect.addEventListener('change', () => this.schedulePreview(0));
    run.addEventListener('click', () => { void this.transform(); });
    find.addEventListener('click', () => { void this.findFaces(); });
    cancel.addEventListener('click', () => this.cancel());
    previewToggle.addEventListener('click', () => { this.live.showBefore = !this.live.showBefore; this.drawPreview(); });
    previewRefresh.addEventListener('click', () => { this.document.current = null; this.schedulePreview(0); });
    this.setBusy(false);
  }

  /** Engine ready: fill the direction picker from what it offers; the controls wait for Photopea too. */
  ready(engine: EnginePort, info: EngineInfo): void {
    this.engine = engine;
    this.info = info;
    const { direction, backend: badge } = this.el;
    direction.replaceChildren(...info.directions.map((d) => new Option(d.label, d.direction)));
    badge.textContent = info.backend === 'webgpu' ? 'WebGPU' : 'WASM';
    badge.className = `badge ${info.backend}`;
    badge.title = info.backend === 'webgpu' ? 'The networks run on your graphics card (WebGPU).' : 'The networks run on your processor (WebAssembly); no WebGPU adapter was found.';
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

  /** The use case's progress, relabelled (no stage: cleared). */
  private progress(p: RunProgress | null): void {
    this.el.progress.value = p ? p.fraction : 0;
    this.el.stage.textContent = p ? `${STAGE_TEXT[p.stage]}${p.faces ? ` ${p.face} of ${p.faces}` : ''}…` : '';
  }

  private setBusy(busy: boolean, cancellable = busy): void {
    const off = busy || !this.usable;
    for (const c of [this.el.run, this.el.find, this.el.direction, this.el.strength, this.el.faceSelect, this.el.upscale, this.el.previewToggle, this.el.previewRefresh]) c.disabled = off;
    if (!off && this.document.current?.faces?.length === 1) this.el.faceSelect.disabled = true; // nothing to choose
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

  private settings(faces = this.selection()): FaceShiftSettings {
    return { direction: this.el.direction.value, strength: Number(this.el.strength.value) / 100, faces, upscale: this.el.upscale.checked };
  }

  /** The faces in words ("Face 1 (left), large"); with one face there is nothing to choose. */
  private showFaces(faces: DetectedFace[], photo: { width: number; height: number }): void {
    const { faceSelect } = this.el;
    const keep = faceSelect.value;
    const words = describeFaces(faces, photo, this.info?.minFaceSize);
    if (words.length === 1) {
      faceSelect.replaceChildren(new Option(words[0], 'all'));
      faceSelect.disabled = true;
      return;
    }
    faceSelect.replaceChildren(new Option('All faces', 'all'), new Option('Largest face', 'largest'), ...words.map((w, i) => new Option(w, String(i + 1))));
    if (Array.from(faceSelect.options).some((o) => o.value === keep)) faceSelect.value = keep;
    faceSelect.disabled = !this.usable || !!this.busy;
  }

  /** The use case's view of Photopea (`reuseFor` ms: a document read that recently is not exported again). */
  private useCase(reuseFor = 0): UseCase {
    return { engine: this.engine!, open: () => this.document.open(reuseFor), words: WORDS };
  }

  /** The faces as soon as they are known: kept with the document, listed in the picker. */
  private readonly onFaces = (faces: DetectedFace[]) => {
    this.document.keepFaces(faces);
    if (this.document.current) this.showFaces(faces, this.document.current.image);
  };

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
    const ctl = new AbortController();
    this.live.ctl = ctl;
    const { signal } = ctl;
    const s = this.settings();
    try {
      this.el.previewCaption.textContent = 'Updating the preview…';
      // changes in a burst reuse the document as read; later ones read it again (the user may have edited it)
      const p = await previewFace(this.useCase(PREVIEW_REUSE_MS), s, {
        signal, onFaces: this.onFaces,
        reuseView: () => (this.live.view && this.live.view.key === this.document.current?.key ? this.live.view.view : null),
      });
      if (signal.aborted) return;
      this.live.view = { key: this.document.current!.key, view: p.view };
      this.live.before = p.before;
      this.live.after = p.after;
      this.drawPreview();
      this.el.preview.dataset.face = String(p.faceNumber);
      this.el.preview.dataset.strength = String(Math.round(s.strength * 100));
      this.el.previewCaption.textContent = `Face ${p.faceNumber}${p.faces > 1 ? ` of ${p.faces}` : ''} at ${Math.round(s.strength * 100)}%, without upscaling. The document is not changed.`;
    } catch (e) {
      if (signal.aborted || errorCode(e) === 'CANCELLED') return;
      if (errorCode(e) === 'NO_FACE') {
        this.live.before = this.live.after = null;
        this.drawPreview();
        this.el.previewCaption.textContent = 'No face to preview in this document.';
        return;
      }
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
      const { faces, doc } = await findFaces(this.useCase(), { signal: ctl.signal, onFaces: this.onFaces, onProgress: (p) => this.progress(p) });
      const image = doc.source;
      const words = describeFaces(faces, image, this.info?.minFaceSize);
      this.status(faces.length === 1 ? `Found 1 face: ${words[0]}. Click Transform face.`
        : faces.length ? `Found ${faces.length} faces. Choose which to transform under Faces (or keep All faces), then click Transform face.`
          : messages.noFace(image, WORDS), faces.length ? 'info' : 'error');
    } catch (e) {
      this.status(describeError(e), errorCode(e) === 'CANCELLED' ? 'info' : 'error');
    } finally {
      this.end();
    }
  }

  async transform(): Promise<RunSummary | null> {
    if (this.busy || !this.usable) return null;
    const ctl = this.begin();
    const { signal } = ctl;
    try {
      await this.stopPreview(); // one engine run at a time
      const settings = this.settings(); // the face chosen before the list is refreshed from this document
      const r = await transformDocument({ ...this.useCase(), sink: this.document.sink(() => this.setBusy(true, false)) },
        settings, { signal, onFaces: this.onFaces, onProgress: (p) => this.progress(p) });
      this.lastRun = r;
      this.progress(null);
      this.el.progress.value = 1;
      const n = r.transformed.length;
      const skipped = r.skipped.map((x) => x.reason);
      this.status(`Done: ${n} face${n > 1 ? 's' : ''} transformed into the new layer “${r.name}”.`
        + (skipped.length ? ` Skipped ${skipped.length}: ${skipped.join('; ')}.` : '') + ' Paint its mask to refine.', 'ok');
      return r;
    } catch (e) {
      this.progress(null);
      this.status(describeError(e), errorCode(e) === 'CANCELLED' ? 'info' : 'error');
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
    if (this.el.progress.value < 1) this.progress(null);
    this.schedulePreview(0);
  }
}
