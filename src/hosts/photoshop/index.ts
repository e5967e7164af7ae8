/**
 * The FaceShift panel (UXP). Wiring and UI only: the flow is controller.ts, Photoshop is
 * uxp-host.ts, the engine (in the <webview>) is webview-client.ts, recording is actions.ts.
 */
import type { DetectedFace } from '../../core/faces';
import { faceSize } from '../../core/faces';
import {
  Detection, EngineInfo, FaceChoice, FaceShiftController, FaceShiftSettings, PhotoshopError, RunProgress, RunResult,
  asPhotoshopError, directionWords,
} from './controller';
import { EventSourceLike, MessageEngineClient, WebviewLike, webviewTransport } from './webview-client';
import { createUxpHost } from './uxp-host';
import { installPlayback, recordRun } from './actions';

// Spectrum widgets as the panel uses them
interface Picker extends HTMLElement { selectedIndex: number; disabled: boolean }
interface Slider extends HTMLElement { value: number }
interface Checkbox extends HTMLElement { checked: boolean }
interface Button extends HTMLElement { disabled: boolean }
interface Progress extends HTMLElement { value: number }

const el = <T extends HTMLElement = HTMLElement>(id: string): T => document.getElementById(id) as T;

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
};

const host = createUxpHost();
const client = new MessageEngineClient(webviewTransport(el('engine') as unknown as WebviewLike, window as unknown as EventSourceLike));
const controller = new FaceShiftController(host, client);

let info: EngineInfo | null = null;
let detection: Detection | null = null;
/** the faces picker's entries after "All faces" and "Largest face" */
let faceChoices: FaceChoice[] = ['all', 'largest'];
let running: AbortController | null = null;

// Photoshop calls this when a recorded FaceShift step plays (the panel need not be visible).
installPlayback(globalThis, () => controller, {
  onStart: (s) => { say(`Playing an action step: FaceShift ${directionWords(s.direction)}…`); },
  onDone: (r) => { say(doneWords(r), 'ok'); },
  onError: (e) => { say(e.message, 'error'); },
});

function say(text: string, kind: '' | 'ok' | 'error' = ''): void {
  ui.status.textContent = text;
  ui.status.className = kind;
}

function busy(on: boolean): void {
  ui.run.disabled = on || !info;
  ui.find.disabled = on || !info;
  ui.direction.disabled = on || !info;
  ui.cancel.disabled = !on;
  ui.progress.className = on ? '' : 'hidden';
  if (on) { ui.progress.value = 0; ui.stage.textContent = 'Starting'; }
}

function showProgress(p: RunProgress): void {
  ui.progress.value = Math.round(p.fraction * 100);
  ui.stage.textContent = p.message;
}

function menuItems(menu: HTMLElement, labels: string[], selected = 0): void {
  while (menu.firstChild) menu.removeChild(menu.firstChild);
  labels.forEach((label, i) => {
    const item = document.createElement('sp-menu-item');
    item.textContent = label;
    if (i === selected) item.setAttribute('selected', '');
    menu.appendChild(item);
  });
}

function faceWords(f: DetectedFace, i: number, frameWidth: number): string {
  const cx = (f.box.x + f.box.width / 2) / frameWidth;
  const where = cx < 0.38 ? 'left' : cx > 0.62 ? 'right' : 'centre';
  return `Face ${i + 1} (${where}, ${Math.round(faceSize(f))} px)`;
}

function showFaces(d: Detection | null): void {
  detection = d;
  const extra = d ? d.faces.map((f, i) => faceWords(f, i, d.frame.right - d.frame.left)) : [];
  faceChoices = ['all', 'largest', ...extra.map((_, i) => i + 1)];
  menuItems(ui.facesMenu, ['All faces', 'Largest face', ...extra]);
}

function settings(): FaceShiftSettings {
  const dirs = info?.directions ?? [];
  const d = dirs[Math.max(0, ui.direction.selectedIndex)];
  return {
    direction: d?.direction ?? '',
    strength: Math.max(0, Math.min(100, Number(ui.strength.value))) / 100,
    faces: faceChoices[Math.max(0, ui.faces.selectedIndex)] ?? 'all',
    upscale: Boolean(ui.upscale.checked),
  };
}

function doneWords(r: RunResult): string {
  const n = r.faces.length;
  const skipped = r.skipped.length ? ` ${r.skipped.length} face(s) skipped: ${r.skipped.map((s) => s.reason).join('; ')}.` : '';
  return `Done: ${n} face${n === 1 ? '' : 's'} on the new layer "${r.historyName}". Edit > Undo removes it; paint its mask to refine.${skipped}`;
}

async function start(): Promise<void> {
  try {
    info = await controller.engineInfo();
    menuItems(ui.directionMenu, info.directions.map((d) => d.label));
    ui.direction.disabled = false;
    const where = info.backend === 'webgpu' ? 'GPU (WebGPU)' : info.backend === 'wasm' ? 'CPU (WebAssembly)' : info.backend;
    ui.backend.textContent = `Engine: ${where}`;
    ui.backend.setAttribute('title', `runtime ${info.runtime}`);
    busy(false);
  } catch (e) {
    ui.backend.textContent = 'Engine: not running';
    say(asPhotoshopError(e).message, 'error');
  }
}

async function findFaces(): Promise<void> {
  running = new AbortController();
  busy(true);
  say('Looking for faces…');
  try {
    const d = await controller.findFaces({ signal: running.signal, onProgress: showProgress });
    showFaces(d);
    say(d.faces.length ? `${d.faces.length} face(s) found. Pick one under Faces, or keep All faces.` : 'No face was found on this layer.', d.faces.length ? 'ok' : 'error');
  } catch (e) {
    say(asPhotoshopError(e).message, 'error');
  } finally {
    running = null;
    busy(false);
  }
}

async function transform(): Promise<void> {
  const s = settings();
  if (typeof s.faces === 'number' && detection) {
    // a face picked from a list made for another layer would be the wrong face
    try {
      const t = controller.target();
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
  running = new AbortController();
  busy(true);
  say('Working… Photoshop stays usable until the layer is added.');
  try {
    const r = await controller.run(s, { signal: running.signal, onProgress: showProgress, detection: detection ?? undefined });
    if (!detection || detection.layerID !== r.detection.layerID) showFaces(r.detection);
    await recordRun(host, s); // a step in the action being recorded, if any
    say(doneWords(r), 'ok');
  } catch (e) {
    const err = e instanceof PhotoshopError ? e : asPhotoshopError(e);
    say(err.message, err.code === 'CANCELLED' ? '' : 'error');
  } finally {
    running = null;
    busy(false);
  }
}

ui.run.addEventListener('click', () => { if (!running) void transform(); });
ui.find.addEventListener('click', () => { if (!running) void findFaces(); });
ui.cancel.addEventListener('click', () => { running?.abort(); });

busy(false);
void start();
