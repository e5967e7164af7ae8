/**
 * The Photopea page in headless Chromium (WASM, one thread, as in Photopea's iframe), inside the
 * Photopea emulator of test/browser: three transforms of one face in a row, with the page's
 * warm-up off (warmup=0: the first is cold) and on (the page warms its sessions while the "user"
 * looks at the panel; the runs start once the warm-up is done). Stage times are the use case's own
 * (lastRun.timings, per face: one face). Used by scripts/bench.ts (--only browser).
 */
import type { Frame } from 'playwright-core';
import { launch, serve, ensureBuilt } from '../test/browser/support';

export interface BrowserRun { seconds: number; timings: Record<string, number> }
export interface BrowserBench { warmup: boolean; readyS: number; warmS: number; runs: BrowserRun[] }

declare const faceshift: { ready: Promise<{ warm?: Promise<void> }>; panel: { lastRun: { timings: Record<string, number> } | null } };

const PHOTO = 'nasa_astronaut_collins.png';
const DIRECTION = 'male2female'; // the first direction: the one the page warms

async function runOnce(f: Frame): Promise<BrowserRun> {
  const t0 = Date.now();
  await f.click('#run');
  await f.waitForFunction(() => {
    const s = document.getElementById('status')!;
    return (document.getElementById('run') as HTMLButtonElement).disabled === false && s.textContent !== 'Working…';
  }, undefined, { timeout: 300_000 });
  const seconds = (Date.now() - t0) / 1000;
  const timings = await f.evaluate(() => faceshift.panel.lastRun?.timings ?? {});
  return { seconds, timings };
}

export async function benchBrowser(runs = 3): Promise<BrowserBench[]> {
  ensureBuilt();
  const server = await serve();
  const browser = await launch();
  const out: BrowserBench[] = [];
  try {
    for (const warmup of [false, true]) {
      const A = `http://127.0.0.1:${server.port}`;
      const plugin = `http://localhost:${server.port}/plugin/index.html?device=wasm&warmup=${warmup ? 1 : 0}&origin=${encodeURIComponent(A)}`;
      const page = await browser.context.newPage();
      const t0 = Date.now();
      await page.goto(`${A}/emulator/index.html?plugin=${encodeURIComponent(plugin)}&photo=${encodeURIComponent(`${A}/photos/${PHOTO}`)}`);
      let f: Frame | undefined;
      for (let i = 0; i < 200 && !f; i++) { f = page.frames().find((x) => x.url().includes('/plugin/index.html')); if (!f) await page.waitForTimeout(100); }
      if (!f) throw new Error('plugin frame did not load');
      await f.waitForFunction(() => typeof (window as unknown as { faceshift?: unknown }).faceshift === 'object');
      await f.evaluate(async () => { await faceshift.ready; });
      const readyS = (Date.now() - t0) / 1000;
      await f.evaluate(async () => { await (await faceshift.ready).warm; });
      const warmS = (Date.now() - t0) / 1000 - readyS;
      await f.waitForFunction(() => !(document.getElementById('run') as HTMLButtonElement).disabled, undefined, { timeout: 60_000 });
      await f.selectOption('#direction', DIRECTION);
      const rs: BrowserRun[] = [];
      for (let r = 0; r < runs; r++) rs.push(await runOnce(f));
      out.push({ warmup, readyS, warmS, runs: rs });
      process.stderr.write(`browser warmup=${warmup}: ready ${readyS.toFixed(1)} s, warm-up ${warmS.toFixed(1)} s, runs ${rs.map((r) => `${r.seconds.toFixed(1)} s ${JSON.stringify(Object.fromEntries(Object.entries(r.timings).map(([k, v]) => [k, Math.round(v)])))}`).join('; ')}\n`);
      await page.close();
    }
  } finally {
    await browser.close();
    await server.close();
  }
  return out;
}

if (require.main === module) benchBrowser(Number(process.argv[2] ?? 3)).then((r) => console.log(JSON.stringify(r, null, 1)), (e) => { console.error(e); process.exit(1); });
