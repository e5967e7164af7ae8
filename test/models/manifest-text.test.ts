/** Evaluations spliced into models/manifest.json's text, every other byte kept (src/models/manifest-text.ts). */
import * as fs from 'fs';
import { spliceEvaluations } from '../../src/models/manifest-text';
import { MODELS } from '../helpers/manifest';

// as Python's json.dump(indent=2) writes it: escaped non-ASCII, Python's float forms
const TEXT = `{
  "version": 3,
  "models": [
    {
      "id": "a",
      "label": "Male \\u2192 Female",
      "tolerance": 1e-05,
      "evaluation": {
        "n": 1
      }
    },
    {
      "id": "b",
      "weights": [1.0, 2.5]
    }
  ],
  "template": {"id": "t"}
}
`;

test('replaces an evaluation, adds a missing one, and leaves the rest byte for byte', () => {
  const out = spliceEvaluations(TEXT, new Map<string, unknown>([['a', { n: 300, label: 'Male → Female' }], ['b', { psnr: 27.5 }]]));
  const parsed = JSON.parse(out);
  expect(parsed.models[0].evaluation).toEqual({ n: 300, label: 'Male → Female' });
  expect(parsed.models[1].evaluation).toEqual({ psnr: 27.5 });
  expect(out).toContain('"tolerance": 1e-05');
  expect(out).toContain('"weights": [1.0, 2.5]');
  expect(out).toContain('"label": "Male \\u2192 Female"');
  // non-ASCII in the new value is escaped as Python does, and indented as its neighbours
  expect(out).toContain('      "evaluation": {\n        "n": 300,\n        "label": "Male \\u2192 Female"\n      }');
  expect(out).toContain('      "weights": [1.0, 2.5],\n      "evaluation": {\n        "psnr": 27.5\n      }\n    }');
  // outside the two entries nothing moved
  expect(out.endsWith('  ],\n  "template": {"id": "t"}\n}\n')).toBe(true);
  expect(spliceEvaluations(TEXT, new Map())).toBe(TEXT);
});

test('on the shipped manifest, putting back each model\'s own evaluation gives the same manifest', () => {
  const text = fs.readFileSync(`${MODELS}/manifest.json`, 'utf8');
  const m = JSON.parse(text) as { models: { id: string; evaluation?: unknown }[] };
  const evaluations = new Map(m.models.filter((e) => e.evaluation !== undefined).map((e) => [e.id, e.evaluation]));
  expect(evaluations.size).toBeGreaterThan(0);
  expect(JSON.parse(spliceEvaluations(text, evaluations))).toEqual(m);
});

test('a text without a models list is refused', () => {
  expect(() => spliceEvaluations('{"version": 1}', new Map())).toThrow(/no "models" array/);
});
