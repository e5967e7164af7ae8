/**
 * The engine's protocol client (app/engine-port.ts EngineProtocolClient) over its messages
 * (src/engine/protocol.ts). The panel runs the engine in a <webview> (WebGPU or WASM there);
 * messages cross the UXP bridge as JSON, pixels as base64. Each request carries an id; progress
 * and the answer come back with it; cancelling a request's signal sends `cancel` and rejects (at
 * once for a CancelToken, within a poll otherwise). Error replies become FaceShiftErrors with the
 * engine's code.
 *
 *   panel -> page: webview.postMessage(msg)
 *   page -> panel: window.uxpHost.postMessage(reply), delivered to the panel as a "message" event
 *   (UXP's documentation shows it on `window`; we listen on the webview element and on window,
 *   and handle each event once).
 */
import type { Box } from '../../core/geometry';
import type { DetectedFace } from '../../core/faces';
import type { RGBAImage } from '../../core/image';
import { FaceShiftError, cancelled } from '../../core/errors';
import type { EngineInfo } from '../../engine/engine';
import type { RegionPixels } from '../../engine/sources';
import { PhotoSize, Reply, ReplyOf, Request, WireTransformOptions, decodeWireImage, encodeWireImage } from '../../engine/protocol';
import type { EngineProtocolClient, PortCall, PreviewRequestOptions, TransformResult } from '../../app/engine-port';
import { onCancel } from './cancel';

/** Where requests go and replies come from. */
export interface MessageTransport {
  post(msg: Request): void;
  /** Register the reply handler; returns a function that unregisters it. */
  listen(onReply: (reply: Reply) => void): () => void;
}

type Outgoing = Request extends infer R ? (R extends { id: string } ? Omit<R, 'id'> : never) : never;

interface Pending {
  expect: Reply['type'];
  resolve: (r: Reply) => void;
  reject: (e: Error) => void;
  onProgress?: PortCall['onProgress'];
}

export interface MessageEngineClientOptions {
  /** prefix of request ids, so two clients on one bridge never collide */
  idPrefix?: string;
  /** init is re-sent this often until the page answers (it may still be loading) */
  initRetryMs?: number;
  /** give up on init after this long */
  initTimeoutMs?: number;
}

export class MessageEngineClient implements EngineProtocolClient {
  private readonly pending = new Map<string, Pending>();
  private seq = 0;
  private readonly stop: () => void;
  private readonly prefix: string;

  constructor(private readonly transport: MessageTransport, private readonly opts: MessageEngineClientOptions = {}) {
    this.prefix = opts.idPrefix ?? 'ps';
    this.stop = transport.listen((r) => this.onReply(r));
  }

  async init(call: PortCall = {}): Promise<EngineInfo> {
    const retry = this.opts.initRetryMs ?? 500;
    const limit = this.opts.initTimeoutMs ?? 120_000;
    const id = this.nextId();
    let timer: ReturnType<typeof setInterval> | undefined;
    let deadline: ReturnType<typeof setTimeout> | undefined;
    try {
      const reply = await Promise.race([
        this.request('ready', { type: 'init' }, call, id),
        new Promise<never>((_, reject) => {
          // the page may not be listening yet: say it again (same id; the first answer wins)
          timer = setInterval(() => { if (this.pending.has(id)) this.transport.post({ type: 'init', id }); }, retry);
          deadline = setTimeout(() => {
            this.pending.delete(id);
            reject(new FaceShiftError('ENGINE', `The FaceShift engine did not start within ${Math.round(limit / 1000)} s. It runs inside the FaceShift panel: open the panel (Plugins > FaceShift), or close and reopen it, then try again; if it keeps happening, reinstall the plugin.`));
          }, limit);
        }),
      ]);
      const { type: _type, id: _id, ...info } = reply;
      return info;
    } finally {
      clearInterval(timer);
      clearTimeout(deadline);
    }
  }

  async detect(photo: PhotoSize, preview: RGBAImage, call: PortCall = {}): Promise<DetectedFace[]> {
    const r = await this.request('faces', { type: 'detect', photo, preview: encodeWireImage(preview, 4) }, call);
    return r.faces;
  }

  async regions(photo: PhotoSize, faces: DetectedFace[], direction: string, call: PortCall = {}): Promise<Box[]> {
    const r = await this.request('regions', { type: 'regions', photo, faces, direction }, call);
    return r.boxes;
  }

  async transform(req: { photo: PhotoSize; faces: DetectedFace[]; regions: RegionPixels[]; options: WireTransformOptions }, call: PortCall = {}): Promise<TransformResult> {
    const r = await this.request('result', {
      type: 'transform', photo: req.photo, faces: req.faces, options: req.options,
      regions: req.regions.map((g) => ({ box: g.box, image: encodeWireImage(g.image, 4) })),
    }, call);
    return {
      model: r.model, upscaler: r.upscaler, timings: r.timings,
      patches: r.patches.map((p) => ({ box: p.box, face: p.face, rgba: decodeWireImage(p.rgba), mask: decodeWireImage(p.mask) })),
    };
  }

  async preview(req: { view: RGBAImage; face: DetectedFace; options: PreviewRequestOptions }, call: PortCall = {}): Promise<RGBAImage> {
    const r = await this.request('preview', { type: 'preview', view: encodeWireImage(req.view, 4), face: req.face, options: req.options }, call);
    return decodeWireImage(r.image);
  }

  /** Stop listening and fail whatever is still waiting. */
  dispose(): void {
    this.stop();
    for (const [id, p] of this.pending) { this.pending.delete(id); p.reject(cancelled()); }
  }

  private nextId(): string { return `${this.prefix}-${++this.seq}`; }

  private request<T extends Reply['type']>(expect: T, msg: Outgoing, call: PortCall, id = this.nextId()): Promise<ReplyOf<T>> {
    const { signal, onProgress } = call;
    return new Promise<ReplyOf<T>>((resolve, reject) => {
      if (signal?.aborted) { reject(cancelled()); return; }
      // UXP's AbortSignal may have no events: onCancel subscribes to our token or polls `aborted`
      const done = onCancel(signal, () => {
        if (!this.pending.delete(id)) return;
        this.transport.post({ type: 'cancel', id: this.nextId(), target: id });
        reject(cancelled());
      });
      this.pending.set(id, {
        expect, onProgress,
        resolve: (r) => { done(); resolve(r as ReplyOf<T>); },
        reject: (e) => { done(); reject(e); },
      });
      try {
        this.transport.post({ ...msg, id } as Request);
      } catch (e) {
        this.pending.delete(id);
        done();
        reject(new FaceShiftError('ENGINE', `Could not reach the FaceShift engine (${(e as Error).message}). Close and reopen the panel.`));
      }
    });
  }

  private onReply(r: Reply): void {
    const p = this.pending.get(r.id);
    if (!p) return; // cancelled, answered already, or not ours
    if (r.type === 'progress') {
      p.onProgress?.({ stage: r.stage, fraction: r.fraction });
      return;
    }
    this.pending.delete(r.id);
    // an error reply keeps the engine's code and words: the use case and the panel map the code
    if (r.type === 'error') p.reject(new FaceShiftError(r.code, r.message));
    else if (r.type !== p.expect) p.reject(new FaceShiftError('INTERNAL', `The engine answered "${r.type}" to a request that expects "${p.expect}".`));
    else p.resolve(r);
  }
}

// ---------------------------------------------------------------------------------------------
// The UXP webview bridge
// ---------------------------------------------------------------------------------------------

export interface MessageEventLike { data: unknown; source?: unknown; origin?: string }

export interface EventSourceLike {
  addEventListener(type: 'message', cb: (e: MessageEventLike) => void): void;
  removeEventListener(type: 'message', cb: (e: MessageEventLike) => void): void;
}

/** The <webview> element as the panel uses it. */
export interface WebviewLike extends EventSourceLike {
  postMessage(message: unknown): void;
}

/** A reply as it crossed the bridge: an object (UXP parses the JSON) or, defensively, a JSON string. */
export function parseReply(data: unknown): Reply | null {
  let v = data;
  if (typeof v === 'string') {
    try { v = JSON.parse(v); } catch { return null; }
  }
  if (!v || typeof v !== 'object') return null;
  const o = v as { type?: unknown; id?: unknown };
  return typeof o.type === 'string' && typeof o.id === 'string' ? (v as Reply) : null;
}

/** Transport over a UXP <webview> (manifest: webview.enableMessageBridge "localOnly"). */
export function webviewTransport(webview: WebviewLike, win?: EventSourceLike): MessageTransport {
  return {
    post(msg) { webview.postMessage(msg); },
    listen(onReply) {
      const seen = new WeakSet<object>();
      const handler = (e: MessageEventLike) => {
        if (!e || typeof e !== 'object') return;
        if (seen.has(e)) return; // the same event reaching both listeners
        seen.add(e);
        // no filter on e.source: UXP's docs leave its value vague; replies are matched by request id
        const r = parseReply(e.data);
        if (r) onReply(r);
      };
      webview.addEventListener('message', handler);
      win?.addEventListener('message', handler);
      return () => {
        webview.removeEventListener('message', handler);
        win?.removeEventListener('message', handler);
      };
    },
  };
}
