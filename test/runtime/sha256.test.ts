import * as crypto from 'crypto';
import { sha256Hex } from '../../src/runtime/sha256';

test('sha256Hex matches Node crypto at every padding boundary', () => {
  for (const n of [0, 1, 55, 56, 63, 64, 65, 119, 120, 1000, 70000]) {
    const bytes = crypto.randomBytes(n);
    expect(sha256Hex(new Uint8Array(bytes))).toBe(crypto.createHash('sha256').update(bytes).digest('hex'));
  }
});
