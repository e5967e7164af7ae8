/**
 * The FaceShift panel (UXP). Wiring and UI only: the flow is the use case (src/app) through
 * controller.ts, Photoshop is uxp-host.ts, the engine (in the <webview>) is webview-client.ts,
 * recording is actions.ts, and what happens when the plugin loads is plugin.ts.
 *
 * Cancellation uses the panel's own CancelToken (cancel.ts): UXP's AbortSignal has no events and
 * AbortController was missing in some Photoshop versions.
 */
import { FaceSelection, describeFaces } from '../../core/faces';
import type { EngineInfo } from '../../engine/engine';
import { FaceShiftSettings, directionWords } from '../../app/transform';
import { Detection, FaceShiftController, LayerPreviewView, PanelProgress, doneMessage } from './controller';
import { PhotoshopError, asPhotoshopError } from './errors';
import { EventSourceLike, MessageEngineClient, WebviewLike, webviewTransport } from './webview-client';
import { createUxpHost, jpegDataUrl, photoshopModule } from './uxp-host';
import { recordRun } from './actions';
import { CancelToken } from './cancel';
import { registerPlugin } from './plugin';

// Spectrum widgets as the panel uses them
interface Picker extends HTMLElement { selectedIndex: number; disabled: boolean }
interface Slider extends HTMLElement { value: number }
interface Checkbox extends HTMLElement { checked: boolean }
interface Button extends HTMLElement { disabled: boolean }
interface Progress extends HTMLElement { value: number }

const el = <T extends HTMLElement = HTMLElement>(id: string): T | null => document.getElementById(id) as T | null;

// ---------------------------------------------------------------------------------------------
// Plugin load: Photoshop and the engine, and the playback handler, before any UI
// ---------------------------------------------------------------------------------------------

const host = createUxpHost();
let controller: FaceShiftController | null = null;
function getController(): FaceShiftController {
  if (!controller) {
    const webview = el('engine') as unknown as WebviewLike | null;
    if (!webview) throw new PhotoshopError('ENGINE', 'The FaceShift engine is not loaded. Open the FaceShift panel (Plugins > FaceShift), then try again.');
    controller = new FaceShiftController(host, new MessageEngineClient(webviewTransport(webview, window as unknown as EventSourceLike)));
  }
  return controller;
}

let uxpEntrypoints: { setup(o: object): void } | undefined;
try {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  uxpEntrypoints = (require('uxp') as { entrypoints?: { setup(o: object): void } }).entrypoints;
} catch { /* not in UXP */ }

registerPlugin({
  globals: globalThis,
  entrypoints: uxpEntrypoints,
  controller: getController,
  panel: { id: 'faceshift', show: () => { setTimeout(() => schedulePreview(), 0); } },
  hooks: {
    onStart: (s) => { say(`Playing an action step: FaceShift ${directionWords(info, s.direction)}…`); },
    onDone: (r) => { say(doneMessage(r), 'ok'); },
    onError: (e) => { say(e.message, 'error'); },
  },
});

// ---------------------------------------------------------------------------------------------
// The panel
// ---------------------------------------------------------------------------------------------

const ui = {
  backend: el('backend'),
  direction: el<Picker>('direction'),
  directionMenu: el('direction-menu'),
  strength: el<Slider>('strength'),
  faces: el<Picker>('faces'),
  facesMenu: el('faces-menu'),
  find: el<Button>('find'),
  upscale: el<Checkbox>('upscale'),
  run: el<Button>('run'),
  cancel: el<Button>('cancel'),
  progress: el<Progress>('progress'),
  stage: el('stage'),
  status: el('status'),
  previewOn: el<Checkbox>('preview-on'),
  previewImage: el<HTMLImageElement>('preview-image'),
  previewToggle: el<Button>('preview-toggle'),
  previewCaption: el('preview-caption'),
};

let info: EngineInfo | null = null;
let detection: Detection | null = null;
/** the faces picker's entries, in menu order */
let faceChoices: FaceSelection[] = ['all', 'largest'];
let running: CancelToken | null = null;

function say(text: string, kind: '' | 'ok' | 'error' = ''): void {
  if (!ui.status) return;
  ui.status.textContent = text;
  ui.status.className = kind;
}

function busy(on: boolean): void {
  if (ui.run) ui.run.disabled = on || !info;
  if (ui.find) ui.find.disabled = on || !info;
  if (ui.direction) ui.direction.disabled = on || !info;
  if (ui.cancel) ui.cancel.disabled = !on;
  if (ui.progress) {
    ui.progress.className = on ? '' : 'hidden';
    if (on) ui.progress.value = 0;
  }
  if (on && ui.stage) ui.stage.textContent = 'Starting';
}

function showProgress(p: PanelProgress): void {
  if (ui.progress) ui.progress.value = Math.round(p.fraction * 100);
  if (ui.stage) ui.stage.textContent = p.message;
}

function menuItems(menu: HTMLElement | null, labels: string[], selected = 0): void {
  if (!menu) return;
  while (menu.firstChild) menu.removeChild(menu.firstChild);
  labels.forEach((label, i) => {
    const item = document.createElement('sp-menu-item');
    item.textContent = label;
    if (i === selected) item.setAttribute('selected', '');
    menu.appendChild(item);
  });
}

/** The faces picker in words; with one face there is nothing to choose. */
function showFaces(d: Detection | null): void {
  const previous = detection ? faceChoices[Math.max(0, ui.faces?.selectedIndex ?? 0)] : 'all';
  detection = d;
  const words = d ? describeFaces(d.faces, { width: d.frame.right - d.frame.left, height: d.frame.bottom - d.frame.top }, info?.minFaceSize) : [];
  if (words.length === 1) {
    faceChoices = ['all'];
    menuItems(ui.facesMenu, [words[0]]);
    if (ui.faces) ui.faces.disabled = true;
    return;
  }
  faceChoices = ['all', 'largest', ...words.map((_, i) => i + 1)];
  const keep = Math.max(0, faceChoices.indexOf(previous));
  menuItems(ui.facesMenu, ['All faces', 'Largest face', ...words], keep);
  if (ui.faces) ui.faces.disabled = false;
}

function settings(): FaceShiftSettings {
  const dirs = info?.directions ?? [];
  const d = dirs[Math.max(0, ui.direction?.selectedIndex ?? 0)];
  return {
    direction: d?.direction ?? '',
    strength: Math.max(0, Math.min(150, Number(ui.strength?.value ?? 100))) / 100,
    faces: faceChoices[Math.max(0, ui.faces?.selectedIndex ?? 0)] ?? 'all',
    upscale: Boolean(ui.upscale?.checked ?? true),
  };
}

// ---------------------------------------------------------------------------------------------
// Live preview: one face, before/after, small; updated shortly after any change
// ---------------------------------------------------------------------------------------------

const preview = {
  timer: null as ReturnType<typeof setTimeout> | null,
  token: null as CancelToken | null,
  view: null as LayerPreviewView | null,
  urls: { before: '', after: '' },
  showBefore: false,
};

function previewCaption(text: string): void {
  if (ui.previewCaption) ui.previewCaption.textContent = text;
}

function showPreviewImage(): void {
  const url = preview.showBefore ? preview.urls.before : preview.urls.after;
  if (ui.previewImage) {
    if (url) { ui.previewImage.src = url; ui.previewImage.className = ''; } else ui.previewImage.className = 'hidden';
  }
  if (ui.previewToggle) ui.previewToggle.textContent = preview.showBefore ? 'Showing: before' : 'Showing: after';
}

/** Ask for a preview a moment after the last change (changes in a row make one request). */
function schedulePreview(delayMs = 250): void {
  if (!ui.previewOn || !ui.previewOn.checked || !info) return;
  if (preview.timer) clearTimeout(preview.timer);
  preview.timer = setTimeout(() => { preview.timer = null; void updatePreview(); }, delayMs);
}

async function updatePreview(): Promise<void> {
  if (running) return; // a run has the engine; the preview follows the next change
  preview.token?.cancel();
  const token = new CancelToken();
  preview.token = token;
  const s = settings();
  try {
    previewCaption('Updating the preview…');
    const p = await getController().preview(s, { signal: token, detection: detection ?? undefined, view: preview.view });
    if (token.aborted) return;
    if (!detection || detection !== p.detection) showFaces(p.detection);
    if (preview.view !== p.view || !preview.urls.before) preview.urls.before = await jpegDataUrl(photoshopModule(), p.before);
    preview.view = p.view;
    preview.urls.after = await jpegDataUrl(photoshopModule(), p.after);
    if (token.aborted) return;
    showPreviewImage();
    previewCaption(`Preview of face ${p.faceNumber}${p.faces > 1 ? ` of ${p.faces}` : ''}, ${directionWords(info, s.direction)} at ${Math.round(s.strength * 100)} %, without upscaling. The document is not changed.`);
  } catch (e) {
    if (token.aborted) return;
    const err = asPhotoshopError(e);
    previewCaption(err.code === 'CANCELLED' ? '' : `No preview: ${err.message}`);
  } finally {
    if (preview.token === token) preview.token = null;
  }
}

// ---------------------------------------------------------------------------------------------

async function start(): Promise<void> {
  try {
    info = await getController().engineInfo();
    menuItems(ui.directionMenu, info.directions.map((d) => d.label));
    if (ui.direction) ui.direction.disabled = false;
    const where = info.backend === 'webgpu' ? 'GPU (WebGPU)' : info.backend === 'wasm' ? 'CPU (WebAssembly)' : info.backend;
    if (ui.backend) {
      ui.backend.textContent = `Engine: ${where}`;
      ui.backend.setAttribute('title', `runtime ${info.runtime}`);
    }
    busy(false);
    schedulePreview(0);
  } catch (e) {
    if (ui.backend) ui.backend.textContent = 'Engine: not running';
    say(asPhotoshopError(e).message, 'error');
  }
}

async function findFaces(): Promise<void> {
  const token = new CancelToken();
  running = token;
  busy(true);
  say('Looking for faces…');
  try {
    const d = await getController().findFaces({ signal: token, onProgress: showProgress });
    showFaces(d);
    const n = d.faces.length;
    if (!n) say('No face was found on this layer.', 'error');
    else if (n === 1) say('1 face found. Click Transform face.', 'ok');
    else say(`${n} faces found. Pick one under Faces, or keep All faces.`, 'ok');
  } catch (e) {
    say(asPhotoshopError(e).message, 'error');
  } finally {
    running = null;
    busy(false);
    schedulePreview(0);
  }
}

async function transform(): Promise<void> {
  const s = settings();
  const ctl = getController();
  if (typeof s.faces === 'number' && detection) {
    // a face picked from a list made for another layer would be the wrong face
    try {
      const t = ctl.target();
      if (t.doc.id !== detection.documentID || t.layer.id !== detection.layerID) {
        showFaces(null);
        say('The active layer changed since the faces were found. Click Find faces again, or choose All faces.', 'error');
        return;
      }
    } catch (e) {
      say(asPhotoshopError(e).message, 'error');
      return;
    }
  }
  preview.token?.cancel();
  const token = new CancelToken();
  running = token;
  busy(true);
  say('Working… Photoshop stays usable until the layer is added.');
  try {
    const r = await ctl.run(s, { signal: token, onProgress: showProgress, detection: detection ?? undefined });
    if (!detection || detection.layerID !== r.detection.layerID) showFaces(r.detection);
    await recordRun(host, s); // a step in the action being recorded, if any
    say(doneMessage(r), 'ok');
  } catch (e) {
    const err = asPhotoshopError(e);
    say(err.message, err.code === 'CANCELLED' ? '' : 'error');
  } finally {
    running = null;
    busy(false);
  }
}

ui.run?.addEventListener('click', () => { if (!running) void transform(); });
ui.find?.addEventListener('click', () => { if (!running) void findFaces(); });
ui.cancel?.addEventListener('click', () => { running?.cancel(); });
for (const w of [ui.direction, ui.faces, ui.strength, ui.previewOn]) w?.addEventListener('change', () => schedulePreview());
ui.strength?.addEventListener('input', () => schedulePreview(400));
ui.previewToggle?.addEventListener('click', () => { preview.showBefore = !preview.showBefore; showPreviewImage(); });

busy(false);
void start();
