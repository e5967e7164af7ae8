/** The model registry: what the shipped manifest promises, and what a broken one gets. */
import { findTransform, listDirections, validateManifest, ModelFileError } from '../../src/models/manifest';
import * as fs from 'fs';
import * as path from 'path';
import { isColorPolicy } from '../../src/core/color';
import { shippedManifest } from '../helpers/manifest';

describe('shipped manifest', () => {
  const m = shippedManifest();

  test('offers the three pairs of the article, both ways, each pair together in the menu', () => {
    const dirs = listDirections(m).map((d) => d.direction);
    expect(dirs).toEqual(['male2female', 'female2male', 'white2black', 'black2white', 'white2asian', 'asian2white']);
    for (const d of listDirections(m)) {
      const t = findTransform(m, d.direction);
      expect(d.label).toBe(`${t.source[0].toUpperCase()}${t.source.slice(1)} → ${t.target[0].toUpperCase()}${t.target.slice(1)}`);
      expect(t.template).toBe(m.template.id);
      expect(t.input).toMatchObject({ layout: 'NCHW', size: 128, range: [-1, 1] });
      expect(t.licence).toMatch(/[Nn]on-commercial/);
      expect(t.evaluation).toBeDefined();
    }
  });

  test('each direction pastes with the colour policy its measurement chose (docs/color-policy.json)', () => {
    const chosen = JSON.parse(fs.readFileSync(path.join(__dirname, '..', '..', 'docs', 'color-policy.json'), 'utf8')).chosen as Record<string, string>;
    for (const d of listDirections(m)) {
      const t = findTransform(m, d.direction);
      expect(t.attribute).toBe(['male', 'female'].includes(t.source) ? 'gender' : 'race');
      expect(isColorPolicy(t.colorPolicy)).toBe(true);
      expect(t.colorPolicy).toBe(chosen[d.direction]);
    }
  });

  test('each direction keeps the share of photo detail its measurement chose (docs/photo-detail.json; 1 where not measured)', () => {
    const chosen = JSON.parse(fs.readFileSync(path.join(__dirname, '..', '..', 'docs', 'photo-detail.json'), 'utf8')).chosen as Record<string, number>;
    for (const d of listDirections(m)) expect(findTransform(m, d.direction).photoDetail ?? 1).toBe(chosen[d.direction] ?? 1);
  });
});

describe('validateManifest', () => {
  const entry = (id: string, direction: string) => ({
    id, task: 'transform', direction, file: `${id}.onnx`, sha256: 'a'.repeat(64), input: { layout: 'NCHW' },
  });

  test('two models for one direction are refused, naming both', () => {
    expect(() => validateManifest({ version: 1, models: [entry('a-v1', 'male2female'), entry('a-v2', 'male2female')] }))
      .toThrow(/a-v1 and a-v2 both offer the direction "male2female"/);
  });

  test('an unknown colour policy or a photoDetail outside 0..1 is refused, naming what is allowed', () => {
    expect(() => validateManifest({ version: 1, models: [{ ...entry('a', 'male2female'), colorPolicy: 'sepia' }] }))
      .toThrow(/a in the manifest has an unknown colour policy "sepia" \(one of reinhard, lightness, tone, none\)/);
    expect(() => validateManifest({ version: 1, models: [{ ...entry('a', 'male2female'), colorPolicy: 'tone' }] })).not.toThrow();
    expect(() => validateManifest({ version: 1, models: [{ ...entry('a', 'male2female'), photoDetail: 1.5 }] })).toThrow(/photoDetail 1.5; it must be a number from 0 to 1/);
    expect(() => validateManifest({ version: 1, models: [{ ...entry('a', 'male2female'), photoDetail: 0.7 }] })).not.toThrow();
  });

  test('an unknown direction names the ones there are', () => {
    const man = validateManifest({ version: 1, models: [entry('x', 'white2asian'), entry('y', 'asian2white')] });
    expect(() => findTransform(man, 'cat2dog')).toThrow(ModelFileError);
    expect(() => findTransform(man, 'cat2dog')).toThrow(/Available directions: white2asian, asian2white/);
  });
});
