/**
 * An in-memory Photoshop for the panel's tests: documents, layers, pixels, masks, colour modes
 * and bit depths, the History panel, modal scopes and action recording, behaving the way the
 * UXP documentation describes Photoshop (imaging API, executeAsModal, hostControl, recordAction).
 *
 * Modelled after the documentation:
 * - Writes (new layer, delete, putPixels, putLayerMask, suspendHistory) throw outside a modal
 *   scope, and so do pixel reads (getPixels): public plugins report Photoshop refusing them
 *   outside executeAsModal, so the simulator holds the plugin to the stricter rule. executeAsModal throws (error number 9) while another plugin is modal; the same plugin
 *   may nest scopes ("You can have nested modal scopes"), sharing one cancel state.
 * - After the user cancels a modal scope, every further change throws.
 * - getPixels trims sourceBounds to the layer's pixels and returns the trimmed bounds; with a
 *   smaller targetSize it scales down and may read a pyramid level (bounds then relative to it).
 *   A layer with transparency gives 4 components, the Background layer 3.
 * - putPixels replaces the layer's pixels (replace defaults to true), top-left at targetBounds.
 *   putLayerMask takes one grayscale component only.
 * - suspendHistory coalesces every change until resumeHistory into one state (none if nothing
 *   changed); resumeHistory(s, false) rolls the document back. A scope that returns commits what
 *   is still suspended, one that throws cancels it.
 * - recordAction adds a step only while an action is being recorded; playing the action calls the
 *   global function named by methodName with (executionContext, info).
 * Assumed where the docs are silent: a new mask is white (reveal all) outside the written
 * rectangle; pixels written off the canvas are clipped.
 */
import { createHash } from 'crypto';
import { RGBAImage, resizeArea } from '../../../src/core/image';
import type {
  DocumentInfo, HistorySuspension, LayerInfo, ModalContext, PhotoshopHost, PixelBounds, PixelData, PixelsRead,
} from '../../../src/hosts/photoshop/ports';

/** A layer as Photoshop keeps it: what the plugin can ask about (LayerInfo, less the derived bounds) plus its pixels. */
export interface SimLayer extends Omit<LayerInfo, 'bounds'> {
  /** canvas-sized RGBA (pixel layers); null for groups, adjustments, fills */
  pixels: Uint8ClampedArray | null;
  /** canvas-sized user mask, or none */
  mask: Uint8ClampedArray | null;
}

interface DocState { layers: SimLayer[]; active: number[] }

export interface HistoryState { name: string; state: DocState }

/** A document as Photoshop keeps it: what the plugin can ask about (DocumentInfo) plus its layers and history. */
export interface SimDocument extends DocumentInfo {
  /** top of the Layers panel first */
  layers: SimLayer[];
  active: number[];
  history: HistoryState[];
  suspension: { id: number; name: string; before: DocState; changed: boolean } | null;
}

export interface PixelRead {
  documentID: number;
  layerID: number;
  requested?: PixelBounds;
  /** full-resolution bounds actually read */
  read: PixelBounds;
  targetSize?: { width?: number; height?: number };
  width: number;
  height: number;
  level: number;
}

export interface RecordedStep { name: string; methodName: string; info: Record<string, unknown> }
export interface RecordedAction { name: string; steps: RecordedStep[] }

export interface NewLayer {
  name: string;
  kind?: string;
  visible?: boolean;
  allLocked?: boolean;
  pixelsLocked?: boolean;
  /** pixels placed at (left, top) on the canvas; the rest of the layer is transparent */
  image?: RGBAImage;
  left?: number;
  top?: number;
}

export class PhotoshopSimulator implements PhotoshopHost {
  readonly documents: SimDocument[] = [];
  activeDocumentID: number | null = null;
  /** every getPixels call, for asserting what was read */
  readonly reads: PixelRead[] = [];
  /** how many modal scopes were entered, and the deepest nesting seen */
  modalEntries = 0;
  /** every modal scope entered: its command name and how many changes it made to documents */
  readonly scopes: { commandName: string; changes: number }[] = [];
  maxModalDepth = 0;
  /** another plugin holds the modal state: executeAsModal rejects with error number 9 */
  otherPluginModal = false;
  /** the user presses Cancel (or Escape) in the modal progress bar after this many changes */
  cancelAfterChanges: number | null = null;
  /** make the next call of this write fail, as Photoshop errors do */
  failNext: { op: 'createPixelLayer' | 'putPixels' | 'putLayerMask' | 'deleteLayer'; message: string } | null = null;
  readonly progressReports: { value?: number; commandName?: string }[] = [];

  private nextId = 1;
  private nextSuspension = 1;
  private modalDepth = 0;
  private modal: { cancelled: boolean; changes: number; ctx: ModalContext } | null = null;
  private recording: RecordedAction | null = null;

  // -------------------------------------------------------------------------------------------
  // setting up documents (what the user did before opening the panel)
  // -------------------------------------------------------------------------------------------

  /** Open a photo as a document with one Background layer. */
  openPhoto(photo: RGBAImage, opts: { title?: string; mode?: string; bitsPerChannel?: number; background?: boolean } = {}): SimDocument {
    const doc = this.newDocument(photo.width, photo.height, opts);
    const background = opts.background !== false;
    const layer = this.makeLayer(doc, { name: background ? 'Background' : 'Layer 1', image: photo });
    layer.isBackground = background;
    if (background) for (let i = 3; i < layer.pixels!.length; i += 4) layer.pixels![i] = 255;
    doc.layers.push(layer);
    doc.active = [layer.id];
    doc.history = [{ name: 'Open', state: snapshot(doc) }];
    return doc;
  }

  newDocument(width: number, height: number, opts: { title?: string; mode?: string; bitsPerChannel?: number } = {}): SimDocument {
    const doc: SimDocument = {
      id: this.nextId++, title: opts.title ?? `Untitled-${this.documents.length + 1}`, width, height,
      mode: opts.mode ?? 'RGBColorMode', bitsPerChannel: opts.bitsPerChannel ?? 8,
      layers: [], active: [], history: [], suspension: null,
    };
    doc.history = [{ name: 'New', state: snapshot(doc) }];
    this.documents.push(doc);
    this.activeDocumentID = doc.id;
    return doc;
  }

  /** Add a layer on top (setup, not a plugin call: no modal scope, one history state). */
  addLayer(docId: number, spec: NewLayer): SimLayer {
    const doc = this.docById(docId);
    const layer = this.makeLayer(doc, spec);
    doc.layers.unshift(layer);
    doc.active = [layer.id];
    doc.history.push({ name: 'New Layer', state: snapshot(doc) });
    return layer;
  }

  /** Click layers in the Layers panel (selection is not a history state: the current state keeps it). */
  select(docId: number, ...layerIds: number[]): void {
    const d = this.docById(docId);
    d.active = layerIds;
    d.history[d.history.length - 1].state.active = [...layerIds];
  }

  private makeLayer(doc: SimDocument, spec: NewLayer): SimLayer {
    const kind = spec.kind ?? 'pixel';
    const hasPixels = kind === 'pixel' || kind === 'text' || kind === 'smartObject';
    const pixels = hasPixels ? new Uint8ClampedArray(doc.width * doc.height * 4) : null;
    if (pixels && spec.image) blit(pixels, doc.width, doc.height, spec.image.data, spec.image.width, spec.image.height, 4, spec.left ?? 0, spec.top ?? 0);
    return {
      id: this.nextId++, name: spec.name, kind, visible: spec.visible ?? true, allLocked: spec.allLocked ?? false,
      pixelsLocked: spec.pixelsLocked ?? false, isBackground: false, pixels, mask: null,
    };
  }

  // -------------------------------------------------------------------------------------------
  // looking at the result
  // -------------------------------------------------------------------------------------------

  docById(id: number): SimDocument {
    const d = this.documents.find((x) => x.id === id);
    if (!d) throw new Error(`The document ${id} is not open.`);
    return d;
  }

  layerById(docId: number, id: number): SimLayer {
    const l = this.docById(docId).layers.find((x) => x.id === id);
    if (!l) throw new Error(`The layer ${id} does not exist.`);
    return l;
  }

  /** Modal scopes that changed a document (reads make scopes too, but change nothing). */
  get writeScopes(): number { return this.scopes.filter((x) => x.changes > 0).length; }

  /** Everything a user could see or undo, as a comparable value (pixels as sha256). */
  fingerprint(docId: number): unknown {
    const d = this.docById(docId);
    return {
      title: d.title, width: d.width, height: d.height, mode: d.mode, bits: d.bitsPerChannel, active: [...d.active],
      suspended: d.suspension !== null,
      layers: d.layers.map((l) => ({
        id: l.id, name: l.name, kind: l.kind, visible: l.visible, allLocked: l.allLocked, pixelsLocked: l.pixelsLocked,
        isBackground: l.isBackground, pixels: digest(l.pixels), mask: digest(l.mask),
      })),
      history: d.history.map((h) => h.name),
    };
  }

  /** Edit > Undo: back to the state before the last history entry. */
  undo(docId: number): void {
    const d = this.docById(docId);
    if (d.history.length < 2) throw new Error('Nothing to undo.');
    d.history.pop();
    restore(d, d.history[d.history.length - 1].state);
  }

  /** The visible image: layers bottom to top, each through its mask, normal blending. */
  composite(docId: number): RGBAImage {
    const d = this.docById(docId);
    const out = new Uint8ClampedArray(d.width * d.height * 4);
    for (let i = d.layers.length - 1; i >= 0; i--) {
      const l = d.layers[i];
      if (!l.visible || !l.pixels) continue;
      for (let p = 0; p < d.width * d.height; p++) {
        const a = (l.pixels[p * 4 + 3] / 255) * (l.mask ? l.mask[p] / 255 : 1);
        if (a === 0) continue;
        for (let c = 0; c < 3; c++) out[p * 4 + c] = out[p * 4 + c] * (1 - a) + l.pixels[p * 4 + c] * a;
        out[p * 4 + 3] = Math.max(out[p * 4 + 3], a * 255);
      }
    }
    return { width: d.width, height: d.height, data: out };
  }

  /** Where a layer has pixels (Layer.boundsNoEffects); an empty layer has zero size. */
  contentBounds(docId: number, layer: SimLayer): PixelBounds {
    const d = this.docById(docId);
    if (!layer.pixels) return { left: 0, top: 0, right: 0, bottom: 0 };
    let x0 = d.width, y0 = d.height, x1 = 0, y1 = 0;
    const px = layer.pixels, w = d.width;
    for (let y = 0; y < d.height; y++) {
      const row = y * w * 4;
      for (let x = 0; x < w; x++) {
        if (px[row + x * 4 + 3] === 0) continue;
        if (x < x0) x0 = x;
        if (x >= x1) x1 = x + 1;
        if (y < y0) y0 = y;
        y1 = y + 1;
      }
    }
    return x1 > x0 && y1 > y0 ? { left: x0, top: y0, right: x1, bottom: y1 } : { left: 0, top: 0, right: 0, bottom: 0 };
  }

  // -------------------------------------------------------------------------------------------
  // PhotoshopHost
  // -------------------------------------------------------------------------------------------

  activeDocument(): DocumentInfo | null {
    if (this.activeDocumentID === null) return null;
    const d = this.docById(this.activeDocumentID);
    return { id: d.id, title: d.title, width: d.width, height: d.height, mode: d.mode, bitsPerChannel: d.bitsPerChannel };
  }

  activeLayers(documentID: number): LayerInfo[] {
    const d = this.docById(documentID);
    return d.active.map((id) => this.info(d.id, this.layerById(d.id, id)));
  }

  layer(documentID: number, layerID: number): LayerInfo | null {
    const l = this.docById(documentID).layers.find((x) => x.id === layerID);
    return l ? this.info(documentID, l) : null;
  }

  layerBelow(documentID: number, layerID: number): LayerInfo | null {
    const layers = this.docById(documentID).layers;
    const i = layers.findIndex((x) => x.id === layerID);
    if (i < 0) throw new Error(`The layer ${layerID} does not exist.`);
    return i + 1 < layers.length ? this.info(documentID, layers[i + 1]) : null;
  }

  private info(docId: number, l: SimLayer): LayerInfo {
    return {
      id: l.id, name: l.name, kind: l.kind, visible: l.visible, allLocked: l.allLocked, pixelsLocked: l.pixelsLocked,
      isBackground: l.isBackground, bounds: this.contentBounds(docId, l),
    };
  }

  async getPixels(o: { documentID: number; layerID: number; sourceBounds?: PixelBounds; targetSize?: { width?: number; height?: number } }): Promise<PixelsRead> {
    if (this.modalDepth === 0 || !this.modal) {
      throw new Error('getPixels: the imaging API reads pixels only inside a modal scope (core.executeAsModal).');
    }
    if (this.modal.cancelled) throw new Error('getPixels: the user cancelled the operation.');
    const d = this.docById(o.documentID);
    const l = this.layerById(d.id, o.layerID);
    if (!l.pixels) throw new Error(`getPixels: the layer "${l.name}" has no pixels.`);
    const content = this.contentBounds(d.id, l);
    const want = o.sourceBounds ?? content;
    // "The provided bounds will be trimmed to only that region that contains pixel data."
    const b = {
      left: Math.max(want.left, content.left), top: Math.max(want.top, content.top),
      right: Math.min(want.right, content.right), bottom: Math.min(want.bottom, content.bottom),
    };
    if (b.right <= b.left || b.bottom <= b.top) throw new Error('getPixels: the requested area has no pixel data.');
    const sw = b.right - b.left, sh = b.bottom - b.top;
    const components = l.isBackground ? 3 : 4;
    let region: RGBAImage = { width: sw, height: sh, data: new Uint8ClampedArray(sw * sh * 4) };
    for (let y = 0; y < sh; y++) {
      const s = ((b.top + y) * d.width + b.left) * 4;
      region.data.set(l.pixels.subarray(s, s + sw * 4), y * sw * 4);
    }
    let level = 0;
    let sourceBounds: PixelBounds = b;
    if (o.targetSize && (o.targetSize.width || o.targetSize.height)) {
      const ts = o.targetSize;
      const tw = ts.width ?? Math.max(1, Math.round(sw * (ts.height! / sh)));
      const th = ts.height ?? Math.max(1, Math.round(sh * (ts.width! / sw)));
      if (tw < sw || th < sh) {
        while (level < 6 && sw / 2 ** (level + 1) >= tw && sh / 2 ** (level + 1) >= th) level++;
        const k = 2 ** level;
        sourceBounds = { left: Math.floor(b.left / k), top: Math.floor(b.top / k), right: Math.ceil(b.right / k), bottom: Math.ceil(b.bottom / k) };
        region = resizeArea(region, Math.min(tw, sw), Math.min(th, sh));
      }
    }
    this.reads.push({ documentID: d.id, layerID: l.id, requested: o.sourceBounds, read: b, targetSize: o.targetSize, width: region.width, height: region.height, level });
    const data = new Uint8Array(region.width * region.height * components);
    for (let i = 0, n = region.width * region.height; i < n; i++) {
      for (let c = 0; c < components; c++) data[i * components + c] = region.data[i * 4 + c];
    }
    return { width: region.width, height: region.height, components, data, sourceBounds, level };
  }

  async createPixelLayer(o: { documentID: number; name: string; above: number }): Promise<LayerInfo> {
    const d = this.beginChange('createPixelLayer', o.documentID);
    const at = d.layers.findIndex((l) => l.id === o.above);
    if (at < 0) throw new Error(`createLayer: the layer ${o.above} does not exist.`);
    const layer = this.makeLayer(d, { name: o.name });
    d.layers.splice(at, 0, layer);
    d.active = [layer.id];
    this.changed(d, 'New Layer');
    return this.info(d.id, layer);
  }

  async deleteLayer(o: { documentID: number; layerID: number }): Promise<void> {
    const d = this.beginChange('deleteLayer', o.documentID);
    const at = d.layers.findIndex((l) => l.id === o.layerID);
    if (at < 0) throw new Error(`delete: the layer ${o.layerID} does not exist.`);
    d.layers.splice(at, 1);
    if (d.active.includes(o.layerID)) d.active = d.layers[at] ? [d.layers[at].id] : d.layers.length ? [d.layers[d.layers.length - 1].id] : [];
    this.changed(d, 'Delete Layer');
  }

  async putPixels(o: { documentID: number; layerID: number; image: PixelData; targetBounds: { left: number; top: number }; commandName?: string }): Promise<void> {
    const d = this.beginChange('putPixels', o.documentID);
    const l = this.layerById(d.id, o.layerID);
    if (l.kind !== 'pixel' || !l.pixels) throw new Error('putPixels: the target layer must be a pixel layer.');
    if (l.allLocked || l.pixelsLocked) throw new Error(`putPixels: the layer "${l.name}" is locked.`);
    const img = o.image;
    if (img.components !== (l.isBackground ? 3 : 4)) throw new Error(`putPixels: the layer takes ${l.isBackground ? 3 : 4} components, got ${img.components}.`);
    if (img.data.length !== img.width * img.height * img.components) throw new Error('putPixels: the image data does not match its size.');
    l.pixels.fill(0); // replace: true
    blit(l.pixels, d.width, d.height, img.data, img.width, img.height, img.components, o.targetBounds.left, o.targetBounds.top);
    this.changed(d, o.commandName ?? 'Put Pixels');
  }

  async putLayerMask(o: { documentID: number; layerID: number; mask: PixelData; targetBounds: { left: number; top: number }; commandName?: string }): Promise<void> {
    const d = this.beginChange('putLayerMask', o.documentID);
    const l = this.layerById(d.id, o.layerID);
    if (l.isBackground) throw new Error('putLayerMask: the Background layer cannot have a mask.');
    const m = o.mask;
    if (m.components !== 1) throw new Error('putLayerMask: the mask must be image data with a single grayscale component.');
    if (m.data.length !== m.width * m.height) throw new Error('putLayerMask: the mask data does not match its size.');
    const mask = new Uint8ClampedArray(d.width * d.height).fill(255); // replace: true; new mask reveals all
    for (let y = 0; y < m.height; y++) {
      const ty = o.targetBounds.top + y;
      if (ty < 0 || ty >= d.height) continue;
      for (let x = 0; x < m.width; x++) {
        const tx = o.targetBounds.left + x;
        if (tx < 0 || tx >= d.width) continue;
        mask[ty * d.width + tx] = m.data[y * m.width + x];
      }
    }
    l.mask = mask;
    this.changed(d, o.commandName ?? 'Put Layer Mask');
  }

  async executeAsModal<T>(fn: (ctx: ModalContext) => Promise<T>, o: { commandName: string }): Promise<T> {
    if (this.otherPluginModal) throw Object.assign(new Error('Photoshop is in a modal state (another plugin).'), { number: 9 });
    if (!o || typeof o.commandName !== 'string') throw new Error('executeAsModal: options.commandName is required.');
    return this.runModal(fn, o.commandName);
  }

  async recordAction(o: { name: string; methodName: string }, info: Record<string, unknown>): Promise<void> {
    if (typeof o?.methodName !== 'string') throw new Error('Unsupported napi type');
    if (info === undefined) throw new Error('Failed Error: Argument 2 is missing');
    if (!this.recording) return;
    this.recording.steps.push({ name: o.name, methodName: o.methodName, info: JSON.parse(JSON.stringify(info)) });
  }

  // -------------------------------------------------------------------------------------------
  // the Actions panel
  // -------------------------------------------------------------------------------------------

  startRecording(name: string): void { this.recording = { name, steps: [] }; }

  stopRecording(): RecordedAction {
    const a = this.recording;
    if (!a) throw new Error('No action is being recorded.');
    this.recording = null;
    return a;
  }

  get isRecording(): boolean { return this.recording !== null; }

  /** Play an action: each plugin step calls the global methodName(executionContext, info) in a modal scope. */
  async playAction(action: RecordedAction, globals: object = globalThis): Promise<void> {
    for (const step of action.steps) {
      const fn = (globals as Record<string, unknown>)[step.methodName];
      if (typeof fn !== 'function') throw new Error('Script action failed.');
      await this.runModal((ctx) => (fn as (c: ModalContext, i: unknown) => Promise<unknown>)(ctx, JSON.parse(JSON.stringify(step.info))), `action step ${step.name}`);
    }
  }

  // -------------------------------------------------------------------------------------------

  private async runModal<T>(fn: (ctx: ModalContext) => Promise<T>, commandName: string): Promise<T> {
    this.modalEntries++;
    const scope = { commandName, changes: 0 };
    this.scopes.push(scope);
    this.modalDepth++;
    this.maxModalDepth = Math.max(this.maxModalDepth, this.modalDepth);
    const outer = this.modalDepth === 1;
    if (outer) {
      const state = { cancelled: false, changes: 0, ctx: null as unknown as ModalContext };
      const sim = this;
      state.ctx = {
        get isCancelled() { return state.cancelled; },
        onCancel: undefined,
        reportProgress(p) { sim.progressReports.push(p); },
        hostControl: {
          suspendHistory: (p) => sim.suspendHistory(p),
          resumeHistory: (s, commit) => sim.resumeHistory(s, commit),
        },
      };
      this.modal = state;
    }
    let ok = false;
    try {
      const r = await fn(this.modal!.ctx);
      ok = true;
      return r;
    } finally {
      this.modalDepth--;
      if (outer) {
        // "Photoshop will auto-resume history on any document that is still in a suspended state"
        for (const d of this.documents) {
          if (d.suspension) await this.resumeHistory({ historySuspensionID: d.suspension.id }, ok, true);
        }
        this.modal = null;
      }
    }
  }

  private async suspendHistory(p: { documentID: number; name: string }): Promise<HistorySuspension> {
    const d = this.beginChange('suspendHistory', p.documentID, false);
    if (d.suspension) throw new Error('suspendHistory: the history of this document is already suspended.');
    d.suspension = { id: this.nextSuspension++, name: p.name, before: snapshot(d), changed: false };
    return { historySuspensionID: d.suspension.id };
  }

  private async resumeHistory(s: HistorySuspension & { finalName?: string }, commit = true, internal = false): Promise<void> {
    if (!internal && this.modalDepth === 0) throw new Error('resumeHistory: only allowed inside a modal scope.');
    const d = this.documents.find((x) => x.suspension?.id === s?.historySuspensionID);
    if (!d) throw new Error('resumeHistory: unknown history suspension.');
    const sus = d.suspension!;
    d.suspension = null;
    if (!commit) { restore(d, sus.before); return; }
    // "Photoshop only creates a history state if the document was modified"
    if (sus.changed) d.history.push({ name: s.finalName ?? sus.name, state: snapshot(d) });
  }

  /** Checks every change goes through: a modal scope, not cancelled, injected failures. */
  private beginChange(op: string, documentID: number, count = true): SimDocument {
    if (this.modalDepth === 0 || !this.modal) {
      throw new Error(`${op}: this command modifies the document and is only allowed inside a modal scope (core.executeAsModal).`);
    }
    if (this.modal.cancelled) throw new Error(`${op}: the user cancelled the operation.`);
    if (this.failNext && this.failNext.op === op) {
      const m = this.failNext.message;
      this.failNext = null;
      throw new Error(m);
    }
    if (count && this.cancelAfterChanges !== null && this.modal.changes >= this.cancelAfterChanges) {
      this.modal.cancelled = true;
      this.modal.ctx.onCancel?.();
      throw new Error(`${op}: the user cancelled the operation.`);
    }
    return this.docById(documentID);
  }

  private changed(d: SimDocument, name: string): void {
    if (this.modal) this.modal.changes++;
    const scope = this.scopes[this.scopes.length - 1];
    if (scope) scope.changes++;
    if (d.suspension) d.suspension.changed = true;
    else d.history.push({ name, state: snapshot(d) });
  }
}

// ---------------------------------------------------------------------------------------------

function cloneLayer(l: SimLayer): SimLayer {
  return { ...l, pixels: l.pixels && new Uint8ClampedArray(l.pixels), mask: l.mask && new Uint8ClampedArray(l.mask) };
}

function snapshot(d: SimDocument): DocState {
  return { layers: d.layers.map(cloneLayer), active: [...d.active] };
}

function restore(d: SimDocument, s: DocState): void {
  d.layers = s.layers.map(cloneLayer);
  d.active = [...s.active];
}

function digest(a: Uint8ClampedArray | null): string | null {
  return a ? createHash('sha256').update(a).digest('hex') : null;
}

/** Copy interleaved pixels (3 or 4 components) into a canvas-sized RGBA buffer, clipped. */
function blit(dst: Uint8ClampedArray, dw: number, dh: number, src: ArrayLike<number>, sw: number, sh: number, comps: number, left: number, top: number): void {
  for (let y = 0; y < sh; y++) {
    const ty = top + y;
    if (ty < 0 || ty >= dh) continue;
    for (let x = 0; x < sw; x++) {
      const tx = left + x;
      if (tx < 0 || tx >= dw) continue;
      const s = (y * sw + x) * comps, t = (ty * dw + tx) * 4;
      dst[t] = src[s]; dst[t + 1] = src[s + 1]; dst[t + 2] = src[s + 2];
      dst[t + 3] = comps === 4 ? src[s + 3] : 255;
    }
  }
}
