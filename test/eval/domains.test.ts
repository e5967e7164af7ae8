/** The domains the evaluation reads are the training recipe's: one file, training/domains.json. */
import * as fs from 'fs';
import { DOMAINS_FILE, adultColour, domainOf, labelNames } from '../../src/eval/domains';

test('codes are UTKFace\'s labels, as the recipe uses them', () => {
  expect(domainOf('male')).toEqual({ attribute: 'gender', value: 0 });
  expect(domainOf('female')).toEqual({ attribute: 'gender', value: 1 });
  expect(domainOf('white')).toEqual({ attribute: 'race', value: 0 });
  expect(domainOf('black')).toEqual({ attribute: 'race', value: 1 });
  expect(domainOf('asian')).toEqual({ attribute: 'race', value: 2 });
  // GEAR's race outputs are in UTKFace's code order
  expect(labelNames('race')).toEqual(['white', 'black', 'asian', 'indian', 'other']);
  expect(() => domainOf('cat')).toThrow(/Unknown domain 'cat'.*male, female, white, black, asian/);
});

test('adults in colour only', () => {
  expect(adultColour({ age: 18, grayscale: 0 })).toBe(true);
  expect(adultColour({ age: 17, grayscale: 0 })).toBe(false);
  expect(adultColour({ age: 40, grayscale: 1 })).toBe(false);
});

test('the file the Python recipe reads (training/faceshift_train/domains.py) is this one', () => {
  const py = fs.readFileSync(`${__dirname}/../../training/faceshift_train/domains.py`, 'utf8');
  expect(py).toMatch(/'domains\.json'/);
  expect(DOMAINS_FILE.endsWith(`training${require('path').sep}domains.json`)).toBe(true);
});
