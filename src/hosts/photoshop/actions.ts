/**
 * Action recording (Photoshop 25.0+). While the user records an action, a successful run adds one
 * step, "FaceShift male2female", holding the options. Playing the action calls the global
 * function named in the step, `faceshiftPlayback(executionContext, info)`, which runs the same
 * options on the then-active layer without showing the panel.
 *
 * Photoshop stores only the function's name: the function must exist (assigned to globalThis)
 * whenever the action plays, so the plugin installs it when it loads (plugin.ts, the entry
 * point), not when the panel is shown. The recorded keys carry a `faceshift.` prefix so that
 * Photoshop never reads one of them as a key of its own.
 */
import type { FaceSelection } from '../../core/faces';
import { FaceShiftSettings, checkSettings } from '../../app/transform';
import type { FaceShiftController, RunResult } from './controller';
import { PhotoshopError, asPhotoshopError } from './errors';
import type { PhotoshopHost } from './ports';
import { CancelToken, anySignal } from './cancel';

export const PLAYBACK_METHOD = 'faceshiftPlayback';

/** What a recorded step stores: plain JSON, its keys prefixed so none is mistaken for Photoshop's own. */
export interface RecordedOptions {
  'faceshift.direction': string;
  'faceshift.strength': number;
  'faceshift.faces': FaceSelection;
  'faceshift.upscale': boolean;
}

export function stepName(direction: string): string {
  return `FaceShift ${direction}`;
}

export function toRecorded(s: FaceShiftSettings): RecordedOptions {
  return { 'faceshift.direction': s.direction, 'faceshift.strength': s.strength, 'faceshift.faces': s.faces, 'faceshift.upscale': s.upscale };
}

/**
 * Settings back from a step's info (anything recorded by an older or newer version is checked;
 * steps recorded before the keys had their prefix are read too).
 */
export function fromRecorded(info: unknown): FaceShiftSettings {
  const o = (info ?? {}) as Record<string, unknown>;
  const get = (key: string) => (`faceshift.${key}` in o ? o[`faceshift.${key}`] : o[key]);
  const direction = get('direction'), strength = get('strength'), faces = get('faces'), upscale = get('upscale');
  const settings: FaceShiftSettings = {
    direction: String(direction ?? ''),
    strength: typeof strength === 'number' ? strength : 1,
    faces: faces === 'all' || faces === 'largest' ? faces : typeof faces === 'number' ? faces : 'all',
    upscale: typeof upscale === 'boolean' ? upscale : true,
  };
  try { checkSettings(settings); } catch (e) { throw asPhotoshopError(e); }
  return settings;
}

/**
 * After a successful run from the panel: add the step if an action is being recorded. Photoshop
 * ignores the call when nothing is being recorded; a failure here never undoes the run.
 */
export async function recordRun(host: PhotoshopHost, settings: FaceShiftSettings): Promise<boolean> {
  try {
    await host.recordAction({ name: stepName(settings.direction), methodName: PLAYBACK_METHOD }, { ...toRecorded(settings) });
    return true;
  } catch {
    return false;
  }
}

/** The executionContext Photoshop passes on playback (same shape as executeAsModal's). */
export interface PlaybackContext { readonly isCancelled?: boolean; onCancel?: (() => void) | undefined }

export interface PlaybackHooks {
  /** before the run (the panel, if open, can show that an action is running) */
  onStart?(settings: FaceShiftSettings): void;
  onDone?(result: RunResult): void;
  onError?(error: PhotoshopError): void;
}

/**
 * Assign the playback handler on `target` (globalThis in the plugin). It returns undefined so
 * "Record Again" keeps the step's options as they were.
 */
export function installPlayback(target: object, controller: () => FaceShiftController | Promise<FaceShiftController>, hooks: PlaybackHooks = {}): void {
  (target as Record<string, unknown>)[PLAYBACK_METHOD] = async (executionContext: PlaybackContext | undefined, info: unknown): Promise<undefined> => {
    // Our own token (AbortController may be missing in UXP), also cancelled by Photoshop's progress bar
    const token = new CancelToken();
    if (executionContext) {
      try { executionContext.onCancel = () => token.cancel(); } catch { /* read-only in some versions */ }
    }
    const signal = anySignal(token, () => executionContext?.isCancelled === true);
    let settings: FaceShiftSettings;
    try {
      settings = fromRecorded(info);
      hooks.onStart?.(settings);
      const c = await controller();
      const result = await c.run(settings, { signal });
      hooks.onDone?.(result);
    } catch (e) {
      const err = asPhotoshopError(e);
      hooks.onError?.(err);
      // Photoshop stops the action and reports the failure
      throw err;
    }
    return undefined;
  };
}
