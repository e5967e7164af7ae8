/**
 * Web builds, one config per target (`npx webpack --config-name <name>` builds one):
 *   photopea          dist/photopea/            the Photopea plugin page (static, self-contained)
 *   photoshop-engine  dist/photoshop/engine/    the engine page the Photoshop panel's webview loads
 *   photoshop-panel   dist/photoshop/           the UXP panel
 * Browser pages carry their runtime files beside the bundle (ort/, tfjs/) and the models
 * (models/), so they work from any static host with no other network access.
 */
const fs = require('fs');
const path = require('path');
const CopyPlugin = require('copy-webpack-plugin');
const HtmlPlugin = require('html-webpack-plugin');

const ROOT = __dirname;
const DIST = path.join(ROOT, 'dist');
// (onnxruntime-web's exports hide package.json; its .wasm entry is exported and lives in dist/)
const ORT_DIST = path.dirname(require.resolve('onnxruntime-web/ort-wasm-simd-threaded.wasm'));
const TFJS_WASM_DIST = path.join(path.dirname(require.resolve('@tensorflow/tfjs-backend-wasm/package.json')), 'dist');

/**
 * onnxruntime-web/webgpu's ESM bundle embeds its Emscripten glue and fetches one binary, the
 * asyncify build; src/platform/web.ts points ORT at our copy (ORT_WASM there), so no .mjs is needed.
 */
const ORT_FILES = ['ort-wasm-simd-threaded.asyncify.wasm'];
/** tfjs-backend-wasm picks one of these by browser features (SIMD, threads). */
const TFJS_FILES = ['tfjs-backend-wasm.wasm', 'tfjs-backend-wasm-simd.wasm', 'tfjs-backend-wasm-threaded-simd.wasm'];

/**
 * The detector's tfjs source files (manifest `detector.convertedFrom`): kept in models/ as the
 * conversion's source and the Node tests' reference; the pages run the ONNX file and never read them.
 */
const DETECTOR_SOURCES = JSON.parse(fs.readFileSync(path.join(ROOT, 'models', 'manifest.json'), 'utf8')).detector?.convertedFrom?.map((f) => f.file) ?? [];

/** Copy patterns for the models folder: the manifest and every file it names (plus notices). */
const modelPatterns = (to) => [
  { from: 'models/manifest.json', to: `${to}/manifest.json` },
  { from: 'models/*.onnx', to: `${to}/[name][ext]` },
  { from: 'models/templates', to: `${to}/templates` },
  { from: 'models/detector', to: `${to}/detector`, globOptions: { ignore: DETECTOR_SOURCES.map((f) => `**/${f}`) } },
  { from: 'models/NOTICE*', to: `${to}/[name][ext]`, noErrorOnMissing: true },
  { from: 'models/MODEL_CARD.md', to: `${to}/MODEL_CARD.md`, noErrorOnMissing: true },
];

const runtimePatterns = [
  ...ORT_FILES.map((f) => ({ from: path.join(ORT_DIST, f), to: `ort/${f}` })),
  ...TFJS_FILES.map((f) => ({ from: path.join(TFJS_WASM_DIST, f), to: `tfjs/${f}` })),
];

/**
 * Photopea's plugin.json from the public address the page will be served from
 * (`FACESHIFT_PUBLIC_URL=https://host/path/ npm run build`): `url` is its index.html, `icon` its
 * icon.png. Without the variable the placeholders stay, and the build says so.
 */
function photopeaPluginJson(template, publicUrl) {
  const json = JSON.parse(template);
  if (!publicUrl) return JSON.stringify(json, null, 2) + '\n';
  let base;
  try {
    base = new URL(publicUrl.endsWith('/') ? publicUrl : `${publicUrl}/`);
  } catch {
    throw new Error(`FACESHIFT_PUBLIC_URL must be an absolute address like https://you.example/faceshift/, got "${publicUrl}".`);
  }
  const local = base.hostname === 'localhost' || base.hostname === '127.0.0.1';
  if (base.protocol !== 'https:' && !(base.protocol === 'http:' && local)) {
    throw new Error(`FACESHIFT_PUBLIC_URL must use https (Photopea is served over https and will not load a plugin over http), got "${publicUrl}".`);
  }
  if (base.search || base.hash) throw new Error(`FACESHIFT_PUBLIC_URL must be a folder address without ?query or #fragment, got "${publicUrl}".`);
  json.url = new URL('index.html', base).href;
  json.icon = new URL('icon.png', base).href;
  return JSON.stringify(json, null, 2) + '\n';
}

/** Headers for static hosts that read a _headers file (Netlify, Cloudflare Pages): WASM threads need cross-origin isolation. */
const PHOTOPEA_HEADERS = `/*
  Cross-Origin-Opener-Policy: same-origin
  Cross-Origin-Embedder-Policy: require-corp
  Cross-Origin-Resource-Policy: cross-origin
/*.wasm
  Content-Type: application/wasm
`;

/** Page templates are plain HTML (no template language), read as is. */
const html = (file) => fs.readFileSync(path.join(ROOT, file), 'utf8');

function common(mode) {
  return {
    mode,
    target: 'web',
    devtool: mode === 'development' ? 'source-map' : false,
    resolve: {
      extensions: ['.ts', '.js', '.mjs'],
      // Browser builds need none of Node's modules; tfjs's Node branches are never taken there.
      fallback: { fs: false, path: false, os: false, crypto: false, worker_threads: false, perf_hooks: false, util: false, url: false },
      // The detector runs on tfjs; the MediaPipe runtime is never used, so it is not bundled.
      alias: { '@mediapipe/face_detection': false },
    },
    module: {
      rules: [
        { test: /\.ts$/, loader: 'ts-loader', exclude: /node_modules/, options: { configFile: 'tsconfig.web.json', transpileOnly: true } },
        // onnxruntime-web names its .wasm with `new URL(..., import.meta.url)`; we copy that file
        // ourselves (fixed name, one copy) and give ORT its URL, so webpack need not emit it.
        // (webpack writes import.meta.url as a file: URL; ORT recognises that case.)
        { test: /[\\/]onnxruntime-web[\\/]/, parser: { url: false } },
        { test: /\.m?js$/, resolve: { fullySpecified: false } },
      ],
    },
    performance: { hints: false },
    // Classic scripts, not modules: a module script is fetched in CORS mode, which the UXP
    // webview's local files may not allow. Stable names, so tests and docs can point at them.
    output: { filename: '[name].js', publicPath: 'auto' },
    stats: 'errors-warnings',
    infrastructureLogging: { level: 'error' },
  };
}

function photopea(mode) {
  const out = path.join(DIST, 'photopea');
  const publicUrl = process.env.FACESHIFT_PUBLIC_URL;
  if (!publicUrl) console.warn('[faceshift] dist/photopea/plugin.json keeps its YOUR-HOST.example placeholders: build with FACESHIFT_PUBLIC_URL=https://your.host/path/ to fill in url and icon.');
  return {
    ...common(mode),
    name: 'photopea',
    entry: { faceshift: './src/hosts/photopea/index.ts' },
    output: { ...common(mode).output, path: out, clean: true },
    plugins: [
      new HtmlPlugin({ templateContent: html('src/hosts/photopea/index.html'), filename: 'index.html', inject: 'body', scriptLoading: 'defer' }),
      new CopyPlugin({
        patterns: [
          ...runtimePatterns,
          ...modelPatterns('models'),
          { from: 'src/hosts/photopea/plugin.json', to: 'plugin.json', transform: (content) => photopeaPluginJson(content.toString(), publicUrl) },
          { from: 'src/hosts/photopea/plugin.json', to: '_headers', toType: 'file', transform: () => PHOTOPEA_HEADERS },
          { from: 'src/hosts/photopea/icon.svg', to: 'icon.svg' },
          { from: 'src/hosts/photopea/icon.png', to: 'icon.png', noErrorOnMissing: true },
          { from: 'docs/photopea.md', to: 'README.md' },
        ],
      }),
    ],
  };
}

function photoshopEngine(mode) {
  const out = path.join(DIST, 'photoshop', 'engine');
  return {
    ...common(mode),
    name: 'photoshop-engine',
    entry: { engine: './src/hosts/photoshop/engine-page.ts' },
    output: { ...common(mode).output, path: out, clean: true },
    plugins: [
      new HtmlPlugin({ templateContent: html('src/hosts/photoshop/engine-page.html'), filename: 'index.html', inject: 'body', scriptLoading: 'defer' }),
      new CopyPlugin({ patterns: [...runtimePatterns, ...modelPatterns('../models')] }),
    ],
  };
}

/** The UXP panel: Photoshop supplies `photoshop` and `uxp` through require(). */
function photoshopPanel(mode) {
  const out = path.join(DIST, 'photoshop');
  const icons = path.join(ROOT, 'assets', 'icons');
  return {
    mode,
    name: 'photoshop-panel',
    target: 'web',
    devtool: false,
    entry: { index: './src/hosts/photoshop/index.ts' },
    output: {
      path: out, filename: '[name].js', publicPath: '',
      // never wipe the engine page and models built beside it
      clean: { keep: (p) => /^(engine|models)([\\/]|$)/.test(p) },
    },
    externals: { photoshop: 'commonjs photoshop', uxp: 'commonjs uxp' },
    externalsType: 'commonjs',
    resolve: { extensions: ['.ts', '.js'], fallback: { fs: false, path: false, os: false, crypto: false } },
    node: false,
    module: { rules: [{ test: /\.ts$/, loader: 'ts-loader', exclude: /node_modules/, options: { configFile: 'tsconfig.web.json', transpileOnly: true } }] },
    performance: { hints: false },
    stats: 'errors-warnings',
    plugins: [
      new CopyPlugin({
        patterns: [
          { from: 'src/hosts/photoshop/index.html', to: 'index.html' },
          { from: 'manifest.json', to: 'manifest.json' },
          ...(fs.existsSync(icons) ? [{ from: 'assets/icons', to: 'icons' }] : []),
        ],
      }),
    ],
  };
}

module.exports = (env = {}, argv = {}) => {
  const mode = argv.mode ?? 'production';
  const configs = [photopea(mode), photoshopEngine(mode), photoshopPanel(mode)];
  // One compiler at a time: the machines this builds on are small.
  configs.parallelism = 1;
  return configs;
};

module.exports.photopeaPluginJson = photopeaPluginJson;
