/**
 * How the use case talks to the engine: one port, two adapters. `localEngine` runs a FaceEngine in
 * this process (the command line, the Photopea page); `remoteEngine` speaks the engine's message
 * protocol (src/engine/protocol.ts) through a client, as the Photoshop panel does with its
 * webview: it reads the small copy and the face regions from the source itself and sends them.
 */
import type { Box } from '../core/geometry';
import type { DetectedFace } from '../core/faces';
import type { RGBAImage } from '../core/image';
import { CancelSignal, throwIfCancelled } from '../core/errors';
import { EngineInfo, FaceEngine, PhotoSource, Stage, previewMaxSide } from '../engine/engine';
import type { RegionPixels } from '../engine/sources';
import { PreviewOptions, renderPreview } from '../engine/preview';
import type { PhotoSize, TransformResultOf, WireTransformOptions } from '../engine/protocol';

/** A transform's answer, pixels decoded. */
export type TransformResult = TransformResultOf<RGBAImage>;

export interface PortProgress {
  /** 'read': the face regions being read (hosts that send them); then the engine's steps */
  stage: 'read' | Stage;
  /** 0..1 over this call */
  fraction: number;
  face?: number;
  faces?: number;
}

export interface PortCall {
  signal?: CancelSignal;
  onProgress?: (p: PortProgress) => void;
}

/** The preview's options, as they cross the bridge (engine/preview.ts PreviewOptions without the signal). */
export type PreviewRequestOptions = Omit<PreviewOptions, 'signal'>;

export interface EnginePort {
  info(call?: PortCall): Promise<EngineInfo>;
  detect(source: PhotoSource, call?: PortCall): Promise<DetectedFace[]>;
  /** The photo rectangle the engine reads for a face with `direction`'s model. */
  regionFor(face: DetectedFace, photo: PhotoSize, direction: string, call?: PortCall): Promise<Box>;
  /** Read what the engine needs and transform exactly these faces. */
  transform(source: PhotoSource, faces: DetectedFace[], options: WireTransformOptions, call?: PortCall): Promise<TransformResult>;
  /** The view with the face (in view pixels) transformed, small and without upscaling (engine/preview.ts). */
  preview(view: RGBAImage, face: DetectedFace, options: PreviewRequestOptions, call?: PortCall): Promise<RGBAImage>;
}

/** The engine in this process. */
export function localEngine(engine: FaceEngine, backend: EngineInfo['backend']): EnginePort {
  return {
    async info() { return engine.info(backend); },
    detect: (source, call = {}) => engine.detect(source, call.signal),
    async regionFor(face, photo, direction) { return engine.regionFor(face, photo, direction); },
    async transform(source, faces, options, call = {}) {
      const r = await engine.run(source, {
        ...options, signal: call.signal,
        onProgress: (p) => call.onProgress?.({ stage: p.stage, fraction: p.fraction, face: p.face, faces: p.faces }),
      }, faces);
      return { model: r.model, upscaler: r.upscaler, timings: r.timings, patches: r.faces.map((f) => ({ ...f.patch, face: f.face })) };
    },
    preview: (view, face, options, call = {}) => renderPreview(engine, view, face, { ...options, signal: call.signal }),
  };
}

/** The calls of the engine's message protocol, pixels decoded (hosts/photoshop/webview-client.ts is one). */
export interface EngineProtocolClient {
  init(call?: PortCall): Promise<EngineInfo>;
  detect(photo: PhotoSize, preview: RGBAImage, call?: PortCall): Promise<DetectedFace[]>;
  regions(photo: PhotoSize, faces: DetectedFace[], direction: string, call?: PortCall): Promise<Box[]>;
  transform(req: { photo: PhotoSize; faces: DetectedFace[]; regions: RegionPixels[]; options: WireTransformOptions }, call?: PortCall): Promise<TransformResult>;
  preview(req: { view: RGBAImage; face: DetectedFace; options: PreviewRequestOptions }, call?: PortCall): Promise<RGBAImage>;
}

/**
 * The engine out of process, through its protocol. Detection gets a small copy of the photo;
 * a transform gets only the face regions the engine asks for, read here (progress 'read').
 */
export function remoteEngine(client: EngineProtocolClient): EnginePort {
  let info: Promise<EngineInfo> | null = null;
  const size = (s: PhotoSource): PhotoSize => ({ width: s.width, height: s.height });
  return {
    info(call = {}) {
      if (!info) info = client.init({ signal: call.signal }).catch((e: unknown) => { info = null; throw e; });
      return info;
    },
    async detect(source, call = {}) {
      const preview = await source.readPreview(previewMaxSide(source.width, source.height));
      throwIfCancelled(call.signal);
      return client.detect(size(source), preview, { signal: call.signal });
    },
    async regionFor(face, photo, direction, call = {}) {
      const [box] = await client.regions(photo, [face], direction, { signal: call.signal });
      return box;
    },
    async transform(source, faces, options, call = {}) {
      const { signal, onProgress } = call;
      const boxes = await client.regions(size(source), faces, options.direction, { signal });
      const regions: RegionPixels[] = [];
      for (let i = 0; i < boxes.length; i++) {
        throwIfCancelled(signal);
        onProgress?.({ stage: 'read', fraction: i / boxes.length });
        regions.push({ box: boxes[i], image: await source.readRegion(boxes[i]) });
      }
      throwIfCancelled(signal);
      return client.transform({ photo: size(source), faces, regions, options }, { signal, onProgress });
    },
    preview: (view, face, options, call = {}) => client.preview({ view, face, options }, { signal: call.signal }),
  };
}
