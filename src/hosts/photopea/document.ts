/**
 * Photopea as the use case's source and sink. The source is the active document, exported as
 * PNG and decoded in the page; its faces are kept with it, by the export's digest, so the same
 * pixels are not searched twice. The sink places the new layer with its mask (host.ts), after
 * the point where the run can still be cancelled.
 */
import type { DetectedFace } from '../../core/faces';
import type { RGBAImage } from '../../core/image';
import { CancelSignal, throwIfCancelled } from '../../core/errors';
import type { FaceLayer } from '../../core/layer';
import type { LayerSink, OpenedDocument } from '../../app/transform';
import { sha256Web } from '../../platform/web';
import type { DocumentSignature, PhotopeaHost } from './host';
import { BitmapPhotoSource, decodeImage, encodePngDataUrl, layerImages } from './image';

/** The document as last read, with its faces once found. */
export interface ReadDocument { key: string; readAt: number; doc: DocumentSignature; image: RGBAImage; source: BitmapPhotoSource; faces?: DetectedFace[] }

export class PhotopeaDocument {
  /** the document as last exported (null: read it again next time) */
  current: ReadDocument | null = null;

  constructor(private readonly host: PhotopeaHost) {}

  /** The use case's `open`: export the document, unless it was read less than `reuseForMs` ago. */
  async open(reuseForMs = 0): Promise<OpenedDocument> {
    const c = this.current;
    if (c && performance.now() - c.readAt < reuseForMs) {
      c.readAt = performance.now(); // a session of changes keeps reusing it
      return { source: c.source, faces: c.faces };
    }
    const { doc, png } = await this.host.exportDocument();
    const { image, bitmap } = await decodeImage(png);
    const key = await sha256Web(new Uint8Array(png));
    const faces = c && c.key === key ? c.faces : undefined;
    this.current = { key, readAt: performance.now(), doc, image, source: new BitmapPhotoSource(image, bitmap), faces };
    return { source: this.current.source, faces };
  }

  /** Keep the faces found on the document as read. */
  keepFaces(faces: DetectedFace[]): void {
    if (this.current) this.current.faces = faces;
  }

  /** The sink: a new layer with its mask in the document that was read. `onWriting`: the run can no longer be cancelled. */
  sink(onWriting: () => void): LayerSink<DocumentSignature> {
    return {
      write: async (layer: FaceLayer, name: string, call: { signal?: CancelSignal }) => {
        const { doc, image } = this.current!;
        const images = layerImages(layer, image);
        const [pixels, mask] = await Promise.all([encodePngDataUrl(images.pixels), encodePngDataUrl(images.mask)]);
        throwIfCancelled(call.signal);
        // Past this point Photopea is being written to: finish rather than leave half a layer.
        onWriting();
        await this.host.insertLayer(doc, { box: layer.box, pixels, mask }, name);
        return doc;
      },
    };
  }
}
