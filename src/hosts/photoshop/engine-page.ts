/**
 * The engine page the Photoshop panel loads in its <webview> (dist/photoshop/engine/index.html):
 * it runs EngineService here, where WebGPU may exist, and speaks the JSON protocol of
 * src/engine/protocol.ts. panel -> page: a "message" event on window (an object, or a JSON string);
 * page -> panel: window.uxpHost.postMessage(reply), a plain JSON-able object. Requests that arrive
 * while the models load wait for them; if loading fails, each request gets an error reply.
 */
import { createWebEngine, deviceParam, warmInBackground } from '../../platform/web';
import { EngineService } from '../../engine/service';
import type { Reply, Request } from '../../engine/protocol';

interface UxpHost { postMessage(msg: unknown): void }

const device = deviceParam(location.search);

function post(reply: Reply): void {
  const host = (window as unknown as { uxpHost?: UxpHost }).uxpHost;
  if (host) host.postMessage(reply);
  else if (window.parent !== window) window.parent.postMessage(reply, '*'); // in a plain iframe (development)
}

const state = document.getElementById('state');
const service: Promise<EngineService> = createWebEngine({ baseUrl: '../models/', device }).then(({ engine, backend }) => {
  if (state) state.textContent = `ready (${backend})`;
  // while the user looks at the panel: the first transform then skips the WASM's slow first runs
  const warm = warmInBackground(engine, location.search);
  Object.assign(window, { faceshiftWarm: warm });
  return new EngineService(engine, backend);
});
service.catch((e: unknown) => { if (state) state.textContent = `failed: ${(e as Error)?.message ?? e}`; });

/** A request as it crossed the bridge, or null when it is not one. */
export function parseRequest(data: unknown): Request | null {
  let v = data;
  if (typeof v === 'string') {
    try { v = JSON.parse(v); } catch { return null; }
  }
  const r = v as { type?: unknown; id?: unknown } | null;
  return r && typeof r === 'object' && typeof r.type === 'string' && typeof r.id === 'string' ? (r as Request) : null;
}

window.addEventListener('message', (e: MessageEvent) => {
  const msg = parseRequest(e.data);
  if (!msg) return;
  service.then(
    (s) => s.handle(msg, post),
    (err: unknown) => {
      if (msg.type === 'cancel') return;
      post({
        type: 'error', id: msg.id, code: 'MODEL',
        message: `The face models could not be loaded in the engine page (${(err as Error)?.message ?? err}). Reinstall the plugin.`,
      });
    },
  );
});
