/**
 * Photopea as a host: read the active document, write a face layer with its mask. Every write
 * first checks the document is still the one that was read; a failed insert removes what it added.
 */
import type { Box } from '../../core/geometry';
import { PhotopeaBridge, PhotopeaScriptError } from './bridge';
import {
  DocumentSignature, SCRIPT_ERRORS, activeDocumentScript, applyMaskScript, exportDocumentScript,
  layerCountScript, placeImageScript, positionPlacedScript, removeLayersScript,
} from './scripts';

export type { DocumentSignature } from './scripts';

/** A problem the user can act on; `message` is meant for them. */
export class PhotopeaHostError extends Error {
  constructor(readonly code: 'NO_DOCUMENT' | 'DOCUMENT_CHANGED' | 'PLACE_FAILED' | 'SCRIPT', message: string) {
    super(message);
    this.name = 'PhotopeaHostError';
  }
}

export interface LayerImages {
  /** where the layer goes, document pixels */
  box: Box;
  /** PNG data URLs: the layer's pixels (opaque), and the mask as the alpha of a white image */
  pixels: string;
  mask: string;
}

const MESSAGES = {
  noDocument: 'No document is open in Photopea. Open a photo (File › Open), then try again.',
  changed: 'The document was closed or changed while FaceShift was working, so nothing was added. Open the photo again and retry.',
};

/** Turn our scripts' deliberate errors into plain-language ones; leave others as Photopea's. */
function explain(e: unknown): unknown {
  if (!(e instanceof PhotopeaScriptError)) return e;
  if (e.message.startsWith(SCRIPT_ERRORS.noDocument)) return new PhotopeaHostError('NO_DOCUMENT', MESSAGES.noDocument);
  if (e.message.startsWith(SCRIPT_ERRORS.documentChanged)) return new PhotopeaHostError('DOCUMENT_CHANGED', MESSAGES.changed);
  if (e.message.startsWith(SCRIPT_ERRORS.layerLost)) return new PhotopeaHostError('DOCUMENT_CHANGED', MESSAGES.changed);
  if (e.message.startsWith(SCRIPT_ERRORS.placedWrong)) {
    return new PhotopeaHostError('PLACE_FAILED', `Photopea placed the new layer at an unexpected size (${e.message.split(' ')[1]}), so it was removed. Nothing was changed.`);
  }
  return new PhotopeaHostError('SCRIPT', `Photopea reported an error: “${e.message}”. Nothing was changed.`);
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export class PhotopeaHost {
  constructor(private readonly bridge: PhotopeaBridge, private readonly opts = { placeTimeoutMs: 30000, pollMs: 100 }) {}

  /** Check Photopea answers at all (the page may have been opened outside Photopea). */
  async ping(timeoutMs = 5000): Promise<void> {
    await this.bridge.run('', { timeoutMs });
  }

  async activeDocument(): Promise<DocumentSignature | null> {
    const r = await this.bridge.run(activeDocumentScript()).catch((e) => { throw explain(e); });
    return (r.out[0] as DocumentSignature | null) ?? null;
  }

  /** The active document's signature and flattened pixels (PNG). */
  async exportDocument(): Promise<{ doc: DocumentSignature; png: ArrayBuffer }> {
    const r = await this.bridge.run(exportDocumentScript(), { files: 1, timeoutMs: 120000 }).catch((e) => { throw explain(e); });
    const doc = r.out[0] as DocumentSignature;
    const png = r.files[r.files.length - 1];
    if (!doc || !png) throw new PhotopeaHostError('NO_DOCUMENT', MESSAGES.noDocument);
    return { doc, png };
  }

  /**
   * Add one layer named `name` over `images.box` with the mask, above the top layer. On any
   * failure the layers added so far are removed and the error is rethrown. A selection the user
   * had is restored (applyMaskScript).
   *
   * Photopea records this as several History steps: its scripting has no suspendHistory
   * (photopea/photopea#5862, #8142) and placing an image finishes only after the script that
   * started it, so one run spans several scripts (docs/photopea.md).
   */
  async insertLayer(doc: DocumentSignature, images: LayerImages, name: string): Promise<void> {
    const tmp = `faceshift-tmp-${Math.random().toString(36).slice(2, 10)}`;
    const face = `${tmp}-face`, mask = `${tmp}-mask`;
    try {
      await this.place(doc, images.pixels, null);
      await this.bridge.run(positionPlacedScript(doc, face, images.box));
      await this.place(doc, images.mask, face);
      await this.bridge.run(positionPlacedScript(doc, mask, images.box));
      await this.bridge.run(applyMaskScript(doc, face, mask, name, `${tmp}-selection`));
    } catch (e) {
      await this.bridge.run(removeLayersScript(doc, tmp)).catch(() => undefined);
      const err = explain(e);
      // no document at all now: it was closed while we worked
      throw err instanceof PhotopeaHostError && err.code === 'NO_DOCUMENT' ? new PhotopeaHostError('DOCUMENT_CHANGED', MESSAGES.changed) : err;
    }
  }

  /** Place an image and wait until its layer has arrived (app.open finishes after the script). */
  private async place(doc: DocumentSignature, dataUrl: string, above: string | null): Promise<void> {
    const r = await this.bridge.run(placeImageScript(doc, dataUrl, above));
    const before = (r.out[0] as { count: number }).count;
    const deadline = Date.now() + this.opts.placeTimeoutMs;
    for (;;) {
      const c = await this.bridge.run(layerCountScript(doc));
      if ((c.out[0] as { count: number }).count > before) return;
      if (Date.now() > deadline) throw new PhotopeaHostError('PLACE_FAILED', 'Photopea did not add the new layer in time. Nothing was changed; try again.');
      await sleep(this.opts.pollMs);
    }
  }
}
