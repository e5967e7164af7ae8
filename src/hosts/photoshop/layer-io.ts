/**
 * The Photoshop host's source and sink: a layer's pixels as the use case reads them, and the new
 * layer written back. Each read is its own short modal scope (the imaging API's reads are made in
 * one, as public plugins do); the write is one more, which only creates the layer, writes its
 * pixels and mask, as one history step. Nothing slow (the nets) ever runs inside a modal scope.
 */
import type { Box } from '../../core/geometry';
import { RGBAImage, createRGBA, toRGBA } from '../../core/image';
import type { FaceLayer } from '../../core/layer';
import { CancelSignal, cancelled } from '../../core/errors';
import type { DocumentSource } from '../../app/transform';
import type { LayerInfo, PhotoshopHost, PixelBounds, PixelsRead, Target } from './ports';
import { PhotoshopError, asPhotoshopCallError } from './errors';

/** The layer FaceShift reads, in its frame's coordinates (the part of the layer on the canvas). */
export class LayerSource implements DocumentSource {
  readonly width: number;
  readonly height: number;

  constructor(private readonly host: PhotoshopHost, private readonly t: Pick<Target, 'doc' | 'layer' | 'frame'>, private readonly signal?: CancelSignal) {
    this.width = t.frame.right - t.frame.left;
    this.height = t.frame.bottom - t.frame.top;
  }

  /** A small copy of the whole frame (getPixels with targetSize). */
  async readPreview(maxSide: number): Promise<RGBAImage> {
    const k = Math.min(1, maxSide / Math.max(this.width, this.height));
    const targetSize = { width: Math.max(1, Math.round(this.width * k)), height: Math.max(1, Math.round(this.height * k)) };
    const read = await this.read(this.t.frame, targetSize);
    return toRGBA(read.data, read.width, read.height, read.components);
  }

  /** Full-resolution pixels of a box of the frame; padded with transparency where Photoshop trimmed it to the layer's pixels. */
  async readRegion(box: Box): Promise<RGBAImage> {
    const want = this.bounds(box);
    const read = await this.read(want);
    const got = toRGBA(read.data, read.width, read.height, read.components);
    const b = read.sourceBounds;
    if (b.left === want.left && b.top === want.top && got.width === box.width && got.height === box.height) return got;
    const out = createRGBA(box.width, box.height);
    for (let y = 0; y < got.height; y++) {
      const ty = b.top - want.top + y;
      if (ty < 0 || ty >= box.height) continue;
      for (let x = 0; x < got.width; x++) {
        const tx = b.left - want.left + x;
        if (tx < 0 || tx >= box.width) continue;
        out.data.set(got.data.subarray((y * got.width + x) * 4, (y * got.width + x) * 4 + 4), (ty * box.width + tx) * 4);
      }
    }
    return out;
  }

  /** A box scaled by Photoshop (the preview's view): nothing larger than width x height crosses. */
  async readView(box: Box, width: number, height: number): Promise<RGBAImage> {
    const read = await this.read(this.bounds(box), width < box.width || height < box.height ? { width, height } : undefined);
    return toRGBA(read.data, read.width, read.height, read.components);
  }

  private bounds(box: Box): PixelBounds {
    const f = this.t.frame;
    return { left: f.left + box.x, top: f.top + box.y, right: f.left + box.x + box.width, bottom: f.top + box.y + box.height };
  }

  /**
   * imaging.getPixels in its own short modal scope: public plugins report that Photoshop refuses
   * the read outside one. Inside an action's playback (already modal) the scope nests, as the
   * documentation allows.
   */
  private async read(sourceBounds: PixelBounds, targetSize?: { width: number; height: number }): Promise<PixelsRead> {
    const { host, signal } = this;
    try {
      return await host.executeAsModal(async (ctx) => {
        if (ctx.isCancelled || signal?.aborted) throw cancelled();
        return host.getPixels({ documentID: this.t.doc.id, layerID: this.t.layer.id, sourceBounds, ...(targetSize ? { targetSize } : {}) });
      }, { commandName: 'FaceShift: reading the layer' });
    } catch (e) {
      throw asPhotoshopCallError(e, 'READ');
    }
  }
}

/**
 * The sink: one modal scope, one history step: a new layer above the selected one, its pixels,
 * its mask. On any error or cancel the half-made layer is removed and the history step dropped.
 */
export async function writeFaceLayer(host: PhotoshopHost, t: Target, layer: FaceLayer, name: string, signal?: CancelSignal): Promise<LayerInfo> {
  const documentID = t.doc.id, sourceID = t.layer.id;
  const at = { left: t.frame.left + layer.box.x, top: t.frame.top + layer.box.y };
  try {
    return await host.executeAsModal(async (ctx) => {
      const stop = () => { if (ctx.isCancelled || signal?.aborted) throw cancelled(); };
      stop();
      // the source may have changed while the nets ran
      if (!host.layer(documentID, sourceID)) {
        throw new PhotoshopError('CHANGED', 'The layer was deleted while FaceShift was working. Nothing was changed; select a layer and try again.');
      }
      const above = host.layer(documentID, t.selected.id) ? t.selected.id : sourceID;
      const suspension = await ctx.hostControl.suspendHistory({ documentID, name });
      let created: LayerInfo | null = null;
      try {
        ctx.reportProgress({ value: 0.1, commandName: 'FaceShift: adding the layer' });
        created = await host.createPixelLayer({ documentID, name, above });
        stop();
        await host.putPixels({ documentID, layerID: created.id, image: { ...layer.rgba, components: 4 }, targetBounds: at, commandName: name });
        stop();
        ctx.reportProgress({ value: 0.6, commandName: 'FaceShift: adding the mask' });
        await host.putLayerMask({ documentID, layerID: created.id, mask: { ...layer.mask, components: 1 }, targetBounds: at, commandName: name });
        stop();
        await ctx.hostControl.resumeHistory(suspension, true);
        ctx.reportProgress({ value: 1 });
        return host.layer(documentID, created.id) ?? created;
      } catch (e) {
        // Leave the document as it was: no half-made layer, no history state.
        if (created && host.layer(documentID, created.id)) {
          try { await host.deleteLayer({ documentID, layerID: created.id }); } catch { /* rolled back below */ }
        }
        try { await ctx.hostControl.resumeHistory(suspension, false); } catch { /* Photoshop cancels it when the scope throws */ }
        throw e;
      }
    }, { commandName: name });
  } catch (e) {
    throw asPhotoshopCallError(e, 'WRITE');
  }
}
