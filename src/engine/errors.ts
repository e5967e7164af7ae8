/** Every error the engine raises names the problem and what to do about it. */
export type FaceShiftErrorCode =
  | 'NO_FACE' | 'FACE_TOO_SMALL' | 'BAD_INPUT' | 'MODEL' | 'CANCELLED' | 'BAD_OPTION';

export class FaceShiftError extends Error {
  constructor(readonly code: FaceShiftErrorCode, message: string) {
    super(message);
    this.name = 'FaceShiftError';
  }
}

export function cancelled(): FaceShiftError {
  return new FaceShiftError('CANCELLED', 'Cancelled. Nothing was changed.');
}

export function throwIfAborted(signal?: AbortSignal): void {
  if (signal?.aborted) throw cancelled();
}
