/**
 * What FaceShift can work on in Photoshop, and what to tell the user when it can't. Pure: the
 * controller calls these before reading a single pixel, so a refusal changes nothing. (The
 * settings themselves are checked by the use case: app/transform.ts checkSettings.)
 */
import type { DocumentInfo, LayerInfo, PixelBounds } from './ports';
import { PhotoshopError } from './errors';

const TO_RGB = 'choose Image > Mode > RGB Color, then run FaceShift again';

const MODE_WORDS: Record<string, string> = {
  CMYKColorMode: `This document is in CMYK mode. FaceShift works on RGB photos: ${TO_RGB} (convert back to CMYK afterwards if you need to).`,
  labColorMode: `This document is in Lab Color mode. FaceShift works on RGB photos: ${TO_RGB}.`,
  indexedColorMode: `This document uses indexed colour (a small palette, as in a GIF). FaceShift needs full colour: ${TO_RGB}.`,
  grayscaleMode: `This document is grayscale. FaceShift works on RGB photos: ${TO_RGB} (you can desaturate the new layer afterwards).`,
  bitmapMode: `This document is a 1-bit bitmap. FaceShift works on RGB photos: choose Image > Mode > Grayscale, then Image > Mode > RGB Color.`,
  duotoneMode: `This document is a duotone. FaceShift works on RGB photos: ${TO_RGB}.`,
  multichannelMode: `This document is in Multichannel mode. FaceShift works on RGB photos: ${TO_RGB}.`,
};

const ADJUSTMENTS = new Set([
  'blackAndWhite', 'brightnessContrast', 'channelMixer', 'colorBalance', 'curves', 'exposure', 'gradientMap',
  'hueSaturation', 'inversion', 'levels', 'photoFilter', 'posterize', 'selectiveColor', 'threshold', 'vibrance', 'colorLookup',
]);
const FILLS = new Set(['solidColor', 'gradientFill', 'pattern']);

export function checkDocument(doc: DocumentInfo | null): asserts doc is DocumentInfo {
  if (!doc) throw new PhotoshopError('NO_DOCUMENT', 'No photo is open. Open one (File > Open) and select the layer that holds it.');
  if (doc.mode !== 'RGBColorMode') {
    throw new PhotoshopError('BAD_MODE', MODE_WORDS[doc.mode] ?? `This document's colour mode (${doc.mode}) is not supported. FaceShift works on RGB photos: ${TO_RGB}.`);
  }
  if (doc.bitsPerChannel === 16) {
    throw new PhotoshopError('BAD_DEPTH', 'This document has 16 bits per channel. FaceShift writes 8-bit pixels: choose Image > Mode > 8 Bits/Channel, then run FaceShift again.');
  }
  if (doc.bitsPerChannel === 32) {
    throw new PhotoshopError('BAD_DEPTH', 'This is a 32-bit (HDR) document. FaceShift works on 8-bit photos: choose Image > Mode > 8 Bits/Channel (Photoshop asks how to tone it down), then run FaceShift again.');
  }
  if (doc.bitsPerChannel !== 8) {
    throw new PhotoshopError('BAD_DEPTH', `This document has ${doc.bitsPerChannel} bit(s) per channel. Choose Image > Mode > RGB Color and 8 Bits/Channel, then run FaceShift again.`);
  }
}

/** The one selected layer, if FaceShift can read it. */
export function checkLayer(selected: LayerInfo[]): LayerInfo {
  if (!selected.length) throw new PhotoshopError('NO_LAYER', 'No layer is selected. Click the layer that holds the photo in the Layers panel.');
  if (selected.length > 1) throw new PhotoshopError('NO_LAYER', `${selected.length} layers are selected. Select only the layer that holds the photo.`);
  const layer = selected[0];
  const q = `"${layer.name}"`;
  if (layer.kind !== 'pixel') {
    let what: string;
    if (layer.kind === 'group') what = `The layer ${q} is a group. Open it and select the pixel layer that holds the photo.`;
    else if (layer.kind === 'text') what = `The layer ${q} is a text layer. Select the layer that holds the photo.`;
    else if (layer.kind === 'smartObject') what = `The layer ${q} is a smart object. Rasterize it (Layer > Rasterize > Smart Object) or select a pixel layer, then try again.`;
    else if (ADJUSTMENTS.has(layer.kind)) what = `The layer ${q} is an adjustment layer. Select the layer that holds the photo.`;
    else if (FILLS.has(layer.kind)) what = `The layer ${q} is a fill layer. Select the layer that holds the photo.`;
    else if (layer.kind === 'video') what = `The layer ${q} is a video layer. FaceShift works on still photos: select a pixel layer.`;
    else if (layer.kind === 'threeD') what = `The layer ${q} is a 3D layer. Select a pixel layer that holds a photo.`;
    else what = `The layer ${q} is not a pixel layer (${layer.kind}). Select the layer that holds the photo.`;
    throw new PhotoshopError('BAD_LAYER', what);
  }
  if (layer.bounds.right <= layer.bounds.left || layer.bounds.bottom <= layer.bounds.top) {
    throw new PhotoshopError('BAD_LAYER', `The layer ${q} is empty. Select the layer that holds the photo.`);
  }
  if (!layer.visible) throw new PhotoshopError('BAD_LAYER', `The layer ${q} is hidden. Show it (the eye in the Layers panel) and try again.`);
  if (layer.allLocked) throw new PhotoshopError('BAD_LAYER', `The layer ${q} is locked. Unlock it (the lock icon in the Layers panel) and try again.`);
  return layer;
}

/** The part of the layer that lies on the canvas: what FaceShift reads, and its coordinate frame. */
export function layerFrame(layer: LayerInfo, doc: DocumentInfo): PixelBounds {
  const b = layer.bounds;
  const f = { left: Math.max(0, Math.floor(b.left)), top: Math.max(0, Math.floor(b.top)), right: Math.min(doc.width, Math.ceil(b.right)), bottom: Math.min(doc.height, Math.ceil(b.bottom)) };
  if (f.right <= f.left || f.bottom <= f.top) {
    throw new PhotoshopError('BAD_LAYER', `The layer "${layer.name}" lies outside the canvas. Move it onto the canvas (or choose Image > Reveal All) and try again.`);
  }
  return f;
}
