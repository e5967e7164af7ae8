/**
 * What the Photoshop host needs from Photoshop: uxp-host.ts is the real one (over
 * `require('photoshop')`), the tests use a simulator (test/photoshop/simulator). Types only.
 */

/** A rectangle as the imaging API takes it: left/top inclusive, right/bottom exclusive. */
export interface PixelBounds { left: number; top: number; right: number; bottom: number }

export interface DocumentInfo {
  id: number;
  title: string;
  width: number;
  height: number;
  /** constants.DocumentMode: "RGBColorMode", "CMYKColorMode", "labColorMode", "indexedColorMode", ... */
  mode: string;
  /** 1, 8, 16 or 32 */
  bitsPerChannel: number;
}

export interface LayerInfo {
  id: number;
  name: string;
  /** constants.LayerKind: "pixel", "group", "text", "smartObject", "solidColor", "curves", ... */
  kind: string;
  visible: boolean;
  /** the layer's own "lock all" */
  allLocked: boolean;
  pixelsLocked: boolean;
  isBackground: boolean;
  /** boundsNoEffects: where the layer has pixels (empty layers: zero width or height) */
  bounds: PixelBounds;
}

/** Interleaved 8-bit pixels as the imaging API hands them over (components: 1 gray, 3 RGB, 4 RGBA). */
export interface PixelData { width: number; height: number; components: number; data: Uint8Array | Uint8ClampedArray }

export interface PixelsRead extends PixelData {
  /** the bounds actually read (trimmed to the layer's pixels; relative to the pyramid level) */
  sourceBounds: PixelBounds;
  /** pyramid level used (0 = full resolution) */
  level: number;
}

export interface HistorySuspension { historySuspensionID: number }

/** The part of executeAsModal's executionContext FaceShift uses (same shape as Photoshop's). */
export interface ModalContext {
  readonly isCancelled: boolean;
  onCancel?: (() => void) | undefined;
  reportProgress(p: { value?: number; commandName?: string }): void;
  hostControl: {
    suspendHistory(o: { documentID: number; name: string }): Promise<HistorySuspension>;
    resumeHistory(s: HistorySuspension & { finalName?: string }, commit?: boolean): Promise<void>;
  };
}

export interface PhotoshopHost {
  activeDocument(): DocumentInfo | null;
  /** The layers selected in the Layers panel, top first. */
  activeLayers(documentID: number): LayerInfo[];
  layer(documentID: number, layerID: number): LayerInfo | null;
  /** The layer directly below this one in the Layers panel (same group), or null. */
  layerBelow(documentID: number, layerID: number): LayerInfo | null;
  /** imaging.getPixels of one layer. Photoshop wants it inside executeAsModal (layer-io.ts does that). */
  getPixels(o: { documentID: number; layerID: number; sourceBounds?: PixelBounds; targetSize?: { width?: number; height?: number } }): Promise<PixelsRead>;
  // Writes: Photoshop refuses them outside executeAsModal.
  /** A new empty pixel layer directly above `above`. */
  createPixelLayer(o: { documentID: number; name: string; above: number }): Promise<LayerInfo>;
  deleteLayer(o: { documentID: number; layerID: number }): Promise<void>;
  /** imaging.putPixels (replace: true) with the image's top-left at targetBounds. */
  putPixels(o: { documentID: number; layerID: number; image: PixelData; targetBounds: { left: number; top: number }; commandName?: string }): Promise<void>;
  /** imaging.putLayerMask (kind "user", replace: true) from one-component grayscale data. */
  putLayerMask(o: { documentID: number; layerID: number; mask: PixelData; targetBounds: { left: number; top: number }; commandName?: string }): Promise<void>;
  executeAsModal<T>(fn: (ctx: ModalContext) => Promise<T>, o: { commandName: string }): Promise<T>;
  /** action.recordAction: adds a step to the action being recorded (nothing when none is). */
  recordAction(o: { name: string; methodName: string }, info: Record<string, unknown>): Promise<void>;
}

/** Where FaceShift reads and writes, for the current selection. */
export interface Target {
  doc: DocumentInfo;
  /** the layer FaceShift reads */
  layer: LayerInfo;
  /** the part of the layer on the canvas: what FaceShift reads, and its coordinate frame */
  frame: PixelBounds;
  /** the selected layer: the source, or a FaceShift layer above it (the new layer goes above this one) */
  selected: LayerInfo;
}
