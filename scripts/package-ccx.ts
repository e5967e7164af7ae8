/**
 * Package the built Photoshop plugin (dist/photoshop/) as dist/faceshift.ccx: a .ccx is a zip of
 * the plugin folder with manifest.json at its root. Build first:
 *   npx webpack --config-name photoshop-engine --config-name photoshop-panel
 *   npm run package
 */
import * as fs from 'fs';
import * as path from 'path';
import AdmZip from 'adm-zip';

const ROOT = path.resolve(__dirname, '..');
const PLUGIN = path.join(ROOT, 'dist', 'photoshop');
const OUT = path.join(ROOT, 'dist', 'faceshift.ccx');

function fail(message: string): never {
  console.error(`package: ${message}`);
  process.exit(1);
}

/** What must be in the plugin for Photoshop to load it and for the panel to work offline. */
export function checkPlugin(dir: string): string[] {
  const problems: string[] = [];
  const need = ['manifest.json', 'index.html', 'index.js', 'engine/index.html', 'models/manifest.json'];
  for (const f of need) if (!fs.existsSync(path.join(dir, f))) problems.push(`${f} is missing`);
  if (!fs.existsSync(path.join(dir, 'manifest.json'))) return problems;
  const manifest = JSON.parse(fs.readFileSync(path.join(dir, 'manifest.json'), 'utf8'));
  const perms = manifest.requiredPermissions ?? {};
  if (perms.network && (perms.network.domains === 'all' || (perms.network.domains ?? []).length)) {
    problems.push('manifest.json asks for network access; FaceShift must not');
  }
  const webview = perms.webview ?? {};
  if (webview.domains === 'all' || (Array.isArray(webview.domains) && webview.domains.length)) problems.push('the webview may load remote domains');
  const icons = [...(manifest.icons ?? []), ...(manifest.entrypoints ?? []).flatMap((e: { icons?: unknown[] }) => e.icons ?? [])] as { path: string; scale?: number[] }[];
  for (const icon of icons) {
    for (const s of icon.scale ?? [1]) {
      const f = s === 1 ? icon.path : icon.path.replace(/(\.\w+)$/, `@${s}x$1`);
      if (!fs.existsSync(path.join(dir, f))) problems.push(`icon ${f} is missing`);
    }
  }
  const models = path.join(dir, 'models', 'manifest.json');
  if (fs.existsSync(models)) {
    for (const m of (JSON.parse(fs.readFileSync(models, 'utf8')) as { models?: { file: string }[] }).models ?? []) {
      if (!fs.existsSync(path.join(dir, 'models', m.file))) problems.push(`models/${m.file} is missing`);
    }
  }
  return problems;
}

function main(): void {
  if (!fs.existsSync(PLUGIN)) fail('dist/photoshop does not exist. Build it first: npx webpack --config-name photoshop-engine --config-name photoshop-panel');
  const problems = checkPlugin(PLUGIN);
  if (problems.length) fail(`dist/photoshop is not a complete plugin:\n  ${problems.join('\n  ')}\nRebuild: npx webpack --config-name photoshop-engine --config-name photoshop-panel`);
  const zip = new AdmZip();
  zip.addLocalFolder(PLUGIN, '', (name: string) => !/(^|[\\/])\.|\.map$/.test(name)); // no dotfiles, no source maps
  fs.rmSync(OUT, { force: true });
  zip.writeZip(OUT);
  const entries = zip.getEntries().filter((e) => !e.isDirectory);
  const mb = fs.statSync(OUT).size / 1e6;
  console.log(`dist/faceshift.ccx: ${entries.length} files, ${mb.toFixed(1)} MB. Double-click it, or install it with the UXP Developer Tool (docs/photoshop.md).`);
}

if (require.main === module) main();
