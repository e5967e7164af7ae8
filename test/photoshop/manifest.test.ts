/** The plugin's manifest, icons and panel page agree with each other and ask for no network. */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import sharp from 'sharp';
import { checkPlugin } from '../../scripts/package-ccx';

const ROOT = path.resolve(__dirname, '..', '..');
const manifest = JSON.parse(fs.readFileSync(path.join(ROOT, 'manifest.json'), 'utf8'));
const html = fs.readFileSync(path.join(ROOT, 'src/hosts/photoshop/index.html'), 'utf8');
const panelTs = fs.readFileSync(path.join(ROOT, 'src/hosts/photoshop/index.ts'), 'utf8');

interface Icon { width: number; height: number; path: string; scale: number[]; theme: string[]; species?: string[] }

test('manifest v5 for Photoshop 26 with one FaceShift panel', () => {
  expect(manifest.manifestVersion).toBe(5);
  expect(manifest.name).toBe('FaceShift');
  expect(manifest.version).toMatch(/^\d+\.\d+\.\d+$/);
  expect(manifest.version).toBe(JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8')).version);
  expect(manifest.host).toMatchObject({ app: 'PS', minVersion: '26.0' });
  expect(manifest.main).toBe('index.html');
  expect(manifest.entrypoints).toHaveLength(1);
  const panel = manifest.entrypoints[0];
  expect(panel).toMatchObject({ type: 'panel', label: { default: 'FaceShift' } });
  for (const k of ['minimumSize', 'maximumSize', 'preferredDockedSize', 'preferredFloatingSize']) {
    expect(panel[k].width).toBeGreaterThan(0);
    expect(panel[k].height).toBeGreaterThan(0);
  }
});

test('permissions: the bundled models and a local-only webview, no network', () => {
  const p = manifest.requiredPermissions;
  expect(p.localFileSystem).toBe('plugin');
  expect(p.webview).toEqual({ allow: 'yes', domains: [], allowLocalRendering: 'yes', enableMessageBridge: 'localOnly' });
  expect(p.network === undefined || (Array.isArray(p.network.domains) && p.network.domains.length === 0)).toBe(true);
});

test('icons exist for light and dark themes at 1x and 2x, at the sizes the manifest states', async () => {
  const icons: Icon[] = [...manifest.icons, ...manifest.entrypoints[0].icons];
  const panelIcons = manifest.entrypoints[0].icons as Icon[];
  expect(panelIcons.every((i) => i.width === 23 && i.height === 23)).toBe(true);
  for (const set of [manifest.icons as Icon[], panelIcons]) {
    const themes = set.flatMap((i) => i.theme);
    expect(themes).toEqual(expect.arrayContaining(['lightest', 'light', 'dark', 'darkest']));
  }
  for (const icon of icons) {
    for (const s of icon.scale) {
      const rel = s === 1 ? icon.path : icon.path.replace(/\.png$/, `@${s}x.png`);
      // webpack copies assets/icons to icons/
      const file = path.join(ROOT, 'assets', rel);
      const meta = await sharp(file).metadata();
      expect([meta.width, meta.height]).toEqual([icon.width * s, icon.height * s]);
    }
  }
});

test('the panel page has every element the panel script uses, and loads the engine page locally', () => {
  const ids = [...panelTs.matchAll(/el(?:<\w+>)?\('([\w-]+)'\)/g)].map((m) => m[1]);
  expect(ids.length).toBeGreaterThan(10);
  for (const id of ids) expect(html).toContain(`id="${id}"`);
  expect(html).toMatch(/<webview id="engine" src="plugin:\/engine\/index\.html"/);
  expect(html).toContain('<script src="index.js"></script>');
  expect(html).not.toMatch(/https?:\/\//);
  for (const w of ['sp-picker', 'sp-slider', 'sp-checkbox', 'sp-button', 'sp-progressbar']) expect(html).toContain(`<${w}`);
  expect(html).toContain('var(--uxp-host-background-color)');
});

test('packaging refuses an incomplete plugin or one that asks for the network', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'faceshift-ccx-'));
  try {
    fs.writeFileSync(path.join(dir, 'manifest.json'), JSON.stringify({ ...manifest, icons: [], entrypoints: [], requiredPermissions: { network: { domains: 'all' } } }));
    const problems = checkPlugin(dir);
    expect(problems).toEqual(expect.arrayContaining(['index.js is missing', 'engine/index.html is missing', 'manifest.json asks for network access; FaceShift must not']));
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
