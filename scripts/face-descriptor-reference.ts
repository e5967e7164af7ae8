/**
 * Reference descriptors from `@vladmandic/face-api`'s own FaceRecognitionNet (the dlib ResNet, TF.js CPU
 * backend, in headless Chromium), for the parity test of the PyTorch port that training uses
 * (training/faceshift_train/facedescriptor.py; training/tests/test_idface.py).
 *
 *   npx tsx scripts/face-descriptor-reference.ts IN.raw N OUT.json
 *
 * IN.raw: N faces of 150 x 150 RGB, uint8, row-major (N x 150 x 150 x 3). OUT.json: { descriptors: number[N][128] }.
 * Everything is served from node_modules by request interception; nothing reaches the network.
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { chromium } from 'playwright-core';

const ROOT = path.resolve(__dirname, '..');
const FACE_API = path.join(ROOT, 'node_modules', '@vladmandic', 'face-api');
const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const ORIGIN = 'http://face-api.invalid';
const SIZE = 150;

async function main(): Promise<void> {
  const [input, countArg, output] = process.argv.slice(2);
  if (!input || !countArg || !output) throw new Error('usage: face-descriptor-reference.ts IN.raw N OUT.json');
  const n = Number(countArg);
  const raw = fs.readFileSync(input);
  if (!Number.isInteger(n) || n < 1 || raw.length !== n * SIZE * SIZE * 3) {
    throw new Error(`${input}: ${raw.length} bytes, expected ${n} x ${SIZE} x ${SIZE} x 3 (uint8 RGB); give the right N`);
  }
  if (!fs.existsSync(CHROMIUM)) throw new Error(`No Chromium at ${CHROMIUM}: apt-get install chromium, or set CHROMIUM_PATH.`);
  const profile = fs.mkdtempSync(path.join(os.tmpdir(), 'faceshift-faceapi-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM, headless: true, args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking'],
  });
  try {
    await context.route('**/*', async (route) => {
      const url = new URL(route.request().url());
      if (url.origin !== ORIGIN) return route.abort();
      if (url.pathname === '/') return route.fulfill({ contentType: 'text/html', body: '<!doctype html><title>face-api</title>' });
      const file = path.resolve(FACE_API, '.' + decodeURIComponent(url.pathname));
      if (!file.startsWith(FACE_API + path.sep) || !fs.existsSync(file)) return route.fulfill({ status: 404, body: 'not found' });
      const type = file.endsWith('.js') ? 'text/javascript' : file.endsWith('.json') ? 'application/json' : 'application/octet-stream';
      return route.fulfill({ contentType: type, body: fs.readFileSync(file) });
    });
    const page = await context.newPage();
    await page.goto(ORIGIN + '/');
    const descriptors = await page.evaluate(async ({ b64, n, size }) => {
      const faceapi = await import('/dist/face-api.esm.js' as string);
      await faceapi.tf.setBackend('cpu');
      await faceapi.tf.ready();
      await faceapi.nets.faceRecognitionNet.loadFromUri('/model');
      const bytes = Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
      const out: number[][] = [];
      for (let i = 0; i < n; i++) {
        const t = faceapi.tf.tensor3d(bytes.subarray(i * size * size * 3, (i + 1) * size * size * 3), [size, size, 3], 'int32');
        out.push(Array.from(await faceapi.nets.faceRecognitionNet.computeFaceDescriptor(t) as Float32Array));
        t.dispose();
      }
      return { out, backend: faceapi.tf.getBackend() as string, version: faceapi.version as string };
    }, { b64: raw.toString('base64'), n, size: SIZE });
    fs.writeFileSync(output, JSON.stringify({ faceApi: descriptors.version, backend: descriptors.backend, descriptors: descriptors.out }));
  } finally {
    await context.close();
    fs.rmSync(profile, { recursive: true, force: true });
  }
}

main().catch((e: Error) => {
  console.error(`face-descriptor-reference: ${e.message}`);
  process.exit(1);
});
