/**
 * The command line's output for the bundled sample is byte-identical to what it wrote before the
 * issue-14 refactor (sample-golden.json): the CLI really runs on assets/sample.jpg and each
 * written file's sha256 is compared. PSD and PNG, with and without upscaling and colour match.
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import * as crypto from 'crypto';
import { main, EXIT } from '../../src/cli/main';

const ROOT = path.resolve(__dirname, '..', '..');
const SAMPLE = path.join(ROOT, 'assets', 'sample.jpg');
const GOLDEN = path.join(__dirname, 'sample-golden.json');

interface Case { name: string; args: string[]; sha256: string }
const golden = JSON.parse(fs.readFileSync(GOLDEN, 'utf8')) as { about: string; cases: Case[] };

let tmp: string;
beforeAll(() => { tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'faceshift-golden-')); });
afterAll(() => { fs.rmSync(tmp, { recursive: true, force: true }); });

async function quietly(argv: string[]): Promise<number> {
  const out = process.stdout.write.bind(process.stdout), err = process.stderr.write.bind(process.stderr);
  (process.stdout as unknown as { write: unknown }).write = () => true;
  (process.stderr as unknown as { write: unknown }).write = () => true;
  try { return await main(argv); } finally {
    (process.stdout as unknown as { write: unknown }).write = out;
    (process.stderr as unknown as { write: unknown }).write = err;
  }
}

describe('the CLI on the bundled sample', () => {
  test.each(golden.cases.map((c) => [c.name, c] as const))('%s is byte-identical to the golden output', async (_name, c) => {
    const out = path.join(tmp, c.name);
    const code = await quietly(['node', 'faceshift', SAMPLE, ...c.args, '--out', out]);
    expect(code).toBe(EXIT.OK);
    const sha = crypto.createHash('sha256').update(fs.readFileSync(out)).digest('hex');
    if (process.env.FACESHIFT_UPDATE_GOLDEN === '1') {
      c.sha256 = sha;
      fs.writeFileSync(GOLDEN, JSON.stringify(golden, null, 2) + '\n');
    }
    expect(sha).toBe(c.sha256);
  });
});
