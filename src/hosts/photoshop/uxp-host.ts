/**
 * PhotoshopHost (ports.ts) over the real `require('photoshop')` (app, core, imaging, action). Thin
 * on purpose: every decision lives in the use case (src/app) and controller.ts, which the tests
 * drive against a simulator.
 */
import type * as PS from 'photoshop';
import type { RGBAImage } from '../../core/image';
import type {
  DocumentInfo, LayerInfo, ModalContext, PhotoshopHost, PixelBounds, PixelData, PixelsRead,
} from './ports';

type Photoshop = typeof PS;
type Doc = ReturnType<Photoshop['app']['documents']['getByName']> & object;
type Layer = NonNullable<ReturnType<Doc['layers']['getByName']>>;

const BITS: Record<string, number> = { bitDepth1: 1, bitDepth8: 8, bitDepth16: 16, bitDepth32: 32 };

function layerInfo(l: Layer): LayerInfo {
  const b = l.boundsNoEffects;
  return {
    id: l.id, name: l.name, kind: String(l.kind), visible: l.visible,
    allLocked: l.allLocked, pixelsLocked: l.pixelsLocked, isBackground: l.isBackgroundLayer,
    bounds: { left: Math.floor(b.left), top: Math.floor(b.top), right: Math.ceil(b.right), bottom: Math.ceil(b.bottom) },
  };
}

/** Depth-first search through groups (Document.layers lists only the top level). */
function findLayer(layers: ArrayLike<Layer> | undefined, id: number): Layer | null {
  if (!layers) return null;
  for (let i = 0; i < layers.length; i++) {
    const l = layers[i];
    if (l.id === id) return l;
    const inner = findLayer((l as unknown as { layers?: ArrayLike<Layer> }).layers, id);
    if (inner) return inner;
  }
  return null;
}

export class UxpPhotoshopHost implements PhotoshopHost {
  constructor(private readonly ps: Photoshop) {}

  private doc(id: number): Doc {
    const d = this.ps.app.documents.find((x) => x.id === id);
    if (!d) throw new Error(`Document ${id} is no longer open.`);
    return d as Doc;
  }

  private layerObj(documentID: number, layerID: number): Layer {
    const l = findLayer(this.doc(documentID).layers as unknown as ArrayLike<Layer>, layerID);
    if (!l) throw new Error(`Layer ${layerID} no longer exists.`);
    return l;
  }

  activeDocument(): DocumentInfo | null {
    if (!this.ps.app.documents.length) return null;
    const d = this.ps.app.activeDocument;
    if (!d) return null;
    return { id: d.id, title: d.title, width: d.width, height: d.height, mode: String(d.mode), bitsPerChannel: BITS[String(d.bitsPerChannel)] ?? 0 };
  }

  activeLayers(documentID: number): LayerInfo[] {
    const layers = this.doc(documentID).activeLayers as unknown as ArrayLike<Layer>;
    return Array.from(layers, layerInfo);
  }

  layer(documentID: number, layerID: number): LayerInfo | null {
    const l = findLayer(this.doc(documentID).layers as unknown as ArrayLike<Layer>, layerID);
    return l ? layerInfo(l) : null;
  }

  layerBelow(documentID: number, layerID: number): LayerInfo | null {
    const l = this.layerObj(documentID, layerID);
    // Layer.parent is null at the top level; siblings are listed top first
    const parent = (l as unknown as { parent?: { layers?: ArrayLike<Layer> } | null }).parent;
    const siblings = (parent?.layers ?? this.doc(documentID).layers) as unknown as ArrayLike<Layer>;
    const i = Array.from(siblings).findIndex((x) => x.id === layerID);
    return i >= 0 && i + 1 < siblings.length ? layerInfo(siblings[i + 1]) : null;
  }

  /** Call inside executeAsModal (the controller does). Optional keys are left out, never sent as undefined. */
  async getPixels(o: { documentID: number; layerID: number; sourceBounds?: PixelBounds; targetSize?: { width?: number; height?: number } }): Promise<PixelsRead> {
    const r = await this.ps.imaging.getPixels({
      documentID: o.documentID, layerID: o.layerID, componentSize: 8,
      ...(o.sourceBounds ? { sourceBounds: o.sourceBounds } : {}),
      ...(o.targetSize ? { targetSize: definedOnly(o.targetSize) } : {}),
    });
    try {
      const data = await r.imageData.getData({ chunky: true });
      if (!(data instanceof Uint8Array)) throw new Error(`expected 8-bit pixels, got ${r.imageData.componentSize}-bit`);
      const b = r.sourceBounds;
      return {
        width: r.imageData.width, height: r.imageData.height, components: r.imageData.components, data,
        sourceBounds: { left: b.left, top: b.top, right: b.right, bottom: b.bottom }, level: r.level,
      };
    } finally {
      r.imageData.dispose();
    }
  }

  async createPixelLayer(o: { documentID: number; name: string; above: number }): Promise<LayerInfo> {
    const doc = this.doc(o.documentID);
    const source = this.layerObj(o.documentID, o.above);
    // Photoshop puts a new layer above the active one; move it there explicitly in case the selection changed.
    const created = await doc.createPixelLayer({ name: o.name });
    if (!created) throw new Error('Photoshop did not create the layer.');
    created.move(source as never, this.ps.constants.ElementPlacement.PLACEBEFORE);
    return layerInfo(created as unknown as Layer);
  }

  async deleteLayer(o: { documentID: number; layerID: number }): Promise<void> {
    this.layerObj(o.documentID, o.layerID).delete();
  }

  async putPixels(o: { documentID: number; layerID: number; image: PixelData; targetBounds: { left: number; top: number }; commandName?: string }): Promise<void> {
    const img = o.image;
    const imageData = await this.ps.imaging.createImageDataFromBuffer(asBytes(img.data), {
      width: img.width, height: img.height, components: img.components, chunky: true, colorSpace: 'RGB',
    });
    try {
      await this.ps.imaging.putPixels({ documentID: o.documentID, layerID: o.layerID, imageData, replace: true,
        // the imaging API reads left/top only; the typings want a full BoundsSize
        targetBounds: { ...o.targetBounds, width: img.width, height: img.height }, ...(o.commandName ? { commandName: o.commandName } : {}) });
    } finally {
      imageData.dispose();
    }
  }

  async putLayerMask(o: { documentID: number; layerID: number; mask: PixelData; targetBounds: { left: number; top: number }; commandName?: string }): Promise<void> {
    const m = o.mask;
    if (m.components !== 1) throw new Error('A layer mask takes one grayscale component.');
    const imageData = await this.ps.imaging.createImageDataFromBuffer(asBytes(m.data), {
      width: m.width, height: m.height, components: 1, chunky: false, colorSpace: 'Grayscale', colorProfile: 'Gray Gamma 2.2',
    });
    try {
      await this.ps.imaging.putLayerMask({ documentID: o.documentID, layerID: o.layerID, kind: 'user', imageData, replace: true,
        targetBounds: { ...o.targetBounds, width: m.width, height: m.height }, ...(o.commandName ? { commandName: o.commandName } : {}) });
    } finally {
      imageData.dispose();
    }
  }

  executeAsModal<T>(fn: (ctx: ModalContext) => Promise<T>, o: { commandName: string }): Promise<T> {
    // Photoshop's executionContext already has the ModalContext shape (isCancelled, reportProgress, hostControl).
    return this.ps.core.executeAsModal((ctx) => fn(ctx as unknown as ModalContext), { commandName: o.commandName });
  }

  async recordAction(o: { name: string; methodName: string }, info: Record<string, unknown>): Promise<void> {
    // action.recordAction is Photoshop 25.0+ and missing from @types/photoshop 25.0.
    const action = this.ps.action as unknown as { recordAction?: (o: { name: string; methodName: string }, info: object) => Promise<void> };
    if (typeof action.recordAction !== 'function') return;
    await action.recordAction(o, info);
  }
}

/**
 * An image as a data URL an <img> in the panel can show: UXP image elements take JPEG/base64 only,
 * which imaging.encodeImageData makes (no document is read or changed).
 */
export async function jpegDataUrl(ps: Photoshop, img: RGBAImage): Promise<string> {
  const rgb = new Uint8Array(img.width * img.height * 3);
  for (let i = 0, n = img.width * img.height; i < n; i++) {
    rgb[i * 3] = img.data[i * 4]; rgb[i * 3 + 1] = img.data[i * 4 + 1]; rgb[i * 3 + 2] = img.data[i * 4 + 2];
  }
  const imageData = await ps.imaging.createImageDataFromBuffer(rgb, { width: img.width, height: img.height, components: 3, chunky: true, colorSpace: 'RGB' });
  try {
    const b64 = await ps.imaging.encodeImageData({ imageData, base64: true });
    return `data:image/jpeg;base64,${String(b64)}`;
  } finally {
    imageData.dispose();
  }
}

/** The same object without its undefined values (Photoshop's API rejects keys sent as undefined). */
function definedOnly<T extends object>(o: T): T {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as T;
}

function asBytes(d: Uint8Array | Uint8ClampedArray): Uint8Array {
  return d instanceof Uint8Array ? d : new Uint8Array(d.buffer, d.byteOffset, d.byteLength);
}

/** The module Photoshop provides to plugins (webpack keeps `photoshop` external). */
export function photoshopModule(): Photoshop {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  return require('photoshop') as Photoshop;
}

/** The host over the module Photoshop provides to plugins. */
export function createUxpHost(): UxpPhotoshopHost {
  return new UxpPhotoshopHost(photoshopModule());
}
