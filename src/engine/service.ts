/**
 * The engine behind the message protocol: one instance per page (Photoshop webview, Photopea
 * plugin page). Requests run one at a time; a cancel aborts the one running.
 */
import { FaceShiftError, cancelled, errorCode } from '../core/errors';
import type { Backend } from '../runtime/net';
import type { FaceEngine } from './engine';
import { RegionPhotoSource } from './sources';
import { renderPreview } from './preview';
import { Reply, Request, decodeWireImage, encodeWireImage } from './protocol';

export class EngineService {
  private running = new Map<string, AbortController>();
  private queue: Promise<unknown> = Promise.resolve();

  constructor(private readonly engine: FaceEngine, private readonly backend: Backend) {}

  /** Handle one request; replies (progress, then a result or an error) go through `post`. */
  handle(msg: Request, post: (r: Reply) => void): Promise<void> {
    if (msg.type === 'cancel') {
      this.running.get(msg.target)?.abort();
      return Promise.resolve();
    }
    const ctl = new AbortController();
    this.running.set(msg.id, ctl);
    const job = this.queue.then(() => this.run(msg, post, ctl.signal)).catch((e: unknown) => {
      post({ type: 'error', id: msg.id, code: errorCode(e), message: (e as Error)?.message ?? String(e) });
    }).finally(() => this.running.delete(msg.id));
    this.queue = job;
    return job;
  }

  private async run(msg: Exclude<Request, { type: 'cancel' }>, post: (r: Reply) => void, signal: AbortSignal): Promise<void> {
    const e = this.engine;
    if (signal.aborted) throw cancelled();
    switch (msg.type) {
      case 'init':
        post({ type: 'ready', id: msg.id, ...e.info(this.backend) });
        return;
      case 'detect': {
        const preview = decodeWireImage(msg.preview);
        const src = new RegionPhotoSource(msg.photo.width, msg.photo.height, [], preview);
        post({ type: 'faces', id: msg.id, faces: await e.detect(src, signal) });
        return;
      }
      case 'regions':
        post({ type: 'regions', id: msg.id, boxes: msg.faces.map((f) => e.regionFor(f, msg.photo, msg.direction)) });
        return;
      case 'transform': {
        const regions = msg.regions.map((r) => ({ box: r.box, image: decodeWireImage(r.image) }));
        const src = new RegionPhotoSource(msg.photo.width, msg.photo.height, regions);
        const report = await e.run(src, {
          ...msg.options, signal,
          onProgress: (p) => post({ type: 'progress', id: msg.id, stage: p.stage, fraction: p.fraction }),
        }, msg.faces);
        post({
          type: 'result', id: msg.id, model: report.model, upscaler: report.upscaler,
          patches: report.faces.map((f) => ({ box: f.patch.box, rgba: encodeWireImage(f.patch.rgba, 4), mask: encodeWireImage(f.patch.mask, 1), face: f.face })),
          timings: report.timings,
        });
        return;
      }
      case 'preview': {
        const after = await renderPreview(e, decodeWireImage(msg.view), msg.face, { ...msg.options, signal });
        post({ type: 'preview', id: msg.id, image: encodeWireImage(after, 4) });
        return;
      }
      default:
        throw new FaceShiftError('BAD_OPTION', `Unknown request type "${(msg as { type: string }).type}".`);
    }
  }
}
