/**
 * The Photopea plugin page (dist/photopea) in Chromium, inside the Photopea emulator
 * (test/browser/photopea-emulator): the engine runs in the page (WASM here), the layer and its
 * mask arrive through the same scripts Photopea would run. A forger frame from another origin
 * answers every script first with a forged error, end and file; the plugin must not listen.
 */
import type { Frame, Page } from 'playwright-core';
import { Browser, Served, ensureBuilt, forwardConsole, launch, serve } from './support';
import { shippedDirections } from '../helpers/manifest';

jest.setTimeout(240_000);

interface LayerInfo { name: string; kind: string; bounds: number[]; hash: string; mask: { sum: number; max: number; box: number[] } | null }
interface Summary { docs: { name: string; width: number; height: number; layers: LayerInfo[]; selection: boolean; selectionHash: string | null; channels: string[]; composite: string }[]; scripts: number; errors: string[] }
type Box = { x: number; y: number; width: number; height: number };
/** The panel's last run (the use case's outcome), as the page holds it: the layer's mask is its data. */
interface LastRun { detected: { box: Box }[]; transformed: unknown[]; name: string; layer: { box: Box; mask: { data: Uint8ClampedArray } }; timings: Record<string, number> }

declare const emu: {
  summary(): Promise<Summary>; idle(): Promise<void>; openPhoto(url: string): Promise<string>; closeActive(): void; select(x: number, y: number, w: number, h: number): void;
  state: { failOn: string | null; closeAfterExport: boolean; scriptDelay: number; forged?: number; documents: unknown[] };
};
declare const faceshift: { ready: Promise<unknown>; photopea: Promise<boolean>; bridge: { ignored: number }; panel: { lastRun: LastRun | null } };

describe('Photopea plugin in Chromium, with the Photopea emulator', () => {
  let server: Served, other: Served, browser: Browser;
  const logs: string[] = [];
  let page: Page, plugin: Frame;
  const A = () => `http://127.0.0.1:${server.port}`;

  async function openEmulator(opts: { trustEmulator: boolean; forger: boolean; photo?: string; waitReady?: boolean }): Promise<{ page: Page; plugin: Frame }> {
    const p = await browser.context.newPage();
    // the plugin is served from another origin than "Photopea" (localhost vs 127.0.0.1), as in real life
    const pluginUrl = `http://localhost:${server.port}/plugin/index.html?device=wasm${opts.trustEmulator ? `&origin=${encodeURIComponent(A())}` : ''}`;
    let url = `${A()}/emulator/index.html?plugin=${encodeURIComponent(pluginUrl)}`;
    if (opts.forger) url += `&forger=${encodeURIComponent(`http://127.0.0.1:${other.port}/emulator/forger.html`)}`;
    if (opts.photo) url += `&photo=${encodeURIComponent(`${A()}/photos/${opts.photo}`)}`;
    await p.goto(url);
    await p.waitForFunction(() => (window as unknown as { emu?: { loaded?: boolean } }).emu?.loaded === true);
    let f: Frame | undefined;
    for (let i = 0; i < 100 && !f; i++) {
      f = p.frames().find((x) => x.url().includes('/plugin/index.html'));
      if (!f) await p.waitForTimeout(100);
    }
    if (!f) throw new Error('plugin frame did not load');
    if (opts.waitReady === false) return { page: p, plugin: f };
    await f.waitForFunction(() => typeof (window as unknown as { faceshift?: unknown }).faceshift === 'object');
    // while the models load, nothing can be clicked
    const early = await f.evaluate(() => Promise.race([faceshift.ready.then(() => 'ready'), new Promise((r) => setTimeout(() => r('loading'), 0))])
      .then((state) => ({ state, disabled: ['run', 'find', 'direction', 'strength'].map((id) => (document.getElementById(id) as HTMLInputElement).disabled) })));
    if (early.state === 'loading') expect(early.disabled).toEqual([true, true, true, true]);
    await f.evaluate(async () => { await faceshift.ready; return true; });
    return { page: p, plugin: f };
  }

  /** Click a button and wait until the status line settles (ok or error) after leaving "Working…". */
  async function clickAndWait(f: Frame, selector: string): Promise<{ text: string; kind: string }> {
    await f.click(selector);
    await f.waitForFunction(() => {
      const s = document.getElementById('status')!;
      return (document.getElementById('run') as HTMLButtonElement).disabled === false && s.textContent !== 'Working…';
    }, undefined, { timeout: 200_000 });
    return f.evaluate(() => ({ text: document.getElementById('status')!.textContent ?? '', kind: document.getElementById('status')!.className }));
  }

  async function resetDocs(photos: string[]): Promise<Summary> {
    await page.evaluate(() => { while (emu.state.documents.length) emu.closeActive(); });
    for (const ph of photos) await page.evaluate((u) => emu.openPhoto(u), `${A()}/photos/${ph}`);
    await page.evaluate(() => emu.idle());
    return page.evaluate(() => emu.summary());
  }

  beforeAll(async () => {
    ensureBuilt();
    server = await serve();
    other = await serve();
    browser = await launch();
    forwardConsole(browser.context, logs);
    ({ page, plugin } = await openEmulator({ trustEmulator: true, forger: true }));
    expect(await plugin.evaluate(() => faceshift.photopea)).toBe(true);
  }, 240_000);

  afterAll(async () => {
    await browser?.close();
    await server?.close();
    await other?.close();
  });

  afterEach(() => {
    // the page's own errors explain most failures; keep them in the output
    const errors = logs.splice(0).filter((l) => !l.includes('Photopea script error'));
    if (errors.length) console.log(errors.join('\n'));
  });

  test('no document open: a clear message, nothing changes', async () => {
    await resetDocs([]);
    const s = await clickAndWait(plugin, '#run');
    expect(s.kind).toBe('error');
    expect(s.text).toMatch(/No document is open in Photopea/);
    expect((await page.evaluate(() => emu.summary())).docs).toHaveLength(0);
  });

  test('a photo without a face: a clear message, no new layer', async () => {
    const before = await resetDocs(['neg_cc0_chelsea_cat.png']);
    const s = await clickAndWait(plugin, '#run');
    expect(s.kind).toBe('error');
    expect(s.text).toMatch(/No face was found/);
    const after = await page.evaluate(() => emu.summary());
    expect(after.docs[0].layers).toHaveLength(1);
    expect(after.docs[0].layers[0].hash).toBe(before.docs[0].layers[0].hash);
  });

  test('Find lists the faces; Transform adds one masked layer exactly over the face, the photo untouched', async () => {
    const before = await resetDocs(['nasa_astronaut_collins.png']);
    const forgedBefore = await page.evaluate(() => emu.state.forged ?? 0);
    const found = await clickAndWait(plugin, '#find');
    expect(found.text).toMatch(/^Found 1 face: Face 1 \((left|centre|right)\), (large|medium|small)\. Click Transform face\.$/);
    // one face: said in words, nothing to choose
    expect(await plugin.locator('#face-select option').allTextContents()).toEqual([expect.stringMatching(/^Face 1 \((left|centre|right)\), (large|medium|small)$/)]);
    expect(await plugin.locator('#face-select').isDisabled()).toBe(true);
    // a selection the user had survives the run
    await page.evaluate(() => emu.select(5, 5, 40, 30));
    const selectionBefore = (await page.evaluate(() => emu.summary())).docs[0].selectionHash;
    expect(selectionBefore).not.toBeNull();

    // the picker lists every direction of models/manifest.json, in its order
    expect(await plugin.locator('#direction option').evaluateAll((os) => os.map((o) => (o as HTMLOptionElement).value))).toEqual(shippedDirections());
    await plugin.selectOption('#direction', 'female2male');
    const t0 = Date.now();
    const s = await clickAndWait(plugin, '#run');
    const seconds = (Date.now() - t0) / 1000;
    expect(s.kind).toBe('ok');
    expect(s.text).toMatch(/1 face transformed into the new layer “FaceShift female->male”/);
    await page.evaluate(() => emu.idle());
    const after = await page.evaluate(() => emu.summary());
    // what the page wrote, summed there from the run's own mask (the test computes; the panel keeps no test figures)
    const run = await plugin.evaluate(() => {
      const r = faceshift.panel.lastRun!;
      let maskSum = 0, maskMax = 0;
      for (const v of r.layer.mask.data) { maskSum += v; if (v > maskMax) maskMax = v; }
      return { detected: r.detected.map((f) => ({ box: f.box })), name: r.name, layer: { box: r.layer.box, maskSum, maskMax }, timings: r.timings };
    });
    console.log(`transform in the plugin page (wasm, upscale on): ${seconds.toFixed(1)} s; stages ms ${JSON.stringify(Object.fromEntries(Object.entries(run.timings).map(([k, v]) => [k, Math.round(v)])))}`);

    const doc = after.docs[0];
    expect(doc.layers.map((l) => l.name)).toEqual(['FaceShift female->male', 'Background']);
    const [top, bottom] = doc.layers;
    // the source layer is exactly as it was; the user's selection is back, no channel left; no script failed
    expect(bottom.hash).toBe(before.docs[0].layers[0].hash);
    expect(bottom.mask).toBeNull();
    expect(doc.selectionHash).toBe(selectionBefore);
    expect(doc.channels).toEqual([]);
    expect(after.errors).toEqual([]);
    // placed exactly on the layer's box, which covers the detected face
    const { box } = run.layer;
    expect(top.bounds).toEqual([box.x, box.y, box.x + box.width, box.y + box.height]);
    const f = run.detected[0].box;
    const cx = f.x + f.width / 2, cy = f.y + f.height / 2;
    expect(cx).toBeGreaterThan(box.x); expect(cx).toBeLessThan(box.x + box.width);
    expect(cy).toBeGreaterThan(box.y); expect(cy).toBeLessThan(box.y + box.height);
    // the mask is the engine's soft mask (the helper's corners may add 1 each), inside the box
    expect(top.kind).toBe('pixel');
    expect(top.mask).not.toBeNull();
    expect(top.mask!.max).toBe(run.layer.maskMax);
    expect(Math.abs(top.mask!.sum - run.layer.maskSum)).toBeLessThanOrEqual(4);
    expect(top.mask!.box[0]).toBeGreaterThanOrEqual(box.x);
    expect(top.mask!.box[2]).toBeLessThanOrEqual(box.x + box.width);
    // and the face did change
    expect(doc.composite).not.toBe(before.docs[0].composite);
    // every script was answered first by the forger from another origin, and nothing came of it
    expect(await page.evaluate(() => emu.state.forged ?? 0)).toBeGreaterThan(forgedBefore);
    expect(await plugin.evaluate(() => faceshift.bridge.ignored)).toBeGreaterThan(0);
  });

  test('Cancel stops the run and changes nothing', async () => {
    const before = await resetDocs(['nasa_astronaut_collins.png']);
    // a slow Photopea keeps the run in progress long enough to press Cancel, however fast the machine
    await page.evaluate(() => { emu.state.scriptDelay = 1500; });
    await plugin.click('#run');
    await plugin.click('#cancel');
    await page.evaluate(() => { emu.state.scriptDelay = 0; });
    await plugin.waitForFunction(() => !(document.getElementById('run') as HTMLButtonElement).disabled, undefined, { timeout: 120_000 });
    expect(await plugin.textContent('#status')).toBe('Cancelled. Nothing was changed.');
    await page.evaluate(() => emu.idle());
    const after = await page.evaluate(() => emu.summary());
    expect(after.docs[0].layers.map((l) => l.name)).toEqual(['Background']);
    expect(after.docs[0].composite).toBe(before.docs[0].composite);
  });

  test('an error reported by Photopea is shown and the half-made layer is removed', async () => {
    const before = await resetDocs(['nasa_astronaut_collins.png']);
    await page.evaluate(() => { emu.state.failOn = 'executeAction'; });
    try {
      await plugin.uncheck('#upscale');
      const s = await clickAndWait(plugin, '#run');
      expect(s.kind).toBe('error');
      expect(s.text).toMatch(/Photopea reported an error: “General Photoshop error occurred/);
      expect(s.text).toMatch(/Nothing was changed/);
    } finally {
      await page.evaluate(() => { emu.state.failOn = null; });
      await plugin.check('#upscale');
    }
    await page.evaluate(() => emu.idle());
    const after = await page.evaluate(() => emu.summary());
    expect(after.docs[0].layers.map((l) => l.name)).toEqual(['Background']);
    expect(after.docs[0].layers[0].hash).toBe(before.docs[0].layers[0].hash);
    expect(after.docs[0].composite).toBe(before.docs[0].composite);
  });

  test('the document closed mid-run: a clear message, and the other document is not written to', async () => {
    const before = await resetDocs(['neg_cc0_chelsea_cat.png', 'nasa_astronaut_collins.png']);
    await page.evaluate(() => { emu.state.closeAfterExport = true; });
    await plugin.uncheck('#upscale');
    const s = await clickAndWait(plugin, '#run');
    await plugin.check('#upscale');
    expect(s.kind).toBe('error');
    expect(s.text).toMatch(/closed or changed while FaceShift was working/);
    await page.evaluate(() => emu.idle());
    const after = await page.evaluate(() => emu.summary());
    expect(after.docs).toHaveLength(1);
    expect(after.docs[0].name).toBe('neg_cc0_chelsea_cat.png');
    expect(after.docs[0].layers).toHaveLength(1);
    expect(after.docs[0].composite).toBe(before.docs[0].composite);
  });

  test('the live preview shows the face before/after and follows the strength, without touching the document', async () => {
    const before = await resetDocs(['nasa_astronaut_collins.png']);
    const canvasSum = () => plugin.evaluate(() => {
      const c = document.getElementById('preview') as HTMLCanvasElement;
      const d = c.getContext('2d')!.getImageData(0, 0, c.width, c.height).data;
      let s = 0; for (let i = 0; i < d.length; i++) s += d[i] * ((i % 7) + 1);
      return { sum: s, w: c.width, h: c.height, drawn: Number(c.dataset.drawn ?? 0), showing: c.dataset.showing, strength: c.dataset.strength, hidden: c.hidden };
    });
    // what dragging the slider does: a new value and an input event
    const setStrength = (v: string) => plugin.evaluate((value) => {
      const el = document.getElementById('strength') as HTMLInputElement;
      el.value = value;
      el.dispatchEvent(new Event('input', { bubbles: true }));
    }, v);
    const drawnAfter = async (n: number, strength: string) => {
      await plugin.waitForFunction(([k, st]) => {
        const c = document.getElementById('preview') as HTMLCanvasElement;
        return Number(c.dataset.drawn ?? 0) > Number(k) && c.dataset.strength === st;
      }, [n, strength] as const, { timeout: 60_000 });
    };
    // a change asks for a preview (the document was read again: it is another one now)
    const d0 = (await canvasSum()).drawn;
    await plugin.click('#preview-refresh');
    await drawnAfter(d0, '100');
    const full = await canvasSum();
    expect(full.hidden).toBe(false);
    expect(full.showing).toBe('after');
    expect(Math.max(full.w, full.h)).toBeLessThanOrEqual(192);
    expect(await plugin.textContent('#preview-caption')).toMatch(/Face 1 at 100%, without upscaling\. The document is not changed\./);

    const t0 = Date.now();
    await setStrength('30');
    await drawnAfter(full.drawn, '30');
    const updateMs = Date.now() - t0;
    const weak = await canvasSum();
    expect(weak.sum).not.toBe(full.sum);
    console.log(`preview update after a strength change (wasm, shared CPU): ${updateMs} ms`);
    expect(updateMs).toBeLessThan(10_000);

    await plugin.click('#preview-toggle');
    const orig = await canvasSum();
    expect(orig.showing).toBe('before');
    expect(orig.sum).not.toBe(weak.sum);
    await plugin.click('#preview-toggle');
    expect((await canvasSum()).sum).toBe(weak.sum);
    await setStrength('100');

    // the document: the same layers and pixels (the preview only exported it)
    await page.evaluate(() => emu.idle());
    const after = await page.evaluate(() => emu.summary());
    expect(after.docs[0].layers.map((l) => l.name)).toEqual(['Background']);
    expect(after.docs[0].composite).toBe(before.docs[0].composite);
  });

  test('a frame whose origin is not Photopea\'s is not listened to', async () => {
    // the same emulator, but the plugin trusts only https://www.photopea.com (its default)
    const { page: p, plugin: f } = await openEmulator({ trustEmulator: false, forger: false });
    try {
      await p.evaluate((u) => emu.openPhoto(u), `${A()}/photos/nasa_astronaut_collins.png`);
      expect(await f.evaluate(() => faceshift.photopea)).toBe(false);
      expect(await f.textContent('#status')).toMatch(/FaceShift works inside Photopea/);
      expect(await f.evaluate(() => faceshift.bridge.ignored)).toBeGreaterThan(0);
      // the engine is ready, but without Photopea's answer nothing can be clicked
      expect(await f.locator('#run').isDisabled()).toBe(true);
      expect(await f.locator('#find').isDisabled()).toBe(true);
      const after = await p.evaluate(() => emu.summary());
      expect(after.docs[0].layers).toHaveLength(1);
    } finally {
      await p.close();
    }
  });

  test('opened outside Photopea: it says so within 3 s, and nothing can be clicked', async () => {
    const p = await browser.context.newPage();
    try {
      await p.goto(`http://localhost:${server.port}/plugin/index.html?device=wasm`);
      await p.waitForFunction(() => /FaceShift works inside Photopea/.test(document.getElementById('status')!.textContent ?? ''), undefined, { timeout: 3000 });
      const shownAt = await p.evaluate(() => performance.now());
      expect(shownAt).toBeLessThan(3000);
      expect(await p.locator('#run').isDisabled()).toBe(true);
      await p.evaluate(async () => { await faceshift.ready; });
      // still disabled, still saying why, once the models are loaded
      expect(await p.locator('#run').isDisabled()).toBe(true);
      expect(await p.textContent('#status')).toMatch(/FaceShift works inside Photopea/);
    } finally {
      await p.close();
    }
  });

  test('inside a frame that never answers, it says so within 3 s', async () => {
    const { page: p, plugin: f } = await openEmulator({ trustEmulator: false, forger: false, waitReady: false });
    try {
      await f.waitForFunction(() => /FaceShift works inside Photopea/.test(document.getElementById('status')?.textContent ?? ''), undefined, { timeout: 10_000 });
      const t = await f.evaluate(() => new Promise<number>((resolve) => {
        const check = () => (/FaceShift works inside Photopea/.test(document.getElementById('status')!.textContent ?? '') ? resolve(performance.now()) : setTimeout(check, 20));
        check();
      }));
      expect(t).toBeLessThan(3000);
    } finally {
      await p.close();
    }
  });
});
