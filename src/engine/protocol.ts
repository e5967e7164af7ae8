/**
 * The engine's message protocol, for hosts that run it out of process (the Photoshop panel talks
 * to its webview this way). Messages are plain JSON; pixels travel base64 (the UXP webview bridge
 * carries JSON only). Every request has an `id`; replies carry the same id.
 */
import type { Box } from '../core/geometry';
import type { DetectedFace } from '../core/faces';
import type { Stage } from './engine';
import type { FaceShiftErrorCode } from './errors';

/** RGBA8 (or one-channel for masks) pixels, base64 */
export interface WireImage { width: number; height: number; channels: 1 | 4; data: string }

export type Request =
  | { type: 'init'; id: string }
  | { type: 'detect'; id: string; photo: { width: number; height: number }; preview: WireImage }
  | { type: 'regions'; id: string; photo: { width: number; height: number }; faces: DetectedFace[] }
  | {
    type: 'transform'; id: string; photo: { width: number; height: number }; faces: DetectedFace[];
    regions: { box: Box; image: WireImage }[];
    options: { direction: string; strength?: number; upscale?: boolean; colorMatch?: boolean; minFaceSize?: number };
  }
  /** the live preview: a small view around one face (face in view pixels); nothing is upscaled */
  | { type: 'preview'; id: string; view: WireImage; face: DetectedFace; options: { direction: string; strength?: number } }
  | { type: 'cancel'; id: string; target: string };

export interface WirePatch { box: Box; rgba: WireImage; mask: WireImage; face: DetectedFace }

export type Reply =
  | { type: 'ready'; id: string; runtime: string; backend: 'webgpu' | 'wasm' | 'native'; directions: { direction: string; label: string }[]; minFaceSize: number }
  | { type: 'faces'; id: string; faces: DetectedFace[] }
  | { type: 'regions'; id: string; boxes: Box[] }
  | { type: 'progress'; id: string; stage: Stage; fraction: number }
  | { type: 'preview'; id: string; image: WireImage }
  | { type: 'result'; id: string; model: string; upscaler: string | null; patches: WirePatch[]; skipped: { face: DetectedFace; reason: string }[]; timings: Record<string, number> }
  | { type: 'error'; id: string; code: FaceShiftErrorCode | 'INTERNAL'; message: string };

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

export function encodeImage(img: { width: number; height: number; data: Uint8ClampedArray }, channels: 1 | 4 = 4): WireImage {
  return { width: img.width, height: img.height, channels, data: toBase64(img.data) };
}

export function decodeImage(w: WireImage): { width: number; height: number; data: Uint8ClampedArray } {
  const data = fromBase64(w.data);
  if (data.length !== w.width * w.height * w.channels) {
    throw new Error(`Image payload has ${data.length} bytes, expected ${w.width}x${w.height}x${w.channels}.`);
  }
  return { width: w.width, height: w.height, data };
}
