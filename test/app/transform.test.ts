/**
 * The use case every host runs (src/app/transform.ts), in process with the real engine and an
 * in-memory sink: face choice, minimum size and skip reasons (once the engine's), layer names,
 * one rising progress value, cancellation, and the messages with a host's own words.
 */
import { createNodeEngine } from '../../src/platform/node';
import type { FaceEngine } from '../../src/engine/engine';
import { localEngine, EnginePort } from '../../src/app/engine-port';
import { HostWords, PHOTO_WORDS } from '../../src/app/messages';
import {
  FaceShiftSettings, LayerSink, RunProgress, directionWords, isFaceShiftLayerName, keepLayer, layerName, transformDocument, findFaces,
} from '../../src/app/transform';
import { previewFace } from '../../src/app/preview';
import type { FaceLayer } from '../../src/core/layer';
import { faceSize } from '../../src/core/faces';
import type { RGBAImage } from '../../src/core/image';
import { MemoryPhotoSource, decodePhoto } from '../../src/cli/photo';
import { photo } from '../helpers/photos';

let engine: FaceEngine;
let port: EnginePort;
beforeAll(async () => { engine = await createNodeEngine({ threads: 1 }); port = localEngine(engine, 'native'); });
afterAll(async () => { await engine.dispose(); });

const images = new Map<string, RGBAImage>();
async function load(id: string): Promise<RGBAImage> {
  if (!images.has(id)) images.set(id, (await decodePhoto(photo(id))).image);
  return images.get(id)!;
}

const settings = (over: Partial<FaceShiftSettings> = {}): FaceShiftSettings => ({ direction: 'male2female', strength: 1, faces: 'all', upscale: false, ...over });

async function run(id: string, s: FaceShiftSettings, opts: { words?: HostWords; sink?: LayerSink<FaceLayer>; onProgress?: (p: RunProgress) => void; signal?: AbortSignal } = {}) {
  const image = await load(id);
  return transformDocument({ engine: port, open: async () => ({ source: new MemoryPhotoSource(image) }), words: opts.words, sink: opts.sink ?? keepLayer },
    s, { onProgress: opts.onProgress, signal: opts.signal });
}

const WORDS: HostWords = { where: 'in the test photo', noFace: 'try another.', chooseFace: 'Pick again.', enlarge: 'Bigger, please.' };

describe('which faces (moved here from the engine)', () => {
  test('all, the largest, face n; a face number the photo lacks says so with the host\'s words', async () => {
    const all = await run('wh_biden_obama_greenroom', settings());
    expect(all.detected).toHaveLength(2);
    expect(all.transformed).toHaveLength(2);
    const largest = await run('wh_biden_obama_greenroom', settings({ faces: 'largest' }));
    expect(largest.transformed).toHaveLength(1);
    const second = await run('wh_biden_obama_greenroom', settings({ faces: 2 }));
    expect(second.transformed).toEqual([second.detected[1]]);
    await expect(run('wh_biden_obama_greenroom', settings({ faces: 5 }), { words: WORDS }))
      .rejects.toMatchObject({ code: 'NO_SUCH_FACE', message: 'Face 5 was asked for, but 2 face(s) were found. Pick again.' });
  });

  test('faces below the minimum are skipped with a reason; when every chosen face is, FACE_TOO_SMALL', async () => {
    const all = await run('wh_biden_obama_greenroom', settings());
    const sizes = all.detected.map(faceSize).sort((a, b) => a - b);
    const between = Math.round((sizes[0] + sizes[1]) / 2);
    const some = await run('wh_biden_obama_greenroom', settings({ minFaceSize: between }));
    expect(some.transformed).toHaveLength(1);
    expect(some.skipped).toHaveLength(1);
    expect(some.skipped[0].reason).toBe(`face is ${Math.round(sizes[0])} px wide, below the ${between} px minimum`);
    await expect(run('wh_obama_official_240p', settings({ minFaceSize: 100 }), { words: WORDS }))
      .rejects.toMatchObject({ code: 'FACE_TOO_SMALL', message: expect.stringMatching(/^The face is too small: \d+ pixels wide, and FaceShift needs at least 100\. Bigger, please\.$/) });
  });

  test('no face: NO_FACE, promising no smaller face than detection finds; an unknown direction: BAD_OPTION before any pixel is read', async () => {
    await expect(run('neg_cc0_chelsea_cat', settings(), { words: WORDS }))
      .rejects.toMatchObject({ code: 'NO_FACE', message: expect.stringMatching(/^No face was found in the test photo\. Faces at least about \d+ pixels wide are found in a photo this size: try another\.$/) });
    let read = 0;
    const image = await load('nasa_astronaut_collins');
    const source = new MemoryPhotoSource(image);
    const counting = { width: source.width, height: source.height, readPreview: (n: number) => { read++; return source.readPreview(n); }, readRegion: source.readRegion.bind(source) };
    await expect(transformDocument({ engine: port, open: async () => ({ source: counting }), sink: keepLayer }, settings({ direction: 'cat2dog' })))
      .rejects.toMatchObject({ code: 'BAD_OPTION', message: expect.stringMatching(/No model for direction "cat2dog"\. Available directions: .*male2female/) });
    expect(read).toBe(0);
  });

  test('settings a host or a recorded action passes are checked first', async () => {
    for (const [bad, words] of [
      [{ direction: '' }, /Choose a direction/], [{ strength: 1.6 }, /between 0 and 1\.5/], [{ faces: 0 }, /Faces must be/], [{ upscale: 'yes' }, /Upscale must be on or off/],
    ] as const) {
      await expect(run('nasa_astronaut_collins', { ...settings(), ...bad } as unknown as FaceShiftSettings)).rejects.toMatchObject({ code: 'BAD_OPTION', message: expect.stringMatching(words) });
    }
  });
});

describe('one run', () => {
  test('progress is one rising value from read to write; the layer is named; the sink gets it once', async () => {
    const seen: RunProgress[] = [];
    const written: { layer: FaceLayer; name: string }[] = [];
    const r = await run('nasa_astronaut_collins', settings({ upscale: true, direction: 'female2male' }), {
      onProgress: (p) => seen.push(p),
      sink: { write: async (layer, name) => { written.push({ layer, name }); return layer; } },
    });
    expect(written).toHaveLength(1);
    expect(written[0].name).toBe('FaceShift female->male');
    expect(r.name).toBe('FaceShift female->male');
    const fractions = seen.map((p) => p.fraction);
    for (let i = 1; i < fractions.length; i++) expect(fractions[i]).toBeGreaterThanOrEqual(fractions[i - 1]);
    expect(fractions[0]).toBe(0);
    expect(fractions[fractions.length - 1]).toBe(1);
    const order = [...new Set(seen.map((p) => p.stage))];
    expect(order).toEqual(['read', 'detect', 'align', 'transform', 'upscale', 'paste', 'write']);
    expect(seen.find((p) => p.stage === 'transform')).toMatchObject({ face: 1, faces: 1 });
    for (const k of ['detect', 'align', 'transform', 'upscale', 'paste'] as const) expect(r.timings[k]).toBeGreaterThan(0);
  });

  test('cancel during the nets: CANCELLED, and the sink is never called', async () => {
    const ctl = new AbortController();
    let writes = 0;
    const err = await run('nasa_astronaut_collins', settings(), {
      signal: ctl.signal, onProgress: (p) => { if (p.stage === 'transform') ctl.abort(); },
      sink: { write: async (layer) => { writes++; return layer; } },
    }).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'CANCELLED', message: 'Cancelled. Nothing was changed.' });
    expect(writes).toBe(0);
  });

  test('faces found earlier for the same pixels are not looked for again', async () => {
    const image = await load('nasa_astronaut_collins');
    const found = await findFaces({ engine: port, open: async () => ({ source: new MemoryPhotoSource(image) }) });
    let detects = 0;
    const counting: EnginePort = { ...port, detect: (...a) => { detects++; return port.detect(...a); } };
    const r = await transformDocument({ engine: counting, open: async () => ({ source: new MemoryPhotoSource(image), faces: found.faces }), sink: keepLayer }, settings());
    expect(detects).toBe(0);
    expect(r.detected).toBe(found.faces);
    expect(r.timings.detect).toBe(0);
  });

  test('the live preview: the chosen face, small, before and after; a kept view is read no more', async () => {
    const image = await load('wh_biden_obama_greenroom');
    let regionReads = 0;
    const source = new MemoryPhotoSource(image);
    const open = async () => ({ source: { width: image.width, height: image.height, readPreview: source.readPreview.bind(source), readRegion: (b: Parameters<typeof source.readRegion>[0]) => { regionReads++; return source.readRegion(b); } } });
    const second = await previewFace({ engine: port, open }, { direction: 'male2female', strength: 1, faces: 2 });
    expect(second.faceNumber).toBe(2);
    expect(second.faces).toBe(2);
    expect(Math.max(second.before.width, second.before.height)).toBeLessThanOrEqual(engine.config.previewSide);
    expect([second.after.width, second.after.height]).toEqual([second.before.width, second.before.height]);
    const reads = regionReads;
    const again = await previewFace({ engine: port, open: async () => ({ ...(await open()), faces: second.detected }) },
      { direction: 'male2female', strength: 0.5, faces: 2 }, { reuseView: () => second.view });
    expect(regionReads).toBe(reads);
    expect(again.before).toBe(second.before);
  });
});

describe('names', () => {
  test('one layer name for every host; the Photoshop panel adds the strength and knows its own layers by it', () => {
    const d = { source: 'male', target: 'female' };
    expect(layerName(d)).toBe('FaceShift male->female');
    expect(layerName(d, 0.8)).toBe('FaceShift male->female 80%');
    expect(isFaceShiftLayerName('FaceShift male->female 80%')).toBe(true);
    expect(isFaceShiftLayerName('FaceShift male->female 80% copy 2')).toBe(true);
    expect(isFaceShiftLayerName('FaceShift male->female')).toBe(false);
    expect(directionWords(engine.info('native'), 'white2asian')).toBe('white->asian');
    expect(PHOTO_WORDS.where).toBe('in the photo');
  });
});
