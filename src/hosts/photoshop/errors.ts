/** Errors of the Photoshop host: every one says what went wrong and what to do. */
export type PhotoshopErrorCode =
  | 'NO_DOCUMENT' | 'NO_LAYER' | 'BAD_LAYER' | 'BAD_MODE' | 'BAD_DEPTH' | 'BAD_OPTION'
  | 'NO_FACE' | 'FACE_TOO_SMALL' | 'CANCELLED' | 'BUSY' | 'CHANGED' | 'ENGINE' | 'READ' | 'WRITE';

/** Every error says what went wrong and what to do; the document is unchanged when one is thrown. */
export class PhotoshopError extends Error {
  constructor(readonly code: PhotoshopErrorCode, message: string) {
    super(message);
    this.name = 'PhotoshopError';
  }
}

export const CANCELLED_MESSAGE = 'Cancelled. Nothing was changed.';
