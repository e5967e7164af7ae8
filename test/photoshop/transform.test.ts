/**
 * The Photoshop panel end to end, without Photoshop: the controller drives the simulator
 * (test/photoshop/simulator) and the real engine, reached through the panel's own webview client
 * with every message JSON-encoded as the UXP bridge carries it.
 */
import type { RGBAImage } from '../../src/core/image';
import { FaceShiftSettings, layerName } from '../../src/app/transform';
import { doneMessage } from '../../src/hosts/photoshop/controller';
import { PhotoshopError } from '../../src/hosts/photoshop/errors';
import { PLAYBACK_METHOD, installPlayback, recordRun } from '../../src/hosts/photoshop/actions';
import { registerPlugin } from '../../src/hosts/photoshop/plugin';
import { CancelToken } from '../../src/hosts/photoshop/cancel';
import { photo } from '../helpers/photos';
import { PhotoshopSimulator, SimDocument, SimLayer } from './simulator/photoshop';
import { Panel, disposeEngine, loadPhoto, openPanel } from './simulator/panel';

const settings = (over: Partial<FaceShiftSettings> = {}): FaceShiftSettings => ({ direction: 'male2female', strength: 1, faces: 'all', upscale: true, ...over });

let collins: RGBAImage;
beforeAll(async () => { collins = await loadPhoto(photo('nasa_astronaut_collins')); });
afterAll(async () => { await disposeEngine(); });

function bytes(a: Uint8ClampedArray | null): Buffer { return Buffer.from(a!.buffer, a!.byteOffset, a!.byteLength); }

/** Where a layer has pixels: {x0, y0, x1, y1} of alpha > 0, or null. */
function alphaBox(l: SimLayer, width: number): { x0: number; y0: number; x1: number; y1: number } | null {
  let x0 = Infinity, y0 = Infinity, x1 = -1, y1 = -1;
  for (let i = 3; i < l.pixels!.length; i += 4) {
    if (l.pixels![i] === 0) continue;
    const p = (i - 3) / 4, x = p % width, y = (p - x) / width;
    x0 = Math.min(x0, x); y0 = Math.min(y0, y); x1 = Math.max(x1, x + 1); y1 = Math.max(y1, y + 1);
  }
  return x1 < 0 ? null : { x0, y0, x1, y1 };
}

async function expectRefused(p: Panel, doc: SimDocument | null, code: string, words: RegExp, s = settings()): Promise<void> {
  const before = doc && p.sim.fingerprint(doc.id);
  const err = await p.controller.run(s).then(() => null, (e: unknown) => e);
  expect(err).toBeInstanceOf(PhotoshopError);
  expect((err as PhotoshopError).code).toBe(code);
  expect((err as PhotoshopError).message).toMatch(words);
  if (doc) expect(p.sim.fingerprint(doc.id)).toEqual(before);
  expect(p.sim.writeScopes).toBe(0);
}

describe('Transform face', () => {
  test('adds one masked layer directly above the source in one history step; the source is untouched', async () => {
    const p = await openPanel();
    const { sim } = p;
    const doc = sim.openPhoto(collins, { title: 'collins.png' });
    const source = doc.layers[0];
    const notes = sim.addLayer(doc.id, { name: 'Notes', image: { width: 4, height: 4, data: new Uint8ClampedArray(64).fill(200) } });
    sim.select(doc.id, source.id);
    const sourceBefore = Buffer.from(bytes(source.pixels));
    const before = sim.fingerprint(doc.id);
    const historyBefore = doc.history.map((h) => h.name);
    const stages = new Set<string>();
    let last = 0;

    const r = await p.controller.run(settings(), { onProgress: (x) => { stages.add(x.stage); expect(x.fraction).toBeGreaterThanOrEqual(last - 1e-9); last = x.fraction; } });

    // the new layer sits between the source and the layer that was above it
    expect(doc.layers.map((l) => l.name)).toEqual(['Notes', 'FaceShift male->female 100%', 'Background']);
    const made = doc.layers[1];
    expect(r.layer.id).toBe(made.id);
    expect(made.kind).toBe('pixel');
    expect(doc.active).toEqual([made.id]);
    expect(notes.pixels && bytes(notes.pixels).equals(bytes(sim.layerById(doc.id, notes.id).pixels))).toBe(true);
    // the source's pixels are byte-identical
    expect(bytes(sim.layerById(doc.id, source.id).pixels).equals(sourceBefore)).toBe(true);
    // exactly one history state, named after the direction; Undo brings back the document as it was
    expect(doc.history.map((h) => h.name)).toEqual([...historyBefore, layerName({ source: 'male', target: 'female' }, 1)]);
    // every pixel read had its own short modal scope (no nets inside), and one scope wrote
    expect(sim.scopes.map((x) => x.commandName)).toEqual(['FaceShift: reading the layer', 'FaceShift: reading the layer', layerName({ source: 'male', target: 'female' }, 1)]);
    expect(sim.writeScopes).toBe(1);
    expect(sim.maxModalDepth).toBe(1);
    // pixels only around the face, and a soft mask: opaque in the middle of the face, zero at the box edge
    const box = alphaBox(made, doc.width)!;
    const face = r.faces[0].box;
    for (const k of r.faces[0].keypoints.slice(0, 4)) {
      expect(k.x).toBeGreaterThan(box.x0);
      expect(k.x).toBeLessThan(box.x1);
    }
    expect((box.x1 - box.x0) * (box.y1 - box.y0)).toBeLessThan(doc.width * doc.height * 0.6);
    const cx = Math.round(face.x + face.width / 2), cy = Math.round(face.y + face.height / 2);
    expect(made.mask![cy * doc.width + cx]).toBeGreaterThan(200);
    expect(made.mask![box.y0 * doc.width + box.x0]).toBeLessThan(30);
    // the visible image changed at the face and nowhere outside the layer's box
    const after = sim.composite(doc.id);
    let changedInside = 0, changedOutside = 0;
    const plain = collins.data;
    for (let y = 0; y < doc.height; y++) {
      for (let x = 0; x < doc.width; x++) {
        const i = (y * doc.width + x) * 4;
        if (x < 4 && y < 4) continue; // the Notes layer
        const d = Math.abs(after.data[i] - plain[i]) + Math.abs(after.data[i + 1] - plain[i + 1]) + Math.abs(after.data[i + 2] - plain[i + 2]);
        if (d <= 3) continue;
        if (x >= box.x0 && x < box.x1 && y >= box.y0 && y < box.y1) changedInside++; else changedOutside++;
      }
    }
    expect(changedInside).toBeGreaterThan(face.width * face.height * 0.2);
    expect(changedOutside).toBe(0);
    expect([...stages]).toEqual(expect.arrayContaining(['read', 'detect', 'align', 'transform', 'upscale', 'paste', 'write']));

    sim.undo(doc.id);
    expect(sim.fingerprint(doc.id)).toEqual(before);
  });

  test('a large photo: faces found on a small copy, only face regions read at full resolution', async () => {
    const p = await openPanel();
    const big = await loadPhoto(photo('wh_obama_official_2012'), { width: 2730, height: 3411 });
    const doc = p.sim.openPhoto(big, { title: 'obama-big.jpg' });
    const src = doc.layers[0];
    const r = await p.controller.run(settings({ upscale: false }));
    expect(r.faces).toHaveLength(1);

    const reads = p.sim.reads.filter((x) => x.layerID === src.id);
    const previews = reads.filter((x) => x.targetSize);
    const full = reads.filter((x) => !x.targetSize);
    expect(previews).toHaveLength(1);
    expect(Math.max(previews[0].width, previews[0].height)).toBeLessThanOrEqual(2048);
    expect(previews[0].width * previews[0].height).toBeLessThan(big.width * big.height / 2);
    expect(full).toHaveLength(1);
    const area = full.reduce((s, x) => s + x.width * x.height, 0);
    expect(area).toBeLessThan(big.width * big.height * 0.25);
    // the full-resolution read covers the face (its eyes, nose, mouth)
    const b = full[0].read;
    for (const k of r.faces[0].keypoints.slice(0, 4)) {
      expect(k.x).toBeGreaterThan(b.left);
      expect(k.x).toBeLessThan(b.right);
      expect(k.y).toBeGreaterThan(b.top);
      expect(k.y).toBeLessThan(b.bottom);
    }
    // and what crossed the bridge was the small copy and that region, not the photo
    const detect = p.webview.log.requests.find((m) => m.type === 'detect');
    expect(detect && detect.type === 'detect' && Math.max(detect.preview.width, detect.preview.height)).toBeLessThanOrEqual(2048);
    expect(p.webview.log.bytesToEngine).toBeLessThan(big.width * big.height * 4 * 4 / 3 * 0.6);
  });

  test('a layer that is not at the origin: read and written in its own place', async () => {
    const p = await openPanel();
    const doc = p.sim.newDocument(900, 700, { title: 'collage' });
    const white = { width: 900, height: 700, data: new Uint8ClampedArray(900 * 700 * 4).fill(255) };
    p.sim.addLayer(doc.id, { name: 'Paper', image: white });
    const placed = p.sim.addLayer(doc.id, { name: 'Portrait', image: collins, left: 200, top: 100 });
    const r = await p.controller.run(settings({ upscale: false }));
    expect(doc.layers.map((l) => l.name)).toEqual(['FaceShift male->female 100%', 'Portrait', 'Paper']);
    const preview = p.sim.reads.find((x) => x.targetSize)!;
    expect(preview.read).toEqual({ left: 200, top: 100, right: 712, bottom: 612 });
    // faces are reported in the layer's frame; the new layer's pixels land on the face in the document
    const made = alphaBox(doc.layers[0], doc.width)!;
    const mask = doc.layers[0].mask!;
    for (const k of r.faces[0].keypoints.slice(0, 4)) {
      const x = Math.round(200 + k.x), y = Math.round(100 + k.y);
      expect(x).toBeGreaterThan(made.x0);
      expect(x).toBeLessThan(made.x1);
      expect(y).toBeGreaterThan(made.y0);
      expect(y).toBeLessThan(made.y1);
      expect(mask[y * doc.width + x]).toBeGreaterThan(128);
    }
    expect(bytes(placed.pixels).equals(bytes(p.sim.layerById(doc.id, placed.id).pixels))).toBe(true);
  });

  test('several faces: all, or one picked from the list found before', async () => {
    const p = await openPanel();
    const img = await loadPhoto(photo('wh_biden_obama_greenroom'));
    const doc = p.sim.openPhoto(img);
    const detection = await p.controller.findFaces();
    expect(detection.faces.length).toBeGreaterThanOrEqual(2);
    const readsAfterDetect = p.sim.reads.length;

    const r = await p.controller.run(settings({ faces: 2, upscale: false }), { detection });
    // detection was not repeated: one more read, the second face's region
    expect(p.sim.reads.length).toBe(readsAfterDetect + 1);
    expect(r.faces).toHaveLength(1);
    expect(r.faces[0].box).toEqual(detection.faces[1].box);
    const made = alphaBox(doc.layers[0], doc.width)!;
    const other = detection.faces[0].box;
    expect(made.x0).toBeGreaterThan(other.x + other.width / 2); // face 1 is left of face 2 and not touched

    p.sim.undo(doc.id);
    const all = await p.controller.run(settings({ faces: 'all', upscale: false }), { detection });
    expect(all.faces).toHaveLength(detection.faces.length);
    expect(doc.layers.filter((l) => l.name.startsWith('FaceShift'))).toHaveLength(1);
  });
});

describe('cancel and failure leave the document as it was', () => {
  let p: Panel;
  let doc: SimDocument;
  let before: unknown;
  beforeEach(async () => {
    p = await openPanel();
    doc = p.sim.openPhoto(collins);
    before = p.sim.fingerprint(doc.id);
  });
  const unchanged = () => expect(p.sim.fingerprint(doc.id)).toEqual(before);

  test('cancel while the nets run', async () => {
    const ctl = new AbortController();
    const err = await p.controller.run(settings(), {
      signal: ctl.signal, onProgress: (x) => { if (x.stage === 'transform') ctl.abort(); },
    }).catch((e: unknown) => e);
    expect((err as PhotoshopError).code).toBe('CANCELLED');
    unchanged();
    expect(p.sim.writeScopes).toBe(0);
    // the engine was told to stop the request
    const cancel = p.webview.log.requests.find((m) => m.type === 'cancel');
    const transform = p.webview.log.requests.find((m) => m.type === 'transform');
    expect(cancel && cancel.type === 'cancel' && cancel.target).toBe(transform!.id);
  });

  test('cancel in Photoshop\'s progress bar while the layer is being written', async () => {
    p.sim.cancelAfterChanges = 1; // after the new layer, before its pixels
    const err = await p.controller.run(settings({ upscale: false })).catch((e: unknown) => e);
    expect((err as PhotoshopError).code).toBe('CANCELLED');
    unchanged();
    expect(p.sim.scopes.filter((x) => !x.commandName.startsWith('FaceShift: reading'))).toHaveLength(1);
  });

  test('Photoshop fails half-way (the mask)', async () => {
    p.sim.failNext = { op: 'putLayerMask', message: 'Not enough memory (RAM).' };
    const err = await p.controller.run(settings({ upscale: false })).catch((e: unknown) => e);
    expect((err as PhotoshopError).code).toBe('WRITE');
    expect((err as PhotoshopError).message).toMatch(/Not enough memory.*Nothing was changed/);
    unchanged();
  });

  test('another plugin holds Photoshop', async () => {
    p.sim.otherPluginModal = true;
    const err = await p.controller.run(settings({ upscale: false })).catch((e: unknown) => e);
    expect((err as PhotoshopError).code).toBe('BUSY');
    unchanged();
  });
});

describe('what FaceShift refuses, saying what to do, with nothing changed', () => {
  let p: Panel;
  beforeAll(async () => { p = await openPanel(); });
  beforeEach(() => {
    p.sim.reads.length = 0;
    p.sim.scopes.length = 0;
  });

  test('no document', async () => {
    const fresh = await openPanel();
    await expectRefused(fresh, null, 'NO_DOCUMENT', /Open one \(File > Open\)/);
  });

  const layerCases: [string, Partial<Parameters<PhotoshopSimulator['addLayer']>[1]>, RegExp][] = [
    ['a group', { kind: 'group' }, /is a group.*select the pixel layer/i],
    ['an adjustment layer', { kind: 'curves' }, /adjustment layer/],
    ['a fill layer', { kind: 'solidColor' }, /fill layer/],
    ['a text layer', { kind: 'text' }, /text layer/],
    ['a smart object', { kind: 'smartObject' }, /smart object.*Layer > Rasterize > Smart Object/],
    ['an empty layer', {}, /is empty/],
    ['a hidden layer', { visible: false, image: { width: 2, height: 2, data: new Uint8ClampedArray(16).fill(255) } }, /hidden.*the eye/],
    ['a locked layer', { allLocked: true, image: { width: 2, height: 2, data: new Uint8ClampedArray(16).fill(255) } }, /locked.*Unlock/],
  ];
  test.each(layerCases)('%s', async (_name, spec, words) => {
    const doc = p.sim.openPhoto(collins);
    p.sim.addLayer(doc.id, { name: 'Layer 1', ...spec });
    await expectRefused(p, doc, 'BAD_LAYER', words);
    expect(p.sim.reads).toHaveLength(0);
  });

  test('two layers selected', async () => {
    const doc = p.sim.openPhoto(collins);
    const l = p.sim.addLayer(doc.id, { name: 'Copy', image: collins });
    p.sim.select(doc.id, l.id, doc.layers[1].id);
    await expectRefused(p, doc, 'NO_LAYER', /2 layers are selected/);
  });

  const modes: [string, string, RegExp][] = [
    ['a CMYK document', 'CMYKColorMode', /CMYK.*Image > Mode > RGB Color/],
    ['a Lab document', 'labColorMode', /Lab.*Image > Mode > RGB Color/],
    ['an indexed-colour document', 'indexedColorMode', /indexed.*Image > Mode > RGB Color/],
    ['a grayscale document', 'grayscaleMode', /grayscale.*Image > Mode > RGB Color/],
  ];
  test.each(modes)('%s', async (_name, mode, words) => {
    const doc = p.sim.openPhoto(collins, { mode });
    await expectRefused(p, doc, 'BAD_MODE', words);
  });

  test.each([[16], [32]])('a %i-bit document', async (bits) => {
    const doc = p.sim.openPhoto(collins, { bitsPerChannel: bits });
    await expectRefused(p, doc, 'BAD_DEPTH', /Image > Mode > 8 Bits\/Channel/);
  });

  test('a photo without a face', async () => {
    const cat = await loadPhoto(photo('neg_cc0_chelsea_cat'));
    const doc = p.sim.openPhoto(cat);
    await expectRefused(p, doc, 'NO_FACE', /No face was found on the layer "Background"/);
  });

  test('a face smaller than the minimum', async () => {
    const small = await loadPhoto(photo('nasa_astronaut_collins'), { width: 160, height: 160 });
    const doc = p.sim.openPhoto(small);
    await expectRefused(p, doc, 'FACE_TOO_SMALL', /too small: \d+ pixels wide.*at least 40/);
  });

  test('a face number that was not found', async () => {
    const doc = p.sim.openPhoto(collins);
    await expectRefused(p, doc, 'BAD_OPTION', /Face 3 was asked for, but 1 face/, settings({ faces: 3 }));
  });
});

describe('action recording', () => {
  test('a recorded step replays the same options on the active layer, to the same result', async () => {
    const p = await openPanel();
    const { sim } = p;
    const s = settings({ strength: 0.8, upscale: false });

    // not recording: recordAction adds nothing
    await recordRun(sim, s);
    expect(sim.isRecording).toBe(false);

    const first = sim.openPhoto(collins, { title: 'first' });
    sim.startRecording('Feminise');
    await p.controller.run(s);
    expect(await recordRun(sim, s)).toBe(true);
    const action = sim.stopRecording();
    expect(action.steps).toEqual([{
      name: 'FaceShift male2female', methodName: PLAYBACK_METHOD,
      info: { 'faceshift.direction': 'male2female', 'faceshift.strength': 0.8, 'faceshift.faces': 'all', 'faceshift.upscale': false },
    }]);

    // play it on another document, the panel never shown: Photoshop calls globalThis.faceshiftPlayback
    const second = sim.openPhoto(collins, { title: 'second' });
    const sourceBefore = Buffer.from(bytes(second.layers[0].pixels));
    const historyBefore = second.history.length;
    // the plugin loads (Photoshop starts); the panel is never shown
    const setups: Record<string, Record<string, unknown>>[] = [];
    let shown = 0;
    registerPlugin({
      globals: globalThis, entrypoints: { setup: (o) => { setups.push(o as never); } },
      controller: () => p.controller, panel: { id: 'faceshift', show: () => { shown++; } },
    });
    expect(setups).toHaveLength(1);
    expect(Object.keys(setups[0].panels)).toEqual(['faceshift']);
    expect(typeof setups[0].plugin.create).toBe('function');
    try {
      await sim.playAction(action);
    } finally {
      delete (globalThis as Record<string, unknown>)[PLAYBACK_METHOD];
    }
    expect(shown).toBe(0);
    expect(second.layers.map((l) => l.name)).toEqual(['FaceShift male->female 80%', 'Background']);
    expect(second.history.length).toBe(historyBefore + 1);
    expect(bytes(second.layers[1].pixels).equals(sourceBefore)).toBe(true);
    expect(bytes(second.layers[0].pixels).equals(bytes(first.layers[0].pixels))).toBe(true);
    expect(bytes(second.layers[0].mask).equals(bytes(first.layers[0].mask))).toBe(true);
    // the first document was not touched by the replay
    expect(first.layers).toHaveLength(2);
  });

  test('a step recorded before the keys had their prefix still plays', async () => {
    const p = await openPanel();
    const doc = p.sim.openPhoto(collins);
    const globals: Record<string, unknown> = {};
    installPlayback(globals, () => p.controller);
    await p.sim.playAction({ name: 'old', steps: [{ name: 'FaceShift male2female', methodName: PLAYBACK_METHOD, info: { direction: 'male2female', strength: 0.5, faces: 'all', upscale: false } }] }, globals);
    expect(doc.layers.map((l) => l.name)).toEqual(['FaceShift male->female 50%', 'Background']);
  });

  test('a replay that cannot run stops the action with the reason, and changes nothing', async () => {
    const p = await openPanel();
    const doc = p.sim.openPhoto(collins, { mode: 'CMYKColorMode' });
    const before = p.sim.fingerprint(doc.id);
    const globals: Record<string, unknown> = {};
    installPlayback(globals, () => p.controller);
    const action = { name: 'x', steps: [{ name: 'FaceShift male2female', methodName: PLAYBACK_METHOD, info: { direction: 'male2female', strength: 1, faces: 'all', upscale: true } }] };
    await expect(p.sim.playAction(action, globals)).rejects.toThrow(/CMYK/);
    expect(p.sim.fingerprint(doc.id)).toEqual(before);
    // an action whose handler is gone fails as Photoshop reports it
    await expect(p.sim.playAction(action, {})).rejects.toThrow('Script action failed.');
  });
});

describe('what UXP does not offer, and what Photoshop does after a run', () => {
  test('cancel works with a signal that has only `aborted` (UXP\'s AbortSignal has no events)', async () => {
    const p = await openPanel();
    const doc = p.sim.openPhoto(collins);
    const before = p.sim.fingerprint(doc.id);
    const signal = { aborted: false }; // no addEventListener, no onabort
    const err = await p.controller.run(settings(), {
      signal, onProgress: (x) => { if (x.stage === 'transform') signal.aborted = true; },
    }).catch((e: unknown) => e);
    expect((err as PhotoshopError).code).toBe('CANCELLED');
    expect(p.sim.fingerprint(doc.id)).toEqual(before);
    const transform = p.webview.log.requests.find((m) => m.type === 'transform');
    const cancel = p.webview.log.requests.find((m) => m.type === 'cancel');
    expect(cancel && cancel.type === 'cancel' && cancel.target).toBe(transform!.id);
  });

  test('the panel\'s own token cancels at once', async () => {
    const p = await openPanel();
    p.sim.openPhoto(collins);
    const token = new CancelToken();
    const err = await p.controller.run(settings(), { signal: token, onProgress: (x) => { if (x.stage === 'detect') token.cancel(); } }).catch((e: unknown) => e);
    expect((err as PhotoshopError).code).toBe('CANCELLED');
    expect(p.sim.writeScopes).toBe(0);
  });

  test('a second run with the new (selected) layer works on the photo below it, and adds its layer on top', async () => {
    const p = await openPanel();
    const { sim } = p;
    const doc = sim.openPhoto(collins);
    const photoLayer = doc.layers[0];
    const first = await p.controller.run(settings({ upscale: false }));
    // Photoshop selects the new layer
    expect(doc.active).toEqual([first.layer.id]);
    expect(doneMessage(first)).toMatch(/added the layer "FaceShift male->female 100%" \(1 face\) above "Background"\. The new layer is now the selected layer/);

    const second = await p.controller.run(settings({ strength: 0.5, upscale: false }));
    expect(second.source.id).toBe(photoLayer.id);
    expect(doc.layers.map((l) => l.name)).toEqual(['FaceShift male->female 50%', 'FaceShift male->female 100%', 'Background']);
    expect(doc.active).toEqual([second.layer.id]);
    expect(doneMessage(second)).toMatch(/added the layer "FaceShift male->female 50%" \(1 face\) above "FaceShift male->female 100%" \(FaceShift read the layer "Background" below it\)/);
    // the photo was read both times, never a FaceShift layer
    expect(new Set(sim.reads.map((r) => r.layerID))).toEqual(new Set([photoLayer.id]));
    // a FaceShift layer the user renamed is still recognised (this panel made it)
    sim.layerById(doc.id, second.layer.id).name = 'my try';
    const third = await p.controller.run(settings({ upscale: false }));
    expect(third.source.id).toBe(photoLayer.id);
  });

  test('a FaceShift layer with no photo below it is refused, saying why', async () => {
    const p = await openPanel();
    const doc = p.sim.newDocument(64, 64);
    p.sim.addLayer(doc.id, { name: 'Title', kind: 'text' });
    p.sim.addLayer(doc.id, { name: 'FaceShift male->female 80%', image: { width: 8, height: 8, data: new Uint8ClampedArray(256).fill(255) } });
    await expectRefused(p, doc, 'BAD_LAYER', /"FaceShift male->female 80%" was made by FaceShift, so FaceShift works on the layer below it\. The layer "Title" is a text layer/);
    const lone = p.sim.newDocument(64, 64);
    p.sim.addLayer(lone.id, { name: 'FaceShift white->black 100% copy', image: { width: 8, height: 8, data: new Uint8ClampedArray(256).fill(255) } });
    await expectRefused(p, lone, 'NO_LAYER', /was made by FaceShift, and there is no photo layer below it/);
  });
});

describe('live preview', () => {
  test('one face before and after, small; changes with the strength; the document is not touched', async () => {
    const p = await openPanel();
    const { sim } = p;
    const big = await loadPhoto(photo('wh_obama_official_2012'), { width: 1365, height: 1706 });
    const doc = sim.openPhoto(big);
    const before = sim.fingerprint(doc.id);

    const t0 = Date.now();
    const a = await p.controller.preview(settings({ strength: 1 }));
    const firstMs = Date.now() - t0;
    expect(a.faceNumber).toBe(1);
    expect(Math.max(a.before.width, a.before.height)).toBeLessThanOrEqual(192);
    expect([a.after.width, a.after.height]).toEqual([a.before.width, a.before.height]);
    const diff = (x: Uint8ClampedArray, y: Uint8ClampedArray) => { let d = 0; for (let i = 0; i < x.length; i++) d += Math.abs(x[i] - y[i]); return d / x.length; };
    expect(diff(a.before.data, a.after.data)).toBeGreaterThan(0.5);
    // the view read was small: a scaled copy of the face's surroundings, inside a modal scope
    const last = sim.reads[sim.reads.length - 1];
    expect(last.width * last.height).toBeLessThanOrEqual(192 * 192);

    // a strength change reads nothing and runs one preview (no detection, no upscaler)
    const reads = sim.reads.length;
    const sent = p.webview.log.requests.length;
    const t1 = Date.now();
    const b = await p.controller.preview(settings({ strength: 0.4 }), { detection: a.detection, view: a.view });
    const updateMs = Date.now() - t1;
    expect(sim.reads.length).toBe(reads);
    expect(p.webview.log.requests.slice(sent).map((m) => m.type)).toEqual(['regions', 'preview']);
    expect(diff(b.after.data, a.after.data)).toBeGreaterThan(0.5);
    expect(diff(b.before.data, b.after.data)).toBeLessThan(diff(a.before.data, a.after.data));
    console.log(`preview (native, one thread): first ${firstMs} ms with detection, update ${updateMs} ms`);

    // strength 0 shows the face as it is
    const c = await p.controller.preview(settings({ strength: 0 }), { detection: a.detection, view: a.view });
    expect(diff(c.before.data, c.after.data)).toBeLessThan(0.5);

    expect(sim.fingerprint(doc.id)).toEqual(before);
    expect(sim.writeScopes).toBe(0);
  });

  test('with several faces it shows the chosen one', async () => {
    const p = await openPanel();
    p.sim.openPhoto(await loadPhoto(photo('wh_biden_obama_greenroom')));
    const detection = await p.controller.findFaces();
    const second = await p.controller.preview(settings({ faces: 2 }), { detection });
    expect(second.faceNumber).toBe(2);
    const first = await p.controller.preview(settings({ faces: 'all' }), { detection });
    expect(first.faceNumber).toBe(1);
    expect(first.view.plan.box.x).toBeLessThan(second.view.plan.box.x);
  });
});
