/** The simulator keeps Photoshop's documented rules, so passing against it means something. */
import { PhotoshopSimulator } from './simulator/photoshop';

function gradient(w: number, h: number) {
  const data = new Uint8ClampedArray(w * h * 4);
  for (let i = 0; i < w * h; i++) { data[i * 4] = i % 251; data[i * 4 + 1] = (i * 7) % 253; data[i * 4 + 2] = 9; data[i * 4 + 3] = 255; }
  return { width: w, height: h, data };
}
const px = (w: number, h: number, c = 4) => ({ width: w, height: h, components: c, data: new Uint8Array(w * h * c).fill(128) });

test('writes outside a modal scope throw; inside they work', async () => {
  const sim = new PhotoshopSimulator();
  const doc = sim.openPhoto(gradient(8, 8));
  const bg = doc.layers[0].id;
  await expect(sim.createPixelLayer({ documentID: doc.id, name: 'x', above: bg })).rejects.toThrow(/only allowed inside a modal scope/);
  await expect(sim.putPixels({ documentID: doc.id, layerID: bg, image: px(2, 2, 3), targetBounds: { left: 0, top: 0 } })).rejects.toThrow(/modal scope/);
  const made = await sim.executeAsModal(async () => sim.createPixelLayer({ documentID: doc.id, name: 'x', above: bg }), { commandName: 't' });
  expect(doc.layers.map((l) => l.id)).toEqual([made.id, bg]);
  expect(doc.history.map((h) => h.name)).toEqual(['Open', 'New Layer']);
});

test('another plugin being modal rejects with error number 9; the same plugin may nest scopes', async () => {
  const sim = new PhotoshopSimulator();
  sim.otherPluginModal = true;
  await expect(sim.executeAsModal(async () => 1, { commandName: 't' })).rejects.toMatchObject({ number: 9 });
  sim.otherPluginModal = false;
  const r = await sim.executeAsModal(async () => sim.executeAsModal(async () => 2, { commandName: 'inner' }), { commandName: 'outer' });
  expect(r).toBe(2);
  expect(sim.maxModalDepth).toBe(2);
});

test('getPixels trims sourceBounds to the layer\'s pixels and scales to targetSize from a pyramid level', async () => {
  const sim = new PhotoshopSimulator();
  const doc = sim.newDocument(100, 80);
  const layer = sim.addLayer(doc.id, { name: 'p', image: gradient(40, 30), left: 10, top: 20 });
  await sim.executeAsModal(async () => {
    const a = await sim.getPixels({ documentID: doc.id, layerID: layer.id, sourceBounds: { left: 0, top: 0, right: 30, bottom: 30 } });
    expect(a.sourceBounds).toEqual({ left: 10, top: 20, right: 30, bottom: 30 });
    expect([a.width, a.height, a.components]).toEqual([20, 10, 4]);
    const b = await sim.getPixels({ documentID: doc.id, layerID: layer.id, targetSize: { width: 10 } });
    expect([b.width, b.height]).toEqual([10, 8]);
    expect(b.level).toBe(1);
    expect(b.sourceBounds).toEqual({ left: 5, top: 10, right: 25, bottom: 25 });
    // the Background layer has no alpha: three components
    const bgDoc = sim.openPhoto(gradient(6, 4));
    const c = await sim.getPixels({ documentID: bgDoc.id, layerID: bgDoc.layers[0].id });
    expect(c.components).toBe(3);
    expect(Array.from(c.data.slice(0, 6))).toEqual([0, 0, 9, 1, 7, 9]);
    await expect(sim.getPixels({ documentID: doc.id, layerID: layer.id, sourceBounds: { left: 60, top: 0, right: 70, bottom: 10 } })).rejects.toThrow(/no pixel data/);
  }, { commandName: 'read' });
});

test('getPixels outside a modal scope throws, and reads change nothing', async () => {
  const sim = new PhotoshopSimulator();
  const doc = sim.openPhoto(gradient(6, 4));
  const before = sim.fingerprint(doc.id);
  await expect(sim.getPixels({ documentID: doc.id, layerID: doc.layers[0].id })).rejects.toThrow(/only inside a modal scope/);
  await sim.executeAsModal(async () => sim.getPixels({ documentID: doc.id, layerID: doc.layers[0].id }), { commandName: 'read' });
  expect(sim.fingerprint(doc.id)).toEqual(before);
  expect(sim.writeScopes).toBe(0);
});

test('putPixels replaces the layer at targetBounds; putLayerMask takes one gray component', async () => {
  const sim = new PhotoshopSimulator();
  const doc = sim.openPhoto(gradient(8, 8));
  await sim.executeAsModal(async () => {
      const l = await sim.createPixelLayer({ documentID: doc.id, name: 'n', above: doc.layers[0].id });
      await sim.putPixels({ documentID: doc.id, layerID: l.id, image: px(2, 2), targetBounds: { left: 3, top: 4 } });
      expect(sim.layer(doc.id, l.id)!.bounds).toEqual({ left: 3, top: 4, right: 5, bottom: 6 });
      await expect(sim.putLayerMask({ documentID: doc.id, layerID: l.id, mask: px(2, 2, 4), targetBounds: { left: 3, top: 4 } })).rejects.toThrow(/single grayscale component/);
      await sim.putLayerMask({ documentID: doc.id, layerID: l.id, mask: { width: 2, height: 1, components: 1, data: new Uint8Array([0, 77]) }, targetBounds: { left: 3, top: 4 } });
      const mask = sim.layerById(doc.id, l.id).mask!;
      expect([mask[4 * 8 + 3], mask[4 * 8 + 4], mask[0]]).toEqual([0, 77, 255]);
    }, { commandName: 't' });
  });

  test('suspendHistory makes one state; resume(false) and a throwing scope roll back; no change, no state', async () => {
    const sim = new PhotoshopSimulator();
    const doc = sim.openPhoto(gradient(8, 8));
    const bg = doc.layers[0].id;
    const make = () => sim.createPixelLayer({ documentID: doc.id, name: 'n', above: bg });

    await sim.executeAsModal(async (ctx) => {
      const s = await ctx.hostControl.suspendHistory({ documentID: doc.id, name: 'Two layers' });
      await make(); await make();
      await ctx.hostControl.resumeHistory(s, true);
    }, { commandName: 't' });
    expect(doc.history.map((h) => h.name)).toEqual(['Open', 'Two layers']);
    expect(doc.layers).toHaveLength(3);

    const before = sim.fingerprint(doc.id);
    await sim.executeAsModal(async (ctx) => {
      const s = await ctx.hostControl.suspendHistory({ documentID: doc.id, name: 'x' });
      await make();
      await ctx.hostControl.resumeHistory(s, false);
    }, { commandName: 't' });
    expect(sim.fingerprint(doc.id)).toEqual(before);

    await expect(sim.executeAsModal(async (ctx) => {
      await ctx.hostControl.suspendHistory({ documentID: doc.id, name: 'x' });
      await make();
      throw new Error('boom');
    }, { commandName: 't' })).rejects.toThrow('boom');
    expect(sim.fingerprint(doc.id)).toEqual(before);

    await sim.executeAsModal(async (ctx) => {
      await ctx.hostControl.resumeHistory(await ctx.hostControl.suspendHistory({ documentID: doc.id, name: 'nothing' }), true);
    }, { commandName: 't' });
    expect(sim.fingerprint(doc.id)).toEqual(before);
  });

  test('after the user cancels a modal scope, changes throw', async () => {
    const sim = new PhotoshopSimulator();
    const doc = sim.openPhoto(gradient(8, 8));
    sim.cancelAfterChanges = 1;
    let cancelled = false;
    await expect(sim.executeAsModal(async (ctx) => {
      ctx.onCancel = () => { cancelled = true; };
      await sim.createPixelLayer({ documentID: doc.id, name: 'a', above: doc.layers[0].id });
      await sim.createPixelLayer({ documentID: doc.id, name: 'b', above: doc.layers[0].id });
    }, { commandName: 't' })).rejects.toThrow(/cancelled/);
    expect(cancelled).toBe(true);
  });

  test('recordAction records only while recording; playback calls the global handler with the info', async () => {
    const sim = new PhotoshopSimulator();
    await sim.recordAction({ name: 'a', methodName: 'h' }, { x: 1 });
    await expect(sim.recordAction({ name: 'a', methodName: 'h' }, undefined as never)).rejects.toThrow('Argument 2 is missing');
    sim.startRecording('act');
    await sim.recordAction({ name: 'Step', methodName: 'h' }, { x: 2 });
    const action = sim.stopRecording();
    expect(action.steps).toEqual([{ name: 'Step', methodName: 'h', info: { x: 2 } }]);
    const calls: unknown[] = [];
    await sim.playAction(action, { h: async (ctx: { isCancelled: boolean }, info: unknown) => { calls.push([ctx.isCancelled, info]); } });
    expect(calls).toEqual([[false, { x: 2 }]]);
    await expect(sim.playAction(action, {})).rejects.toThrow('Script action failed.');
  });
