/**
 * The scripts FaceShift runs inside Photopea (bodies for PhotopeaBridge.run, which adds `__out`
 * and the error/end reporting). Photopea's scripting follows Photoshop's DOM (app, documents,
 * layers, bounds, translate, executeAction with Action Descriptors); see docs/photopea.md for
 * what each call relies on. Pure string building: no DOM.
 */
import type { Box } from '../../core/geometry';

/** What identifies the document we read, so we never write into a different one. */
export interface DocumentSignature { name: string; width: number; height: number }

/** Error messages our scripts throw on purpose (mapped to plain-language messages by the panel). */
export const SCRIPT_ERRORS = {
  noDocument: 'FACESHIFT_NO_DOCUMENT',
  documentChanged: 'FACESHIFT_DOCUMENT_CHANGED',
  layerLost: 'FACESHIFT_LAYER_LOST',
  placedWrong: 'FACESHIFT_PLACED_WRONG',
} as const;

const js = (v: unknown) => JSON.stringify(v);

/** Helpers every body may use. Bounds may be numbers or UnitValues depending on the host. */
const HELPERS = `
function __num(v){ return typeof v == "number" ? v : (v && v.value !== undefined ? v.value : parseFloat(v)); }
function __count(ls){ var c = 0; for (var i = 0; i < ls.length; i++) { c++; if (ls[i].layers) c += __count(ls[i].layers); } return c; }
function __find(ls, name){ for (var i = 0; i < ls.length; i++) { if (ls[i].name == name) return ls[i]; if (ls[i].layers) { var r = __find(ls[i].layers, name); if (r) return r; } } return null; }
function __doc(){ if (!app.documents.length) throw new Error(${js(SCRIPT_ERRORS.noDocument)}); return app.activeDocument; }
function __same(sig){ var d = __doc(); if (d.name != sig.name || __num(d.width) != sig.width || __num(d.height) != sig.height) throw new Error(${js(SCRIPT_ERRORS.documentChanged)}); return d; }
function __bounds(l){ var b = l.bounds; var x = __num(b[0]), y = __num(b[1]); return { x: x, y: y, width: __num(b[2]) - x, height: __num(b[3]) - y }; }
function __dialogs(){ return typeof DialogModes != "undefined" ? DialogModes.NO : undefined; }
function __hasSelection(d){ try { var b = d.selection.bounds; return !!b && __num(b[2]) > __num(b[0]) && __num(b[3]) > __num(b[1]); } catch (e) { return false; } }
function __chnlByName(name){ var r = new ActionReference(); r.putName(charIDToTypeID("Chnl"), name); return r; }
function __fsel(){ var r = new ActionReference(); r.putProperty(charIDToTypeID("Chnl"), charIDToTypeID("fsel")); return r; }
`;

const body = (s: string) => HELPERS + s;

/** Reports the active document's signature, or null when none is open. */
export function activeDocumentScript(): string {
  return body(`if (!app.documents.length) { __out(null); } else { var d = app.activeDocument; __out({ name: String(d.name), width: __num(d.width), height: __num(d.height) }); }`);
}

/** Reports the active document's signature and sends its flattened pixels as PNG. */
export function exportDocumentScript(): string {
  return body(`var d = __doc(); __out({ name: String(d.name), width: __num(d.width), height: __num(d.height) }); d.saveToOE("png");`);
}

/**
 * Starts placing an image as a new layer of the document (app.open with asSmart: Photopea adds it
 * to the current document, asynchronously: the layer appears after the script ends). The new layer
 * goes above `above` (a layer name) or at the top. Reports the layer count before.
 */
export function placeImageScript(doc: DocumentSignature, dataUrl: string, above: string | null): string {
  return body(`var d = __same(${js(doc)});
var a = ${above === null ? 'd.layers.length ? d.layers[0] : null' : `__find(d.layers, ${js(above)})`};
if (${above === null ? 'false' : '!a'}) throw new Error(${js(SCRIPT_ERRORS.layerLost)});
if (a) d.activeLayer = a;
__out({ count: __count(d.layers) });
app.open(${js(dataUrl)}, null, true);`);
}

/** Reports the layer count (to see when a placed image has arrived). */
export function layerCountScript(doc: DocumentSignature): string {
  return body(`var d = __same(${js(doc)}); __out({ count: __count(d.layers) });`);
}

/**
 * Names the just-placed (active) layer and moves it so its top-left corner is the box's. If the
 * host scaled it while placing (resolution), it is scaled back first. Reports its final bounds.
 */
export function positionPlacedScript(doc: DocumentSignature, name: string, box: Box): string {
  return body(`var d = __same(${js(doc)}); var box = ${js(box)};
var l = d.activeLayer; var b = __bounds(l);
if (Math.abs(b.width / b.height - box.width / box.height) > 0.02 * box.width / box.height) throw new Error(${js(SCRIPT_ERRORS.placedWrong)} + " " + b.width + "x" + b.height);
l.name = ${js(name)};
if (b.width != box.width || b.height != box.height) { l.resize(box.width / b.width * 100, box.height / b.height * 100, AnchorPosition.TOPLEFT); b = __bounds(l); }
if (b.x != box.x || b.y != box.y) l.translate(box.x - b.x, box.y - b.y);
__out(__bounds(l));`);
}

/**
 * Gives the face layer its mask: the mask image was placed as a layer whose transparency is the
 * soft mask; its transparency is loaded as a selection, the helper is deleted, and the face layer
 * gets a mask that reveals the selection (Action Manager: set selection to transparency; make
 * mask "reveal selection"). Then the face layer gets its final name.
 *
 * A selection the user had is kept: saved first as an alpha channel (Select › Save Selection:
 * *duplicate* `Chnl/fsel` with a name), loaded back afterwards (*set* `Chnl/fsel` *to* the channel)
 * and the channel deleted, also when a step in between fails. Reports whether one was restored.
 */
export function applyMaskScript(doc: DocumentSignature, faceLayer: string, maskLayer: string, finalName: string, savedSelection: string): string {
  return body(`var d = __same(${js(doc)});
var f = __find(d.layers, ${js(faceLayer)}); var m = __find(d.layers, ${js(maskLayer)});
if (!f || !m) throw new Error(${js(SCRIPT_ERRORS.layerLost)});
var saved = null;
if (__hasSelection(d)) {
  var sv = new ActionDescriptor(); sv.putReference(charIDToTypeID("null"), __fsel()); sv.putString(charIDToTypeID("Nm  "), ${js(savedSelection)});
  executeAction(charIDToTypeID("Dplc"), sv, __dialogs());
  saved = ${js(savedSelection)};
}
try {
d.activeLayer = m;
var sel = new ActionDescriptor(); var to = new ActionReference(); var from = new ActionReference();
to.putProperty(charIDToTypeID("Chnl"), charIDToTypeID("fsel"));
from.putEnumerated(charIDToTypeID("Chnl"), charIDToTypeID("Chnl"), charIDToTypeID("Trsp"));
sel.putReference(charIDToTypeID("null"), to); sel.putReference(charIDToTypeID("T   "), from);
executeAction(charIDToTypeID("setd"), sel, __dialogs());
m.remove();
d.activeLayer = f;
try { if (f.rasterize && typeof RasterizeType != "undefined") f.rasterize(RasterizeType.ENTIRELAYER); } catch (e) {}
var mk = new ActionDescriptor(); var at = new ActionReference();
mk.putClass(charIDToTypeID("Nw  "), charIDToTypeID("Chnl"));
at.putEnumerated(charIDToTypeID("Chnl"), charIDToTypeID("Chnl"), charIDToTypeID("Msk "));
mk.putReference(charIDToTypeID("At  "), at);
mk.putEnumerated(charIDToTypeID("Usng"), charIDToTypeID("UsrM"), charIDToTypeID("RvlS"));
executeAction(charIDToTypeID("Mk  "), mk, __dialogs());
f.name = ${js(finalName)};
} finally {
  d.selection.deselect();
  if (saved) {
    var ld = new ActionDescriptor(); ld.putReference(charIDToTypeID("null"), __fsel()); ld.putReference(charIDToTypeID("T   "), __chnlByName(saved));
    executeAction(charIDToTypeID("setd"), ld, __dialogs());
    var dl = new ActionDescriptor(); dl.putReference(charIDToTypeID("null"), __chnlByName(saved));
    executeAction(charIDToTypeID("Dlt "), dl, __dialogs());
  }
}
__out({ bounds: __bounds(f), selectionRestored: !!saved });`);
}

/** Removes every layer whose name starts with the prefix (undoing a half-finished insert). */
export function removeLayersScript(doc: DocumentSignature, prefix: string): string {
  return body(`var d = __same(${js(doc)}); var p = ${js(prefix)}; var n = 0;
function sweep(ls){ for (var i = ls.length - 1; i >= 0; i--) { var l = ls[i]; if (String(l.name).indexOf(p) == 0) { l.remove(); n++; } else if (l.layers) sweep(l.layers); } }
sweep(d.layers);
__out({ removed: n });`);
}
