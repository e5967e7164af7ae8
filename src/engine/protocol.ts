/**
 * The engine's message protocol, for hosts that run it out of process (the Photoshop panel talks
 * to its webview this way). Messages are plain JSON; pixels travel base64 (the UXP webview bridge
 * carries JSON only). Every request has an `id`; replies carry the same id. Every type a client
 * or the service needs is declared here, once.
 */
import type { Box } from '../core/geometry';
import type { DetectedFace } from '../core/faces';
import { FaceShiftError, FaceShiftErrorCode } from '../core/errors';
import type { EngineInfo, Stage } from './engine';
import type { PreviewOptions } from './preview';

export type { EngineInfo } from './engine';

/** RGBA8 (or one-channel for masks) pixels, base64 */
export interface WireImage { width: number; height: number; channels: 1 | 4; data: string }

export interface PhotoSize { width: number; height: number }

/** The options of a transform, as they cross the bridge. */
export interface WireTransformOptions { direction: string; strength?: number; upscale?: boolean; colorMatch?: boolean }

/** One transformed face: its box in the photo, pixels and mask of that box. `I`: WireImage on the wire, decoded pixels at the ends. */
export interface PatchOf<I> { box: Box; rgba: I; mask: I; face: DetectedFace }

/** A transform's answer (`I` as in PatchOf). */
export interface TransformResultOf<I> {
  model: string;
  upscaler: string | null;
  /** one per face that landed in the photo */
  patches: PatchOf<I>[];
  timings: Record<string, number>;
}

export type WirePatch = PatchOf<WireImage>;

export type Request =
  | { type: 'init'; id: string }
  | { type: 'detect'; id: string; photo: PhotoSize; preview: WireImage }
  /** the regions the engine will read for these faces, with `direction`'s model */
  | { type: 'regions'; id: string; photo: PhotoSize; faces: DetectedFace[]; direction: string }
  | { type: 'transform'; id: string; photo: PhotoSize; faces: DetectedFace[]; regions: { box: Box; image: WireImage }[]; options: WireTransformOptions }
  /** the live preview: a small view around one face (face in view pixels); nothing is upscaled */
  | { type: 'preview'; id: string; view: WireImage; face: DetectedFace; options: Omit<PreviewOptions, 'signal'> }
  | { type: 'cancel'; id: string; target: string };

export type Reply =
  | ({ type: 'ready'; id: string } & EngineInfo)
  | { type: 'faces'; id: string; faces: DetectedFace[] }
  | { type: 'regions'; id: string; boxes: Box[] }
  | { type: 'progress'; id: string; stage: Stage; fraction: number }
  | { type: 'preview'; id: string; image: WireImage }
  | ({ type: 'result'; id: string } & TransformResultOf<WireImage>)
  | { type: 'error'; id: string; code: FaceShiftErrorCode; message: string };

export type ReplyOf<T extends Reply['type']> = Extract<Reply, { type: T }>;

const B64 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';
const LOOKUP = (() => { const t = new Uint8Array(128); for (let i = 0; i < 64; i++) t[B64.charCodeAt(i)] = i; return t; })();

/** base64 without platform APIs (UXP, browsers and Node alike). */
export function toBase64(bytes: Uint8Array | Uint8ClampedArray): string {
  let out = '';
  const n = bytes.length;
  const chunk: string[] = [];
  for (let i = 0; i < n; i += 3) {
    const a = bytes[i], b = i + 1 < n ? bytes[i + 1] : 0, c = i + 2 < n ? bytes[i + 2] : 0;
    const t = (a << 16) | (b << 8) | c;
    chunk.push(B64[(t >> 18) & 63] + B64[(t >> 12) & 63] + (i + 1 < n ? B64[(t >> 6) & 63] : '=') + (i + 2 < n ? B64[t & 63] : '='));
    if (chunk.length === 4096) { out += chunk.join(''); chunk.length = 0; }
  }
  return out + chunk.join('');
}

export function fromBase64(s: string): Uint8ClampedArray {
  const clean = s.replace(/=+$/, '');
  const out = new Uint8ClampedArray(Math.floor((clean.length * 3) / 4));
  let o = 0;
  for (let i = 0; i < clean.length; i += 4) {
    const t = (LOOKUP[clean.charCodeAt(i)] << 18) | (LOOKUP[clean.charCodeAt(i + 1)] << 12)
      | ((i + 2 < clean.length ? LOOKUP[clean.charCodeAt(i + 2)] : 0) << 6) | (i + 3 < clean.length ? LOOKUP[clean.charCodeAt(i + 3)] : 0);
    out[o++] = (t >> 16) & 255;
    if (o < out.length) out[o++] = (t >> 8) & 255;
    if (o < out.length) out[o++] = t & 255;
  }
  return out;
}

export function encodeWireImage(img: { width: number; height: number; data: Uint8ClampedArray }, channels: 1 | 4 = 4): WireImage {
  return { width: img.width, height: img.height, channels, data: toBase64(img.data) };
}

export function decodeWireImage(w: WireImage): { width: number; height: number; data: Uint8ClampedArray } {
  const data = fromBase64(w.data);
  if (data.length !== w.width * w.height * w.channels) {
    throw new FaceShiftError('BAD_INPUT', `Image payload has ${data.length} bytes, expected ${w.width}x${w.height}x${w.channels}.`);
  }
  return { width: w.width, height: w.height, data };
}
