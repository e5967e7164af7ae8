/**
 * Browser-test plumbing: build the web bundles when missing, serve them (and the Photopea
 * emulator and test photos) from a local HTTP server, and run Debian's Chromium headless with a
 * fresh profile. No network: everything is served from this machine.
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import * as http from 'http';
import { spawnSync } from 'child_process';
import type { AddressInfo } from 'net';
import { chromium, BrowserContext, Page } from 'playwright-core';
import type { Reply, Request } from '../../src/engine/protocol';
import { PHOTOS } from '../helpers/photos';

export const ROOT = path.resolve(__dirname, '..', '..');
export const DIST = path.join(ROOT, 'dist');
export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

/** Build the web bundles once if they are not there (npm test builds them first anyway). */
export function ensureBuilt(): void {
  const needed = ['photopea/index.html', 'photopea/faceshift.js', 'photoshop/engine/index.html', 'photoshop/models/manifest.json'];
  if (needed.every((f) => fs.existsSync(path.join(DIST, f)))) return;
  const r = spawnSync('npx', ['webpack', '--config-name', 'photopea', '--config-name', 'photoshop-engine'], { cwd: ROOT, stdio: 'inherit' });
  if (r.status !== 0) throw new Error('webpack build failed; run `npx webpack` to see why.');
}

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8', '.js': 'text/javascript', '.mjs': 'text/javascript', '.json': 'application/json',
  '.wasm': 'application/wasm', '.png': 'image/png', '.jpg': 'image/jpeg', '.jpeg': 'image/jpeg', '.svg': 'image/svg+xml',
};

/** URL prefix -> folder */
export const MOUNTS: Record<string, string> = {
  '/plugin/': path.join(DIST, 'photopea'),
  '/ps/': path.join(DIST, 'photoshop'),
  '/emulator/': path.join(__dirname, 'photopea-emulator'),
  '/photos/': PHOTOS,
};

export interface Served { port: number; close(): Promise<void> }

/** A static file server over MOUNTS on 127.0.0.1 (reachable as 127.0.0.1 and localhost: two origins). */
export async function serve(): Promise<Served> {
  const server = http.createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://x');
    const mount = Object.keys(MOUNTS).find((m) => url.pathname.startsWith(m));
    const base = mount && MOUNTS[mount];
    const file = base && path.resolve(base, decodeURIComponent(url.pathname.slice(mount!.length)));
    if (!base || !file || !file.startsWith(base) || !fs.existsSync(file) || !fs.statSync(file).isFile()) {
      res.writeHead(404).end('not found');
      return;
    }
    res.writeHead(200, { 'content-type': TYPES[path.extname(file).toLowerCase()] ?? 'application/octet-stream', 'cache-control': 'no-store' });
    fs.createReadStream(file).pipe(res);
  });
  await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
  return {
    port: (server.address() as AddressInfo).port,
    close: () => new Promise<void>((ok) => { server.closeAllConnections(); server.close(() => ok()); }),
  };
}

export interface Browser { context: BrowserContext; close(): Promise<void> }

/** Headless Chromium with a fresh profile; WebGPU on (a software adapter on machines without a GPU). */
export async function launch(): Promise<Browser> {
  if (!fs.existsSync(CHROMIUM)) {
    throw new Error(`No Chromium at ${CHROMIUM}: install Debian's chromium (apt-get install chromium) or set CHROMIUM_PATH.`);
  }
  const profile = fs.mkdtempSync(path.join(os.tmpdir(), 'faceshift-chromium-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    ignoreDefaultArgs: ['--headless'],
    args: ['--headless=new', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update',
      '--disable-sync', '--no-first-run', '--enable-unsafe-webgpu'],
  });
  // Nothing may come from the network: fail any request that is not to this machine.
  await context.route((u) => !/^https?:\/\/(127\.0\.0\.1|localhost)(:\d+)?\//.test(u.href) && !u.href.startsWith('data:') && !u.href.startsWith('blob:'), (r) => r.abort());
  return {
    context,
    close: async () => { await context.close(); fs.rmSync(profile, { recursive: true, force: true }); },
  };
}

/** Print the page's console errors in the test output (they explain most failures). */
export function forwardConsole(ctx: BrowserContext, sink: string[] = []): string[] {
  ctx.on('console', (m) => { if (m.type() === 'error' || m.type() === 'warning') sink.push(`[${m.type()}] ${m.text()}`); });
  ctx.on('weberror', (e) => sink.push(`[pageerror] ${e.error().message}`));
  return sink;
}

/** Build once, serve dist/ and launch Chromium around a describe block; the page console goes to the test output. */
export function useBrowser(): { server: () => Served; browser: () => Browser } {
  let server: Served | undefined, browser: Browser | undefined;
  const logs: string[] = [];
  beforeAll(async () => {
    ensureBuilt();
    server = await serve();
    browser = await launch();
    forwardConsole(browser.context, logs);
  }, 120_000);
  afterAll(async () => {
    if (logs.length) console.log(logs.join('\n'));
    await browser?.close();
    await server?.close();
  });
  return { server: () => server!, browser: () => browser! };
}

/**
 * The Photoshop panel's engine page (dist/photoshop/engine) driven over its JSON protocol, as the
 * panel's webview bridge does: window.uxpHost is shimmed to collect replies (copied through JSON).
 */
export interface EnginePage {
  page: Page;
  send(msg: Request, asString?: boolean): Promise<void>;
  /** The reply of `type` (or an error) to request `id`. */
  reply<T extends Reply['type']>(id: string, type: T | 'error', timeoutMs?: number): Promise<Extract<Reply, { type: T | 'error' }>>;
  /** Every reply so far to request `id`. */
  replies(id: string): Promise<Reply[]>;
}

export async function openEnginePage(browser: Browser, url: string): Promise<EnginePage> {
  type W = Window & { __replies: Reply[]; uxpHost: { postMessage(m: unknown): void } };
  const page = await browser.context.newPage();
  await page.addInitScript(() => {
    const w = window as unknown as W;
    w.__replies = [];
    w.uxpHost = { postMessage: (m: unknown) => { w.__replies.push(JSON.parse(JSON.stringify(m))); } };
  });
  await page.goto(url);
  return {
    page,
    send: (msg, asString = false) => page.evaluate(([m, str]) => { window.postMessage(str ? JSON.stringify(m) : m, '*'); }, [msg, asString] as const),
    reply: async (id, type, timeoutMs = 200_000) => {
      const match = ([i, t]: readonly [string, string]) => (window as unknown as W).__replies.find((r) => r.id === i && (r.type === t || r.type === 'error'));
      await page.waitForFunction(match, [id, type] as const, { timeout: timeoutMs });
      return page.evaluate(match, [id, type] as const) as never;
    },
    replies: (id) => page.evaluate((i) => (window as unknown as W).__replies.filter((r) => r.id === i), id),
  };
}
