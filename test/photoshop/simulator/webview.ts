/**
 * A stand-in for the panel's <webview>: the real EngineService runs in-process, and every message
 * crosses as the UXP bridge carries it (JSON.stringify / JSON.parse both ways, replies delivered
 * later as "message" events). The panel's client (webview-client.ts) talks to it unchanged.
 */
import type { EngineService } from '../../../src/engine/service';
import type { Reply, Request } from '../../../src/engine/protocol';
import type { EventSourceLike, MessageEventLike, WebviewLike } from '../../../src/hosts/photoshop/webview-client';

type Listener = (e: MessageEventLike) => void;

export class Listeners implements EventSourceLike {
  private cbs = new Set<Listener>();
  addEventListener(_type: 'message', cb: Listener): void { this.cbs.add(cb); }
  removeEventListener(_type: 'message', cb: Listener): void { this.cbs.delete(cb); }
  emit(e: MessageEventLike): void { for (const cb of [...this.cbs]) cb(e); }
  get count(): number { return this.cbs.size; }
}

export interface BridgeLog { requests: Request[]; replies: Reply[]; bytesToEngine: number; bytesFromEngine: number }

export class FakeWebview extends Listeners implements WebviewLike {
  readonly log: BridgeLog = { requests: [], replies: [], bytesToEngine: 0, bytesFromEngine: 0 };
  /** the page is not listening until this many init messages were lost (a page still loading) */
  dropFirstInits = 0;

  constructor(private readonly service: EngineService, private readonly windowLike?: Listeners) { super(); }

  postMessage(message: unknown): void {
    const wire = JSON.stringify(message);
    this.log.bytesToEngine += wire.length;
    const req = JSON.parse(wire) as Request;
    this.log.requests.push(req);
    if (req.type === 'init' && this.dropFirstInits > 0) { this.dropFirstInits--; return; }
    void this.service.handle(req, (reply) => {
      const back = JSON.stringify(reply);
      this.log.bytesFromEngine += back.length;
      this.log.replies.push(JSON.parse(back) as Reply);
      // UXP documents the reply on window; deliver there when a window is given, else on the element
      setImmediate(() => (this.windowLike ?? this).emit({ data: JSON.parse(back), source: this, origin: 'plugin:/engine/index.html' }));
    });
  }
}
