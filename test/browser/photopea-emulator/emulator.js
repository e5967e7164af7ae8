/*
 * A small Photopea stand-in for the plugin tests: it hosts the plugin page in an iframe and runs
 * exactly the scripts FaceShift sends, with Photopea's messaging behaviour:
 *  - a string message is a script; when it has run, "done" is sent (script errors are only
 *    logged to the console, as Photopea does; "done" still follows);
 *  - app.echoToOE(s) sends s; document.saveToOE("png") sends an ArrayBuffer (before "done");
 *  - app.open(url, null, true) places the image into the current document as a smart object,
 *    asynchronously (the layer appears after the script's "done"), centred, above the active layer;
 *  - opening or closing a document sends an extra "done".
 * Document model: top-level pixel layers (RGBA, doc-sized canvas), optional doc-sized mask,
 * selection (doc-sized alpha), saved selections (named alpha channels). executeAction knows the
 * Action Manager calls FaceShift uses: selection from transparency, mask revealing the selection,
 * save the selection as a channel, load a channel as the selection, delete a channel.
 * Test knobs on window.emu: failOn ('executeAction'), closeAfterExport, extraDone, scriptDelay (ms before each script runs).
 */
(() => {
  const q = new URLSearchParams(location.search);
  const frame = document.getElementById('plugin');
  const state = { documents: [], active: null, failOn: null, closeAfterExport: false, extraDone: true, scriptDelay: 0, scripts: [], errors: [], placing: 0 };

  const post = (m) => frame.contentWindow.postMessage(m, '*');

  // ---------- pixels ----------
  async function decode(bytesOrUrl) {
    const blob = typeof bytesOrUrl === 'string' ? await (await fetch(bytesOrUrl)).blob() : new Blob([bytesOrUrl]);
    const bmp = await createImageBitmap(blob, { premultiplyAlpha: 'none', colorSpaceConversion: 'none' });
    const c = new OffscreenCanvas(bmp.width, bmp.height);
    const ctx = c.getContext('2d', { willReadFrequently: true });
    ctx.drawImage(bmp, 0, 0);
    return { width: bmp.width, height: bmp.height, data: ctx.getImageData(0, 0, bmp.width, bmp.height).data };
  }

  async function encodePng(img) {
    const c = new OffscreenCanvas(img.width, img.height);
    c.getContext('2d').putImageData(new ImageData(new Uint8ClampedArray(img.data), img.width, img.height), 0, 0);
    return (await c.convertToBlob({ type: 'image/png' })).arrayBuffer();
  }

  /** Flatten visible layers (bottom to top) through their masks. */
  function composite(doc) {
    const n = doc.width * doc.height;
    const out = new Float32Array(n * 4);
    for (let li = doc.layers.length - 1; li >= 0; li--) {
      const l = doc.layers[li];
      if (!l.visible) continue;
      for (let i = 0; i < n; i++) {
        const a = (l.px[i * 4 + 3] / 255) * (l.mask ? l.mask[i] / 255 : 1);
        if (a === 0) continue;
        const ao = out[i * 4 + 3];
        const ar = a + ao * (1 - a);
        for (let c = 0; c < 3; c++) out[i * 4 + c] = (l.px[i * 4 + c] * a + out[i * 4 + c] * ao * (1 - a)) / ar;
        out[i * 4 + 3] = ar;
      }
    }
    const data = new Uint8ClampedArray(n * 4);
    for (let i = 0; i < n; i++) {
      for (let c = 0; c < 3; c++) data[i * 4 + c] = Math.round(out[i * 4 + c]);
      data[i * 4 + 3] = Math.round(out[i * 4 + 3] * 255);
    }
    return { width: doc.width, height: doc.height, data };
  }

  /** After any edit: re-encode the PNG saveToOE sends, and show the active document. */
  function changed(doc) {
    const flat = composite(doc);
    doc.png = encodePng(flat);
    const view = document.getElementById('view');
    if (view && doc === state.active) {
      view.width = flat.width; view.height = flat.height;
      view.getContext('2d').putImageData(new ImageData(flat.data, flat.width, flat.height), 0, 0);
    }
  }

  // ---------- document model (Photoshop-like DOM) ----------
  let layerSeq = 0;
  function makeLayer(doc, name, img, x, y, kind) {
    const px = new Uint8ClampedArray(doc.width * doc.height * 4);
    for (let r = 0; r < img.height; r++) {
      const dy = y + r;
      if (dy < 0 || dy >= doc.height) continue;
      for (let c = 0; c < img.width; c++) {
        const dx = x + c;
        if (dx < 0 || dx >= doc.width) continue;
        px.set(img.data.subarray((r * img.width + c) * 4, (r * img.width + c) * 4 + 4), (dy * doc.width + dx) * 4);
      }
    }
    return { id: ++layerSeq, name, px, mask: null, visible: true, kind, doc };
  }

  function boundsOf(l) {
    const { width: W, height: H } = l.doc;
    let x0 = W, y0 = H, x1 = 0, y1 = 0;
    for (let y = 0; y < H; y++) for (let x = 0; x < W; x++) {
      if (l.px[(y * W + x) * 4 + 3] === 0) continue;
      if (x < x0) x0 = x; if (x > x1) x1 = x; if (y < y0) y0 = y; if (y > y1) y1 = y;
    }
    return x1 < x0 ? [0, 0, 0, 0] : [x0, y0, x1 + 1, y1 + 1];
  }

  function layerApi(l) {
    return {
      get name() { return l.name; },
      set name(v) { l.name = String(v); },
      get bounds() { return boundsOf(l); },
      get visible() { return l.visible; },
      get kind() { return l.kind; },
      translate(dx, dy) {
        const { width: W, height: H } = l.doc;
        const px = new Uint8ClampedArray(l.px.length);
        for (let y = 0; y < H; y++) for (let x = 0; x < W; x++) {
          const sx = x - dx, sy = y - dy;
          if (sx < 0 || sy < 0 || sx >= W || sy >= H) continue;
          px.set(l.px.subarray((sy * W + sx) * 4, (sy * W + sx) * 4 + 4), (y * W + x) * 4);
        }
        l.px = px; changed(l.doc);
      },
      resize() { throw new Error('emulator: resize is not expected (placed images keep their size)'); },
      rasterize() { l.kind = 'pixel'; },
      remove() {
        const d = l.doc; d.layers = d.layers.filter((o) => o !== l);
        if (d.activeLayer === l) d.activeLayer = d.layers[0] ?? null;
        changed(d);
      },
    };
  }
  const apiCache = new WeakMap();
  const api = (l) => { if (!apiCache.has(l)) apiCache.set(l, layerApi(l)); return apiCache.get(l); };
  const unwrap = (doc, a) => doc.layers.find((l) => api(l) === a);

  function docApi(d) {
    return {
      get name() { return d.name; },
      get width() { return d.width; },
      get height() { return d.height; },
      get layers() { return d.layers.map(api); },
      get activeLayer() { return d.activeLayer ? api(d.activeLayer) : null; },
      set activeLayer(a) { const l = unwrap(d, a); if (!l) throw new Error('Layer not found'); d.activeLayer = l; },
      selection: {
        deselect() { d.selection = null; },
        // as in Photoshop: reading the bounds without a selection throws
        get bounds() {
          if (!d.selection) throw new Error('There is no selection.');
          let x0 = d.width, y0 = d.height, x1 = 0, y1 = 0;
          for (let y = 0; y < d.height; y++) for (let x = 0; x < d.width; x++) {
            if (!d.selection[y * d.width + x]) continue;
            x0 = Math.min(x0, x); y0 = Math.min(y0, y); x1 = Math.max(x1, x + 1); y1 = Math.max(y1, y + 1);
          }
          return x1 > x0 ? [x0, y0, x1, y1] : [0, 0, 0, 0];
        },
      },
      saveToOE(fmt) {
        if (!String(fmt).startsWith('png')) throw new Error(`emulator: only png export (${fmt})`);
        post(d.pngBytes.slice(0));
        if (state.closeAfterExport) { state.closeAfterExport = false; setTimeout(() => closeDocument(d), 20); }
      },
    };
  }

  function openDocument(name, img) {
    const d = { name, width: img.width, height: img.height, layers: [], selection: null, activeLayer: null, channels: new Map() };
    const bg = makeLayer(d, 'Background', img, 0, 0, 'pixel');
    d.layers.push(bg); d.activeLayer = bg;
    state.documents.push(d); state.active = d;
    changed(d);
    return d;
  }

  function closeDocument(d) {
    state.documents = state.documents.filter((o) => o !== d);
    if (state.active === d) state.active = state.documents[state.documents.length - 1] ?? null;
    post('done'); // Photopea says "done" when a document closes
  }

  async function place(d, url) {
    state.placing++;
    try {
      const img = await decode(url);
      await new Promise((r) => setTimeout(r, 30));
      if (!state.documents.includes(d)) return;
      const l = makeLayer(d, `Layer ${d.layers.length}`, img, Math.floor((d.width - img.width) / 2), Math.floor((d.height - img.height) / 2), 'smartObject');
      const at = Math.max(0, d.layers.indexOf(d.activeLayer));
      d.layers.splice(at, 0, l); d.activeLayer = l;
      changed(d);
    } finally { state.placing--; }
  }

  const app = {
    get documents() { return state.documents.map(docApi); },
    get activeDocument() { return state.active ? docApi(state.active) : null; },
    echoToOE(s) { post(String(s)); },
    open(url, as, asSmart) {
      if (!asSmart) throw new Error('emulator: only app.open(url, null, true) is modelled');
      if (!state.active) throw new Error('No document to place into');
      place(state.active, url);
    },
  };

  // ---------- Action Manager ----------
  const ids = new Map();
  const charIDToTypeID = (s) => { const k = 'c:' + s; if (!ids.has(k)) ids.set(k, ids.size + 1000); return ids.get(k); };
  const stringIDToTypeID = (s) => { const k = 's:' + s; if (!ids.has(k)) ids.set(k, ids.size + 1000); return ids.get(k); };
  const C = (s) => charIDToTypeID(s);
  class ActionReference {
    constructor() { this.items = []; }
    putProperty(cls, prop) { this.items.push({ kind: 'property', cls, prop }); }
    putEnumerated(cls, type, value) { this.items.push({ kind: 'enum', cls, type, value }); }
    putClass(cls) { this.items.push({ kind: 'class', cls }); }
    putName(cls, name) { this.items.push({ kind: 'name', cls, name }); }
    putIndex(cls, index) { this.items.push({ kind: 'index', cls, index }); }
  }
  class ActionDescriptor {
    constructor() { this.keys = new Map(); }
    putReference(k, r) { this.keys.set(k, { t: 'ref', v: r }); }
    putClass(k, c) { this.keys.set(k, { t: 'class', v: c }); }
    putEnumerated(k, type, value) { this.keys.set(k, { t: 'enum', type, v: value }); }
    putInteger(k, v) { this.keys.set(k, { t: 'int', v }); }
    putString(k, v) { this.keys.set(k, { t: 'str', v }); }
    putBoolean(k, v) { this.keys.set(k, { t: 'bool', v }); }
  }
  const unsupported = () => new Error('General Photoshop error occurred. This functionality may not be available in this version of Photoshop.');

  function executeAction(event, desc) {
    if (state.failOn === 'executeAction') throw unsupported();
    const d = state.active;
    if (!d) throw new Error('No document');
    if (event === C('Dplc')) {
      // Select › Save Selection: the selection as a named alpha channel
      const r0 = desc.keys.get(C('null'))?.v.items[0], name = desc.keys.get(C('Nm  '))?.v;
      if (r0?.kind === 'property' && r0.cls === C('Chnl') && r0.prop === C('fsel') && typeof name === 'string') {
        if (!d.selection) throw new Error('There is no selection.');
        d.channels.set(name, new Uint8ClampedArray(d.selection));
        return new ActionDescriptor();
      }
      throw unsupported();
    }
    if (event === C('Dlt ')) {
      const r0 = desc.keys.get(C('null'))?.v.items[0];
      if (r0?.kind === 'name' && r0.cls === C('Chnl') && d.channels.has(r0.name)) { d.channels.delete(r0.name); return new ActionDescriptor(); }
      throw unsupported();
    }
    if (event === C('setd')) {
      const to = desc.keys.get(C('null')), from = desc.keys.get(C('T   '));
      const t0 = to?.v.items[0], f0 = from?.v.items[0];
      if (t0?.kind === 'property' && t0.cls === C('Chnl') && t0.prop === C('fsel') && f0?.kind === 'name' && f0.cls === C('Chnl')) {
        const ch = d.channels.get(f0.name);
        if (!ch) throw new Error(`No channel "${f0.name}"`);
        d.selection = new Uint8ClampedArray(ch);
        return new ActionDescriptor();
      }
      if (t0?.kind === 'property' && t0.cls === C('Chnl') && t0.prop === C('fsel') && f0?.kind === 'enum' && f0.value === C('Trsp')) {
        const l = d.activeLayer, n = d.width * d.height;
        d.selection = new Uint8ClampedArray(n);
        for (let i = 0; i < n; i++) d.selection[i] = l.px[i * 4 + 3];
        return new ActionDescriptor();
      }
      throw unsupported();
    }
    if (event === C('Mk  ')) {
      const nw = desc.keys.get(C('Nw  ')), at = desc.keys.get(C('At  ')), using = desc.keys.get(C('Usng'));
      if (nw?.v === C('Chnl') && at?.v.items[0]?.value === C('Msk ') && using?.type === C('UsrM')) {
        const l = d.activeLayer, n = d.width * d.height;
        if (l.mask) throw new Error('The layer already has a mask');
        const how = using.v;
        if (how === C('RvlA')) l.mask = new Uint8ClampedArray(n).fill(255);
        else if (how === C('HdAl')) l.mask = new Uint8ClampedArray(n);
        else if (how === C('RvlS')) l.mask = d.selection ? new Uint8ClampedArray(d.selection) : new Uint8ClampedArray(n).fill(255);
        else throw unsupported();
        changed(d);
        return new ActionDescriptor();
      }
    }
    throw unsupported();
  }

  const Globals = {
    app, ActionDescriptor, ActionReference, executeAction, charIDToTypeID, stringIDToTypeID,
    DialogModes: { NO: 'NO', ALL: 'ALL', ERROR: 'ERROR' },
    RasterizeType: { ENTIRELAYER: 'ENTIRELAYER' },
    AnchorPosition: { TOPLEFT: 'TOPLEFT' },
    alert: (m) => console.log('alert:', m),
  };

  /** With a forger frame loaded, let it try to answer first (see forger.html). */
  function forge(src) {
    const m = /"(faceshift:[^"]+)"/.exec(src);
    const forger = document.getElementById('forger').contentWindow;
    if (!m || !q.get('forger')) return Promise.resolve();
    return new Promise((resolve) => {
      const onAck = (e) => { if (e.data && e.data.forged === m[1]) { removeEventListener('message', onAck); state.forged = (state.forged || 0) + 1; resolve(); } };
      addEventListener('message', onAck);
      forger.postMessage({ token: m[1] }, '*');
      setTimeout(resolve, 2000);
    });
  }

  async function runScript(src) {
    if (state.scriptDelay) await new Promise((r) => setTimeout(r, state.scriptDelay)); // a slow Photopea
    await forge(src);
    // have the current pixels ready as PNG, so saveToOE answers in order (file, then "done")
    for (const d of state.documents) d.pngBytes = await d.png;
    state.scripts.push(src);
    if (state.extraDone) post('done'); // like a document event arriving just then
    try {
      new Function(...Object.keys(Globals), src)(...Object.values(Globals));
    } catch (e) {
      state.errors.push(String(e && e.message || e));
      console.error('Photopea script error:', e); // Photopea only logs script errors
    }
    post('done');
  }

  let chain = Promise.resolve();
  window.addEventListener('message', (e) => {
    if (e.source !== frame.contentWindow) return;
    if (typeof e.data === 'string') chain = chain.then(() => runScript(e.data));
    else if (e.data instanceof ArrayBuffer) chain = chain.then(async () => { openDocument('Untitled', await decode(e.data)); post('done'); });
  });

  // ---------- test API ----------
  async function hash(px) {
    const d = new Uint8Array(await crypto.subtle.digest('SHA-256', px));
    return Array.from(d.subarray(0, 12), (b) => b.toString(16).padStart(2, '0')).join('');
  }
  window.emu = {
    state,
    async openPhoto(url, name) { return openDocument(name ?? url.split('/').pop(), await decode(url)).name; },
    closeActive() { if (state.active) closeDocument(state.active); },
    /** the user draws a rectangular selection on the active document */
    select(x, y, w, h) {
      const d = state.active; d.selection = new Uint8ClampedArray(d.width * d.height);
      for (let r = y; r < y + h; r++) d.selection.fill(255, r * d.width + x, r * d.width + x + w);
    },
    async idle() { await chain; while (state.placing) await new Promise((r) => setTimeout(r, 20)); for (const d of state.documents) await d.png; },
    async summary() {
      const docs = [];
      for (const d of state.documents) {
        const layers = [];
        for (const l of d.layers) {
          const b = boundsOf(l);
          let maskSum = 0, maskMax = 0, maskBox = null;
          if (l.mask) {
            maskBox = [d.width, d.height, 0, 0];
            for (let y = 0; y < d.height; y++) for (let x = 0; x < d.width; x++) {
              const v = l.mask[y * d.width + x];
              maskSum += v; if (v > maskMax) maskMax = v;
              if (v) { maskBox[0] = Math.min(maskBox[0], x); maskBox[1] = Math.min(maskBox[1], y); maskBox[2] = Math.max(maskBox[2], x + 1); maskBox[3] = Math.max(maskBox[3], y + 1); }
            }
          }
          layers.push({ name: l.name, kind: l.kind, bounds: b, hash: await hash(l.px), mask: l.mask ? { sum: maskSum, max: maskMax, box: maskBox } : null });
        }
        docs.push({
          name: d.name, width: d.width, height: d.height, layers, selection: !!d.selection, composite: await hash(composite(d).data),
          selectionHash: d.selection ? await hash(d.selection) : null, channels: [...d.channels.keys()],
        });
      }
      return { docs, scripts: state.scripts.length, errors: state.errors };
    },
  };

  // start: open the photo (if any), then load the plugin (Photopea opens plugins on demand)
  (async () => {
    if (q.get('photo')) await window.emu.openPhoto(q.get('photo'));
    if (q.get('forger')) document.getElementById('forger').src = q.get('forger');
    frame.src = q.get('plugin');
    window.emu.loaded = true;
  })();
})();
