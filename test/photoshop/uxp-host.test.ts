/** uxp-host.ts calls the Photoshop API the way Adobe documents it (a recording stand-in for require('photoshop')). */
import { UxpPhotoshopHost } from '../../src/hosts/photoshop/uxp-host';

function fakePhotoshop() {
  const calls: { fn: string; args: unknown[] }[] = [];
  const log = (fn: string, ...args: unknown[]) => { calls.push({ fn, args }); };
  const bounds = (l: number, t: number, r: number, b: number) => ({ left: l, top: t, right: r, bottom: b });
  const inner = { id: 12, name: 'Face', kind: 'pixel', visible: true, allLocked: false, pixelsLocked: false, isBackgroundLayer: false, boundsNoEffects: bounds(1.5, 2, 30, 40.2) };
  const photoBelow = { id: 13, name: 'Photo', kind: 'pixel', visible: true, allLocked: false, pixelsLocked: false, isBackgroundLayer: false, boundsNoEffects: bounds(0, 0, 30, 40) };
  const group = { id: 11, name: 'Group 1', kind: 'group', visible: true, allLocked: false, pixelsLocked: false, isBackgroundLayer: false, boundsNoEffects: bounds(0, 0, 30, 40), layers: [inner, photoBelow], parent: null };
  Object.assign(inner, { parent: group });
  Object.assign(photoBelow, { parent: group });
  const created = {
    id: 99, name: 'FaceShift male->female', kind: 'pixel', visible: true, allLocked: false, pixelsLocked: false, isBackgroundLayer: false, boundsNoEffects: bounds(0, 0, 0, 0),
    move: (rel: unknown, where: unknown) => log('move', (rel as { id: number }).id, where),
    delete: () => log('delete', 99),
  };
  const doc = {
    id: 5, title: 'a.psd', width: 640, height: 480, mode: 'RGBColorMode', bitsPerChannel: 'bitDepth8',
    layers: [group], activeLayers: [inner],
    createPixelLayer: async (o: unknown) => { log('createPixelLayer', o); group.layers.unshift(created as never); return created; },
  };
  const imageData = (o: Record<string, unknown>) => ({ ...o, dispose: () => log('dispose') });
  const ps = {
    app: { documents: Object.assign([doc], {}), activeDocument: doc },
    constants: { ElementPlacement: { PLACEBEFORE: 'placeBefore' } },
    imaging: {
      getPixels: async (o: Record<string, unknown>) => {
        // Photoshop's API takes a key sent as undefined for a value of the wrong type
        const bad = Object.entries(o).find(([, v]) => v === undefined || (v && typeof v === 'object' && Object.values(v).includes(undefined)));
        if (bad) throw new Error(`Unsupported napi type (${bad[0]})`);
        log('getPixels', o);
        return { imageData: { width: 2, height: 1, components: 3, componentSize: 8, getData: async () => new Uint8Array([1, 2, 3, 4, 5, 6]), dispose: () => log('dispose') }, sourceBounds: bounds(3, 4, 5, 5), level: 0 };
      },
      createImageDataFromBuffer: async (data: Uint8Array, o: Record<string, unknown>) => { log('createImageDataFromBuffer', data.constructor.name, o); return imageData(o); },
      putPixels: async (o: unknown) => log('putPixels', o),
      putLayerMask: async (o: unknown) => log('putLayerMask', o),
    },
    core: { executeAsModal: async (fn: (ctx: unknown) => Promise<unknown>, o: unknown) => { log('executeAsModal', o); return fn({ isCancelled: false, hostControl: {}, reportProgress: () => undefined }); } },
    action: {} as Record<string, unknown>,
  };
  return { ps, calls, doc };
}

test('document and layers as FaceShift sees them (layers inside groups too)', () => {
  const { ps } = fakePhotoshop();
  const host = new UxpPhotoshopHost(ps as never);
  // the layer below, within its group (Layer.parent), or none
  expect(host.layerBelow(5, 12)?.name).toBe('Photo');
  expect(host.layerBelow(5, 13)).toBeNull();
  expect(host.layerBelow(5, 11)).toBeNull();
  expect(host.activeDocument()).toEqual({ id: 5, title: 'a.psd', width: 640, height: 480, mode: 'RGBColorMode', bitsPerChannel: 8 });
  expect(host.activeLayers(5)).toEqual([{ id: 12, name: 'Face', kind: 'pixel', visible: true, allLocked: false, pixelsLocked: false, isBackground: false, bounds: { left: 1, top: 2, right: 30, bottom: 41 } }]);
  expect(host.layer(5, 12)?.name).toBe('Face');
  expect(host.layer(5, 404)).toBeNull();
});

test('getPixels asks for 8-bit chunky data and disposes it', async () => {
  const { ps, calls } = fakePhotoshop();
  const host = new UxpPhotoshopHost(ps as never);
  const r = await host.getPixels({ documentID: 5, layerID: 12, sourceBounds: { left: 3, top: 4, right: 5, bottom: 5 } });
  // optional keys are left out, never sent as undefined
  expect(calls[0]).toEqual({ fn: 'getPixels', args: [{ documentID: 5, layerID: 12, sourceBounds: { left: 3, top: 4, right: 5, bottom: 5 }, componentSize: 8 }] });
  expect(Object.keys(calls[0].args[0] as object)).not.toContain('targetSize');
  await host.getPixels({ documentID: 5, layerID: 12, targetSize: { width: 100, height: undefined } });
  expect(calls.filter((c) => c.fn === 'getPixels')[1].args[0]).toEqual({ documentID: 5, layerID: 12, targetSize: { width: 100 }, componentSize: 8 });
  expect(r).toMatchObject({ width: 2, height: 1, components: 3, sourceBounds: { left: 3, top: 4, right: 5, bottom: 5 }, level: 0 });
  expect(calls.map((c) => c.fn)).toContain('dispose');
});

test('the new layer is moved directly above the source; pixels RGB, mask one gray channel, both at their place', async () => {
  const { ps, calls } = fakePhotoshop();
  const host = new UxpPhotoshopHost(ps as never);
  const made = await host.createPixelLayer({ documentID: 5, name: 'FaceShift male->female', above: 12 });
  expect(made.id).toBe(99);
  expect(calls.slice(0, 2)).toEqual([
    { fn: 'createPixelLayer', args: [{ name: 'FaceShift male->female' }] },
    { fn: 'move', args: [12, 'placeBefore'] },
  ]);
  calls.length = 0;
  await host.putPixels({ documentID: 5, layerID: 99, image: { width: 2, height: 1, components: 4, data: new Uint8ClampedArray(8) }, targetBounds: { left: 7, top: 8 }, commandName: 'n' });
  await host.putLayerMask({ documentID: 5, layerID: 99, mask: { width: 1, height: 1, components: 1, data: new Uint8Array(1) }, targetBounds: { left: 0, top: 0 } });
  const maskCall = calls.find((c) => c.fn === 'putLayerMask')!.args[0] as object;
  expect(Object.keys(maskCall)).not.toContain('commandName'); // none given: the key is left out
  calls.splice(3);
  expect(calls[0]).toEqual({ fn: 'createImageDataFromBuffer', args: ['Uint8Array', { width: 2, height: 1, components: 4, chunky: true, colorSpace: 'RGB' }] });
  expect(calls[1].fn).toBe('putPixels');
  expect(calls[1].args[0]).toMatchObject({ documentID: 5, layerID: 99, replace: true, targetBounds: { left: 7, top: 8 }, commandName: 'n' });
  expect(calls[2].fn).toBe('dispose');
  calls.length = 0;
  await host.putLayerMask({ documentID: 5, layerID: 99, mask: { width: 2, height: 1, components: 1, data: new Uint8ClampedArray(2) }, targetBounds: { left: 7, top: 8 } });
  expect(calls[0].args[1]).toEqual({ width: 2, height: 1, components: 1, chunky: false, colorSpace: 'Grayscale', colorProfile: 'Gray Gamma 2.2' });
  expect(calls[1].args[0]).toMatchObject({ layerID: 99, kind: 'user', replace: true, targetBounds: { left: 7, top: 8 } });
  await expect(host.putLayerMask({ documentID: 5, layerID: 99, mask: { width: 1, height: 1, components: 4, data: new Uint8Array(4) }, targetBounds: { left: 0, top: 0 } })).rejects.toThrow(/one grayscale component/);
  await host.deleteLayer({ documentID: 5, layerID: 99 });
  expect(calls.some((c) => c.fn === 'delete')).toBe(true);
});

test('executeAsModal passes the command name; recordAction is skipped on Photoshop versions without it', async () => {
  const { ps, calls } = fakePhotoshop();
  const host = new UxpPhotoshopHost(ps as never);
  expect(await host.executeAsModal(async (ctx) => ctx.isCancelled, { commandName: 'FaceShift' })).toBe(false);
  expect(calls[0]).toEqual({ fn: 'executeAsModal', args: [{ commandName: 'FaceShift' }] });
  await host.recordAction({ name: 'FaceShift male2female', methodName: 'faceshiftPlayback' }, { direction: 'male2female' });
  const recorded: unknown[] = [];
  ps.action.recordAction = async (o: unknown, info: unknown) => { recorded.push([o, info]); };
  await host.recordAction({ name: 'FaceShift male2female', methodName: 'faceshiftPlayback' }, { direction: 'male2female' });
  expect(recorded).toEqual([[{ name: 'FaceShift male2female', methodName: 'faceshiftPlayback' }, { direction: 'male2female' }]]);
});
