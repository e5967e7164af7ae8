/** The panel's engine client over the webview bridge, against a scripted page (no engine). */
import type { Reply, Request } from '../../src/engine/protocol';
import { FaceShiftError } from '../../src/core/errors';
import { MessageEngineClient, parseReply, webviewTransport } from '../../src/hosts/photoshop/webview-client';
import { Listeners } from './simulator/webview';
import { CancelToken } from '../../src/hosts/photoshop/cancel';

class ScriptedWebview extends Listeners {
  sent: Request[] = [];
  postMessage(message: unknown): void { this.sent.push(JSON.parse(JSON.stringify(message)) as Request); }
  last(type: Request['type']): Request { return [...this.sent].reverse().find((m) => m.type === type)!; }
}

function setup(opts: ConstructorParameters<typeof MessageEngineClient>[1] = {}) {
  const webview = new ScriptedWebview();
  const win = new Listeners();
  const client = new MessageEngineClient(webviewTransport(webview, win), opts);
  /** the page answers (on window, as UXP documents) */
  const reply = (r: Reply, asString = false) => win.emit({ data: asString ? JSON.stringify(r) : JSON.parse(JSON.stringify(r)) });
  return { webview, win, client, reply };
}

const tick = () => new Promise((r) => setImmediate(r));
const DIRECTIONS = [{ direction: 'male2female', label: 'Male → Female', source: 'male', target: 'female' }];
const ready = (id: string): Reply => ({ type: 'ready', id, runtime: 'onnxruntime-web', backend: 'webgpu', directions: DIRECTIONS, minFaceSize: 40, previewSide: 192 });

test('init is repeated until the page answers, then resolves with what the engine offers', async () => {
  const { webview, client, reply } = setup({ initRetryMs: 10 });
  const info = client.init();
  // the page is still loading: nobody answers the first few
  while (webview.sent.filter((m) => m.type === 'init').length < 3) await new Promise((r) => setTimeout(r, 5));
  const inits = webview.sent.filter((m) => m.type === 'init');
  expect(new Set(inits.map((m) => m.id)).size).toBe(1); // one request, said again
  reply(ready(inits[0].id));
  reply(ready(inits[0].id)); // the answers to the repeats are ignored
  await expect(info).resolves.toEqual({ runtime: 'onnxruntime-web', backend: 'webgpu', directions: DIRECTIONS, minFaceSize: 40, previewSide: 192 });
});

test('init gives up with a clear message when the page never answers', async () => {
  const { client } = setup({ initRetryMs: 5, initTimeoutMs: 30 });
  await expect(client.init()).rejects.toThrow(/did not start.*open the panel \(Plugins > FaceShift\)/);
});

test('progress arrives with its request; an error reply keeps the engine\'s code and words', async () => {
  const { webview, client, reply } = setup();
  const progress: string[] = [];
  const run = client.transform({ photo: { width: 10, height: 10 }, faces: [], regions: [], options: { direction: 'male2female' } },
    { onProgress: (p) => progress.push(`${p.stage}:${p.fraction}`) });
  const id = webview.last('transform').id;
  reply({ type: 'progress', id: 'someone-else', stage: 'align', fraction: 0.5 });
  reply({ type: 'progress', id, stage: 'transform', fraction: 0.25 }, true); // a JSON string is accepted too
  reply({ type: 'error', id, code: 'FACE_TOO_SMALL', message: 'Every selected face is smaller than 40 pixels.' });
  const err = await run.catch((e: unknown) => e);
  expect(err).toBeInstanceOf(FaceShiftError);
  expect((err as FaceShiftError).code).toBe('FACE_TOO_SMALL');
  expect(progress).toEqual(['transform:0.25']);
});

test('pixels travel base64 and come back as images; one event seen on two targets is handled once', async () => {
  const { webview, win, client, reply } = setup();
  const preview = { width: 2, height: 1, data: new Uint8ClampedArray([1, 2, 3, 255, 4, 5, 6, 255]) };
  let progressCalls = 0;
  const found = client.detect({ width: 4, height: 2 }, preview, { onProgress: () => { progressCalls++; } });
  const req = webview.last('detect');
  const progress = { data: { type: 'progress', id: req.id, stage: 'detect', fraction: 0.5 } };
  webview.emit(progress);
  win.emit(progress); // the same event bubbling to window
  expect(progressCalls).toBe(1);
  expect(req.type === 'detect' && req.preview).toEqual({ width: 2, height: 1, channels: 4, data: 'AQID/wQFBv8=' });
  const face = { score: 0.9, box: { x: 0, y: 0, width: 2, height: 2 }, keypoints: [] };
  const event = { data: { type: 'faces', id: req.id, faces: [face] } };
  webview.emit(event);
  await expect(found).resolves.toEqual([face]);

  const t = client.transform({ photo: { width: 4, height: 2 }, faces: [face], regions: [{ box: { x: 0, y: 0, width: 2, height: 1 }, image: preview }], options: { direction: 'male2female' } });
  const tr = webview.last('transform');
  expect(tr.type === 'transform' && tr.regions[0].image.data).toBe('AQID/wQFBv8=');
  reply({
    type: 'result', id: tr.id, model: 'm', upscaler: null, timings: {},
    patches: [{ box: { x: 0, y: 0, width: 2, height: 1 }, face, rgba: { width: 2, height: 1, channels: 4, data: 'AQID/wQFBv8=' }, mask: { width: 2, height: 1, channels: 1, data: 'AP8=' } }],
  });
  const r = await t;
  expect(Array.from(r.patches[0].rgba.data)).toEqual([1, 2, 3, 255, 4, 5, 6, 255]);
  expect(Array.from(r.patches[0].mask.data)).toEqual([0, 255]);
});

test('the panel\'s cancel token sends cancel for the running request and rejects at once; the late answer is ignored', async () => {
  const { webview, client, reply } = setup();
  const token = new CancelToken();
  const run = client.regions({ width: 4, height: 4 }, [], 'male2female', { signal: token });
  const id = webview.last('regions').id;
  token.cancel();
  await expect(run).rejects.toMatchObject({ code: 'CANCELLED', message: 'Cancelled. Nothing was changed.' });
  const cancel = webview.last('cancel');
  expect(cancel.type === 'cancel' && cancel.target).toBe(id);
  reply({ type: 'regions', id, boxes: [] });
  await tick();
  // already cancelled: nothing is sent
  await expect(client.regions({ width: 1, height: 1 }, [], 'male2female', { signal: token })).rejects.toMatchObject({ code: 'CANCELLED' });
  expect(webview.sent.filter((m) => m.type === 'regions')).toHaveLength(1);
});

test('a UXP-like AbortSignal (only `aborted`, no events) still cancels: it is polled', async () => {
  const { webview, client } = setup();
  const signal = { aborted: false, reason: undefined, throwIfAborted() { /* UXP documents only these */ } };
  const run = client.regions({ width: 4, height: 4 }, [], 'male2female', { signal });
  const id = webview.last('regions').id;
  signal.aborted = true;
  await expect(run).rejects.toMatchObject({ code: 'CANCELLED' });
  const cancel = webview.last('cancel');
  expect(cancel.type === 'cancel' && cancel.target).toBe(id);
});

test('an answered request stops polling its signal', async () => {
  const { webview, client, reply } = setup();
  const signal = { aborted: false };
  const run = client.regions({ width: 4, height: 4 }, [], 'male2female', { signal });
  reply({ type: 'regions', id: webview.last('regions').id, boxes: [] });
  await expect(run).resolves.toEqual([]);
  signal.aborted = true;
  await new Promise((r) => setTimeout(r, 250));
  expect(webview.sent.filter((m) => m.type === 'cancel')).toHaveLength(0);
});

test('a reply of the wrong kind is an error, not a crash; dispose fails what is waiting', async () => {
  const { webview, win, client, reply } = setup();
  const a = client.regions({ width: 4, height: 4 }, [], 'male2female');
  reply({ type: 'faces', id: webview.last('regions').id, faces: [] });
  await expect(a).rejects.toThrow(/answered "faces" to a request that expects "regions"/);
  const b = client.regions({ width: 4, height: 4 }, [], 'male2female');
  client.dispose();
  await expect(b).rejects.toMatchObject({ code: 'CANCELLED' });
  expect(webview.count + win.count).toBe(0);
});

test('parseReply accepts objects and JSON strings, and nothing else', () => {
  expect(parseReply({ type: 'faces', id: 'a', faces: [] })).toEqual({ type: 'faces', id: 'a', faces: [] });
  expect(parseReply('{"type":"regions","id":"b","boxes":[]}')).toEqual({ type: 'regions', id: 'b', boxes: [] });
  expect(parseReply('not json')).toBeNull();
  expect(parseReply({ hello: 1 })).toBeNull();
  expect(parseReply(null)).toBeNull();
});
