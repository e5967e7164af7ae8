/** The evaluation's data formats (src/eval/dataset.ts): labels.csv, the split, the fixed order, packs. */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { Pack, PackItem, PackWriter, evalItems, labelsWithSplit, readLabels, splitOf } from '../../src/eval/dataset';
import { createRGBA } from '../../src/core/image';

let tmp: string;
beforeAll(() => { tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'faceshift-eval-')); });
afterAll(() => { fs.rmSync(tmp, { recursive: true, force: true }); });

test('labels.csv with CRLF line ends; a row without numbers is refused', () => {
  const d = path.join(tmp, 'utk');
  fs.mkdirSync(d);
  fs.writeFileSync(path.join(d, 'labels.csv'), 'file,age,gender,race,sharpness,grayscale\r\n30_1_2_a.jpg,30,1,2,151.5,0\r\n8_0_0_b.jpg,8,0,0,90,1\r\n');
  expect(readLabels(d)).toEqual([
    { file: '30_1_2_a.jpg', age: 30, gender: 1, race: 2, sharpness: 151.5, grayscale: 0 },
    { file: '8_0_0_b.jpg', age: 8, gender: 0, race: 0, sharpness: 90, grayscale: 1 },
  ]);
  expect(labelsWithSplit(d).map((r) => r.split)).toEqual([splitOf('30_1_2_a.jpg'), splitOf('8_0_0_b.jpg')]);
  fs.writeFileSync(path.join(d, 'labels.csv'), 'file,age,gender,race,sharpness,grayscale\nx.jpg,old,1,2,3,0\n');
  expect(() => readLabels(d)).toThrow(/bad row "x.jpg,old/);
});

test('the split: the same for a file every time, about 5 % val', () => {
  const names = Array.from({ length: 4000 }, (_, i) => `${i}_0_0_2017.jpg`);
  const val = names.filter((n) => splitOf(n) === 'val').length;
  expect(val / names.length).toBeGreaterThan(0.035);
  expect(val / names.length).toBeLessThan(0.065);
  expect(names.map(splitOf)).toEqual(names.map(splitOf));
});

test('evalItems: one split, kept items, a fixed order that does not follow the list\'s', () => {
  const items: PackItem[] = Array.from({ length: 60 }, (_, i) => ({ file: `${i}.jpg`, age: 20 + i, gender: i % 2, race: 0, sharpness: 100, grayscale: 0, split: i % 3 ? 'train' : 'val' }));
  const a = evalItems(items, (it) => it.gender === 0, 5);
  const b = evalItems([...items].reverse(), (it) => it.gender === 0, 5);
  expect(a).toEqual(b);
  expect(a).toHaveLength(5);
  for (const it of a) { expect(it.split).toBe('val'); expect(it.gender).toBe(0); }
  expect(a.map((it) => it.age)).not.toEqual([...a.map((it) => it.age)].sort((x, y) => x - y));
  expect(evalItems(items, () => true, 100, 'train').every((it) => it.split === 'train')).toBe(true);
});

test('a pack written by PackWriter reads back crop for crop; Pack.val keeps evalItems\' order', () => {
  const items: PackItem[] = [];
  const w = new PackWriter(tmp, 'tiny', 4);
  for (let k = 0; k < 7; k++) {
    const img = createRGBA(4, 4);
    for (let i = 0; i < 16; i++) { img.data[i * 4] = k; img.data[i * 4 + 1] = i; img.data[i * 4 + 2] = 200; img.data[i * 4 + 3] = 255; }
    w.add(img);
    items.push({ file: `f${k}.jpg`, age: 30, gender: k % 2, race: 1, sharpness: 120, grayscale: 0, split: k % 2 ? 'val' : 'train' });
  }
  expect(() => w.add(createRGBA(5, 4))).toThrow(/5x4 crop in a 4-px pack/);
  w.close(items, 'utkface-v1');
  const meta = JSON.parse(fs.readFileSync(path.join(tmp, 'tiny.json'), 'utf8'));
  expect(meta).toMatchObject({ size: 4, template: 'utkface-v1', layout: 'NHWC uint8 RGB' });
  const p = Pack.load(tmp, 'tiny');
  expect(p.items).toEqual(items);
  const img = p.image(3);
  expect([img.data[0], img.data[5], img.data[6], img.data[7]]).toEqual([3, 1, 200, 255]);
  expect(p.val(() => true, 10).map((i) => items[i])).toEqual(evalItems(items, () => true, 10));
  p.close();
  fs.truncateSync(path.join(tmp, 'tiny.u8'), 10);
  expect(() => Pack.load(tmp, 'tiny')).toThrow(/holds 10 bytes, tiny.json describes 336: rebuild the pack/);
  expect(() => Pack.load(tmp, 'none')).toThrow(/Prepare the data first/);
});
