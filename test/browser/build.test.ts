/**
 * The built Photopea folder as a host serves it: plugin.json takes its addresses from
 * FACESHIFT_PUBLIC_URL, and a _headers file asks static hosts for cross-origin isolation.
 */
import * as fs from 'fs';
import * as path from 'path';
import { DIST, ROOT, ensureBuilt } from './support';

// eslint-disable-next-line @typescript-eslint/no-require-imports
const { photopeaPluginJson } = require(path.join(ROOT, 'webpack.config.js')) as { photopeaPluginJson(template: string, url?: string): string };
const template = fs.readFileSync(path.join(ROOT, 'src/hosts/photopea/plugin.json'), 'utf8');

test('FACESHIFT_PUBLIC_URL gives plugin.json its url and icon', () => {
  const json = JSON.parse(photopeaPluginJson(template, 'https://cdn.example.org/tools/faceshift'));
  expect(json).toMatchObject({ name: 'FaceShift', url: 'https://cdn.example.org/tools/faceshift/index.html', icon: 'https://cdn.example.org/tools/faceshift/icon.png' });
  expect(json.width).toBeGreaterThan(0);
  expect(json.height).toBeGreaterThan(0);
  // without it the placeholders stay (and the build warns)
  expect(JSON.parse(photopeaPluginJson(template)).url).toMatch(/YOUR-HOST\.example/);
  // addresses Photopea could not load are refused with the reason
  expect(() => photopeaPluginJson(template, 'http://cdn.example.org/x/')).toThrow(/must use https/);
  expect(() => photopeaPluginJson(template, 'faceshift/')).toThrow(/absolute address/);
  expect(JSON.parse(photopeaPluginJson(template, 'http://localhost:8080/')).url).toBe('http://localhost:8080/index.html');
});

test('the built folder: plugin.json, icon, _headers for cross-origin isolation', () => {
  ensureBuilt();
  const dir = path.join(DIST, 'photopea');
  const json = JSON.parse(fs.readFileSync(path.join(dir, 'plugin.json'), 'utf8'));
  expect(json.url).toMatch(/\/index\.html$/);
  expect(json.icon).toMatch(/\/icon\.png$/);
  expect(fs.existsSync(path.join(dir, 'icon.png'))).toBe(true);
  const headers = fs.readFileSync(path.join(dir, '_headers'), 'utf8');
  expect(headers).toMatch(/Cross-Origin-Opener-Policy: same-origin/);
  expect(headers).toMatch(/Cross-Origin-Embedder-Policy: require-corp/);
});

test('the pages carry the ONNX detector, not the tfjs files it was converted from', () => {
  ensureBuilt();
  const manifest = JSON.parse(fs.readFileSync(path.join(ROOT, 'models', 'manifest.json'), 'utf8'));
  const sources: string[] = manifest.detector.convertedFrom.map((f: { file: string }) => f.file);
  expect(sources.length).toBeGreaterThan(0);
  for (const models of [path.join(DIST, 'photopea', 'models'), path.join(DIST, 'photoshop', 'models')]) {
    for (const f of manifest.detector.files) expect(fs.existsSync(path.join(models, f.file))).toBe(true);
    for (const f of sources) expect(fs.existsSync(path.join(models, f))).toBe(false);
    expect(fs.existsSync(path.join(models, 'detector', 'facemesh.bin'))).toBe(true); // the face mesh still runs on tfjs
  }
});
