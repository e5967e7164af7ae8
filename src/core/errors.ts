/**
 * FaceShift's errors and cancellation, below every other layer so that the model registry, the
 * engine, the application and the hosts raise and read the same thing. Every error carries a
 * code (what hosts map to their own words and statuses: never the message text) and a message
 * that names the problem and what to do. Pure.
 */

export type FaceShiftErrorCode =
  /** no face was found (or none could be transformed) */
  | 'NO_FACE'
  /** every chosen face is below the minimum size */
  | 'FACE_TOO_SMALL'
  /** a face number was chosen that the photo does not have */
  | 'NO_SUCH_FACE'
  /** the run would change nothing that shows (fully transparent pixels) */
  | 'NOTHING_VISIBLE'
  /** the pixels handed over cannot be used */
  | 'BAD_INPUT'
  /** an option is out of range or unknown */
  | 'BAD_OPTION'
  /** a model file or the manifest is missing, damaged or inconsistent */
  | 'MODEL'
  | 'CANCELLED'
  /** the engine could not be reached or did not start */
  | 'ENGINE'
  /** anything else: a bug, or a failure FaceShift did not foresee */
  | 'INTERNAL';

export class FaceShiftError extends Error {
  constructor(readonly code: FaceShiftErrorCode, message: string) {
    super(message);
    this.name = 'FaceShiftError';
  }
}

/** The one sentence for a cancelled run (every host shows it as is). */
export const CANCELLED_MESSAGE = 'Cancelled. Nothing was changed.';

export function cancelled(): FaceShiftError {
  return new FaceShiftError('CANCELLED', CANCELLED_MESSAGE);
}

/**
 * All FaceShift asks of a cancel signal: an AbortSignal fits, and so does an object with only
 * `aborted` (UXP's AbortSignal has no events; the Photoshop panel makes its own tokens).
 */
export interface CancelSignal { readonly aborted: boolean }

export function throwIfCancelled(signal?: CancelSignal | null): void {
  if (signal?.aborted) throw cancelled();
}

/** The code of any error: FaceShift's own keep theirs, anything else is INTERNAL. */
export function errorCode(e: unknown): FaceShiftErrorCode {
  return e instanceof FaceShiftError ? e.code : 'INTERNAL';
}
