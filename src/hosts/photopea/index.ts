/**
 * FaceShift's Photopea plugin page. Photopea opens it in an iframe; everything runs here, in the
 * user's browser: the nets (onnxruntime-web, WebGPU or WASM), the detector (tfjs WASM) and the
 * models, all served beside this page. Photopea is only asked for the document and given a layer.
 *
 * URL parameters (optional): `device=auto|webgpu|wasm`; `origin=<url>[,<url>]` the origins
 * trusted as Photopea (default https://www.photopea.com; for self-hosted Photopea and tests).
 */
import { createWebEngine } from '../../runtime/web';
import type { WebDevice } from '../../runtime/onnx.web';
import { PHOTOPEA_ORIGINS, PhotopeaBridge } from './bridge';
import { PhotopeaHost } from './host';
import { PhotopeaPanel } from './panel';
import { BitmapPhotoSource, decodeImage } from './image';

const params = new URLSearchParams(location.search);
const device = (['auto', 'webgpu', 'wasm'].includes(params.get('device') ?? '') ? params.get('device') : 'auto') as WebDevice;
const origins = params.get('origin')?.split(',').map((s) => s.trim()).filter(Boolean) ?? PHOTOPEA_ORIGINS;

const bridge = new PhotopeaBridge(window.parent, origins);
const host = new PhotopeaHost(bridge);
const panel = new PhotopeaPanel(host);

// Is Photopea there? (Outside an iframe, or in a frame that is not Photopea's, nobody answers.)
const photopea = window.parent === window ? Promise.resolve(false) : host.ping().then(() => true, () => false);
void photopea.then((ok) => panel.photopea(ok));

const ready = (async () => {
  try {
    const { engine, backend } = await createWebEngine({ baseUrl: 'models/', device });
    panel.ready(engine, backend);
    return { engine, backend };
  } catch (e) {
    panel.failed(e);
    throw e;
  }
})();

/** A handle for diagnostics from the console, and for the browser tests. */
Object.assign(window, { faceshift: { ready, photopea, panel, bridge, host, createWebEngine, decodeImage, BitmapPhotoSource } });
