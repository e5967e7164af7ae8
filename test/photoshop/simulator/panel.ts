/** Test wiring: the simulator, the real engine behind a fake webview, and the panel's own client and controller. */
import sharp from 'sharp';
import type { RGBAImage } from '../../../src/core/image';
import { EngineService } from '../../../src/engine/service';
import { createNodeEngine } from '../../../src/platform/node';
import type { FaceEngine } from '../../../src/engine/engine';
import { FaceShiftController } from '../../../src/hosts/photoshop/controller';
import { MessageEngineClient, webviewTransport } from '../../../src/hosts/photoshop/webview-client';
import { PhotoshopSimulator } from './photoshop';
import { FakeWebview, Listeners } from './webview';

export interface Panel {
  sim: PhotoshopSimulator;
  webview: FakeWebview;
  client: MessageEngineClient;
  controller: FaceShiftController;
}

let shared: { engine: FaceEngine; service: EngineService } | null = null;

/** One engine per test file (loading the nets and detector takes a few seconds). */
export async function engineService(): Promise<EngineService> {
  if (!shared) {
    // one thread: the test machine is small and shared
    const engine = await createNodeEngine({ threads: 1 });
    shared = { engine, service: new EngineService(engine, 'native') };
  }
  return shared.service;
}

export async function disposeEngine(): Promise<void> {
  if (shared) await shared.engine.dispose();
  shared = null;
}

export async function openPanel(sim = new PhotoshopSimulator()): Promise<Panel> {
  const service = await engineService();
  const win = new Listeners();
  const webview = new FakeWebview(service, win);
  const client = new MessageEngineClient(webviewTransport(webview, win), { initRetryMs: 50 });
  return { sim, webview, client, controller: new FaceShiftController(sim, client) };
}

/** A photo file as RGBA8 (EXIF orientation applied), optionally resized. */
export async function loadPhoto(file: string, resize?: { width?: number; height?: number }): Promise<RGBAImage> {
  let img = sharp(file, { autoOrient: true }).toColourspace('srgb');
  if (resize) img = img.resize({ ...resize, fit: 'fill', kernel: 'lanczos3' });
  const { data, info } = await img.ensureAlpha().raw().toBuffer({ resolveWithObject: true });
  return { width: info.width, height: info.height, data: new Uint8ClampedArray(data.buffer, data.byteOffset, data.byteLength) };
}
