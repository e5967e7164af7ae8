/** Errors of the Photoshop host: every one says what went wrong and what to do. */
import { CANCELLED_MESSAGE, FaceShiftError } from '../../core/errors';

export type PhotoshopErrorCode =
  | 'NO_DOCUMENT' | 'NO_LAYER' | 'BAD_LAYER' | 'BAD_MODE' | 'BAD_DEPTH' | 'BAD_OPTION'
  | 'NO_FACE' | 'FACE_TOO_SMALL' | 'NOTHING_VISIBLE' | 'CANCELLED' | 'BUSY' | 'CHANGED' | 'ENGINE' | 'READ' | 'WRITE';

/** Every error says what went wrong and what to do; the document is unchanged when one is thrown. */
export class PhotoshopError extends Error {
  constructor(readonly code: PhotoshopErrorCode, message: string) {
    super(message);
    this.name = 'PhotoshopError';
  }
}

/**
 * Any error as the panel shows it, mapped by code: the use case's own keep their words (a face
 * number the photo lacks is a bad option here); the engine's other failures are named as such.
 */
export function asPhotoshopError(e: unknown): PhotoshopError {
  if (e instanceof PhotoshopError) return e;
  const message = (e as Error)?.message ?? String(e);
  if (!(e instanceof FaceShiftError)) return new PhotoshopError('ENGINE', `The FaceShift engine failed: ${message}`);
  switch (e.code) {
    case 'CANCELLED': return new PhotoshopError('CANCELLED', CANCELLED_MESSAGE);
    case 'NO_SUCH_FACE': return new PhotoshopError('BAD_OPTION', message);
    case 'NO_FACE': case 'FACE_TOO_SMALL': case 'BAD_OPTION': case 'NOTHING_VISIBLE': return new PhotoshopError(e.code, message);
    default: return new PhotoshopError('ENGINE', `The FaceShift engine failed: ${message}`);
  }
}

function busy(): PhotoshopError {
  return new PhotoshopError('BUSY', 'Photoshop is busy with another plugin or dialog. Nothing was changed; finish that and try again.');
}

/** A failed imaging call: busy (error 9), cancelled in Photoshop's progress bar, or Photoshop's own words. */
export function asPhotoshopCallError(e: unknown, failed: 'READ' | 'WRITE'): PhotoshopError | FaceShiftError {
  if (e instanceof PhotoshopError || e instanceof FaceShiftError) return e;
  const err = e as { number?: number; message?: string };
  if (err?.number === 9) return busy();
  if (/cancel/i.test(err?.message ?? '')) return new PhotoshopError('CANCELLED', CANCELLED_MESSAGE);
  const what = failed === 'READ' ? 'read the layer\'s pixels' : 'add the layer';
  return new PhotoshopError(failed, `Photoshop could not ${what} (${err?.message ?? String(e)}). Nothing was changed.`);
}
