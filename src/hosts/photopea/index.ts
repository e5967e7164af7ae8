/**
 * FaceShift's Photopea plugin page. Photopea opens it in an iframe; everything runs here, in the
 * user's browser: the nets and the detector (onnxruntime-web, WebGPU or WASM), the face mesh (tfjs WASM) and the
 * models, all served beside this page. Photopea is only asked for the document and given a layer.
 *
 * URL parameters (optional): `device=auto|webgpu|wasm`; `origin=<url>[,<url>]` the origins
 * trusted as Photopea (default https://www.photopea.com; for self-hosted Photopea and tests).
 */
import { createWebEngine, deviceParam, warmInBackground } from '../../platform/web';
import { localEngine } from '../../app/engine-port';
import { PHOTOPEA_ORIGINS, PhotopeaBridge } from './bridge';
import { PhotopeaHost } from './host';
import { PhotopeaPanel } from './panel';

const params = new URLSearchParams(location.search);
const device = deviceParam(location.search);
const origins = params.get('origin')?.split(',').map((s) => s.trim()).filter(Boolean) ?? PHOTOPEA_ORIGINS;

const bridge = new PhotopeaBridge(window.parent, origins);
const host = new PhotopeaHost(bridge);
const panel = new PhotopeaPanel(host);

/**
 * The handshake: the controls stay disabled until Photopea has answered a first script. Opened
 * on its own (no parent) the page says so at once; inside a frame that does not answer in 2 s
 * it says so too (within 3 s of loading), and keeps asking, in case Photopea is only slow.
 */
const HANDSHAKE_MS = 2000;
const photopea: Promise<boolean> = window.parent === window
  ? Promise.resolve(false)
  : host.ping(HANDSHAKE_MS).then(() => true, () => false);
void photopea.then(async (ok) => {
  panel.photopea(ok);
  if (ok || window.parent === window) return;
  for (;;) {
    await new Promise((r) => setTimeout(r, 2000));
    if (await host.ping(5000).then(() => true, () => false)) { panel.photopea(true); return; }
  }
});

const ready = (async () => {
  try {
    const { engine, backend } = await createWebEngine({ baseUrl: 'models/', device });
    const port = localEngine(engine, backend);
    panel.ready(port, await port.info());
    // While the user looks at the panel: the first transform then skips the WASM's slow first runs.
    // Only once Photopea has answered (or not) the handshake: a warm-up run holds the page's thread
    // and would delay the handshake's own timer.
    const warm = photopea.then(() => warmInBackground(engine, location.search));
    return { engine, backend, warm };
  } catch (e) {
    panel.failed(e);
    throw e;
  }
})();

/** A handle for diagnostics from the console: the engine once loaded, Photopea's answer, the panel (lastRun), the bridge. */
Object.assign(window, { faceshift: { ready, photopea, panel, bridge, host } });
