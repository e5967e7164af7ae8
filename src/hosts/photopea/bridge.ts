/**
 * The Photopea bridge. The plugin page is an iframe inside Photopea: `parent.postMessage(script)`
 * runs a script there; Photopea answers with data messages (strings from `app.echoToOE`,
 * ArrayBuffers from `saveToOE`) and a "done" when the script finishes. It also sends "done" when
 * documents open or close, so "done" cannot mark the end of our script: each script is wrapped to
 * echo a unique token last (and any exception, which Photopea itself only logs to its console),
 * and replies are collected until that token arrives. Messages from any other window or origin
 * are ignored.
 */
export const PHOTOPEA_ORIGINS: readonly string[] = ['https://www.photopea.com'];

/** Photopea ran the script and it threw (the message is Photopea's). */
export class PhotopeaScriptError extends Error {
  constructor(message: string) { super(message); this.name = 'PhotopeaScriptError'; }
}

/** No answer from Photopea in time: the page is not inside Photopea, or Photopea is stuck. */
export class PhotopeaTimeoutError extends Error {
  constructor(message: string) { super(message); this.name = 'PhotopeaTimeoutError'; }
}

export interface ScriptReply {
  /** values passed to `__out(value)` in the script, in order */
  out: unknown[];
  /** binary files Photopea sent (saveToOE) */
  files: ArrayBuffer[];
}

export interface ScriptOptions {
  timeoutMs?: number;
  /** wait until this many binary files have arrived (they may come after the token) */
  files?: number;
}

interface Pending {
  token: string;
  reply: ScriptReply;
  ended: boolean;
  error?: string;
  files: number;
  settle(err?: Error): void;
}

const PREFIX = 'faceshift:';

/** Wrap a script body so it reports values, errors and its end through echoToOE, tagged with the token. */
export function wrapScript(body: string, token: string): string {
  const t = JSON.stringify(token);
  return `(function(){
function __out(v){ app.echoToOE(${t} + " out " + JSON.stringify(v)); }
try {
${body}
} catch (e) { app.echoToOE(${t} + " err " + (e && e.message ? e.message : String(e))); }
app.echoToOE(${t} + " end");
})();`;
}

export class PhotopeaBridge {
  /** messages dropped because of their source or origin (for diagnostics and tests) */
  ignored = 0;
  private pending: Pending | null = null;
  private queue: Promise<unknown> = Promise.resolve();
  private seq = 0;
  private readonly session = Math.random().toString(36).slice(2, 10);

  constructor(
    private readonly photopea: Window = window.parent,
    private readonly origins: readonly string[] = PHOTOPEA_ORIGINS,
    private readonly self: Window = window,
    private readonly defaultTimeoutMs = 30000,
  ) {
    this.self.addEventListener('message', this.onMessage);
  }

  dispose(): void {
    this.self.removeEventListener('message', this.onMessage);
    this.pending?.settle(new Error('The Photopea bridge was closed.'));
  }

  /** Run a script body in Photopea; resolves once its end token (and any expected files) arrived. */
  run(body: string, opts: ScriptOptions = {}): Promise<ScriptReply> {
    const job = this.queue.then(() => this.send(body, opts));
    this.queue = job.catch(() => undefined);
    return job;
  }

  private send(body: string, opts: ScriptOptions): Promise<ScriptReply> {
    const token = `${PREFIX}${this.session}:${++this.seq}`;
    const timeoutMs = opts.timeoutMs ?? this.defaultTimeoutMs;
    return new Promise<ScriptReply>((resolve, reject) => {
      const timer = setTimeout(() => {
        const p = this.pending;
        this.pending = null;
        reject(new PhotopeaTimeoutError(p?.ended
          ? `Photopea finished the script but sent no file within ${Math.round(timeoutMs / 1000)} s.`
          : `Photopea did not answer within ${Math.round(timeoutMs / 1000)} s.`));
      }, timeoutMs);
      this.pending = {
        token, reply: { out: [], files: [] }, ended: false, files: opts.files ?? 0,
        settle: (err?: Error) => {
          clearTimeout(timer);
          const p = this.pending;
          this.pending = null;
          if (err) reject(err);
          else if (p?.error !== undefined) reject(new PhotopeaScriptError(p.error));
          else resolve(p!.reply);
        },
      };
      this.photopea.postMessage(wrapScript(body, token), '*');
    });
  }

  private readonly onMessage = (e: MessageEvent): void => {
    if (e.source !== this.photopea || !this.origins.includes(e.origin)) { this.ignored++; return; }
    const p = this.pending;
    if (!p) return;
    const d: unknown = e.data;
    if (d instanceof ArrayBuffer) {
      p.reply.files.push(d);
    } else if (typeof d === 'string' && d.startsWith(PREFIX)) {
      const sp = d.indexOf(' ');
      const token = sp < 0 ? d : d.slice(0, sp);
      if (token !== p.token) {
        // a late echo of an earlier (timed-out) script: files before it were that script's
        p.reply.files.length = 0;
        return;
      }
      const rest = d.slice(sp + 1);
      const kind = rest.slice(0, 3);
      const payload = rest.slice(4);
      if (kind === 'out') p.reply.out.push(JSON.parse(payload));
      else if (kind === 'err') p.error = payload;
      else if (kind === 'end') p.ended = true;
    } else {
      return; // "done" and anything else
    }
    if (p.ended && (p.error !== undefined || p.reply.files.length >= p.files)) p.settle();
  };
}
