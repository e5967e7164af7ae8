/**
 * Every message of the "transform the faces of this document" use case, in one place (as
 * UpscalerJS keeps its errors and warnings in one file; the cancel sentence, shared with the
 * engine, is core/errors.ts CANCELLED_MESSAGE). Each says what went wrong and what to
 * do; the "what to do" part names the host's own controls, which each host supplies once as its
 * HostWords. Hosts map error codes (core/errors.ts) to their statuses, never message text.
 */
import { DetectedFace, faceSize } from '../core/faces';
import { smallestDetectableFace } from '../engine/engine';
import { noModelMessage } from '../models/manifest';

/** The host's words for what the user can do, each a full sentence (or the end of one, where said). */
export interface HostWords {
  /** After "No face was found <where>": e.g. 'in the photo', 'in the document'. Hosts that know the layer pass it when they open the document. */
  where: string;
  /** The end of the no-face sentence, after a colon: e.g. 'use one where a face is visible, or crop it closer around the face.' */
  noFace: string;
  /** How to choose another face: e.g. 'Choose another face, or --faces all.' */
  chooseFace: string;
  /** How to give the faces more pixels: e.g. 'Use a larger photo or a closer crop.' */
  enlarge: string;
}

/** Words for a plain photo, where no host has its own controls to name (scripts, tests). */
export const PHOTO_WORDS: HostWords = {
  where: 'in the photo',
  noFace: 'use one where a face is visible, or crop it closer around the face.',
  chooseFace: 'Choose another face.',
  enlarge: 'Use a larger photo or a closer crop.',
};

export const messages = {
  /** Nothing the detector finds: it never promises a smaller face than it can find in a photo this size. */
  noFace(photo: { width: number; height: number }, words: HostWords, minFaceSize?: number): string {
    return `No face was found ${words.where}. Faces at least about ${smallestDetectableFace(photo.width, photo.height, undefined, minFaceSize)} pixels wide are found in a photo this size: ${words.noFace}`;
  },

  /** "Face 3" on a photo with two. */
  noSuchFace(sentence: string, words: HostWords): string {
    return `${sentence} ${words.chooseFace}`;
  },

  /** Every chosen face is below the minimum. */
  faceTooSmall(chosen: DetectedFace[], minFaceSize: number, words: HostWords): string {
    const largest = Math.round(Math.max(...chosen.map(faceSize)));
    const many = chosen.length > 1;
    return `The face${many ? 's are' : ' is'} too small: ${largest} pixels wide${many ? ' at most' : ''}, and FaceShift needs at least ${minFaceSize}. ${words.enlarge}`;
  },

  /** Why one face of several was left as it was. */
  skipReason(face: DetectedFace, minFaceSize: number): string {
    return `face is ${Math.round(faceSize(face))} px wide, below the ${minFaceSize} px minimum`;
  },

  /** Each face's crop lies outside the photo, so nothing came back. */
  noneTransformed(): string {
    return 'No face could be transformed (each lies too close to the edge of the photo). Nothing was changed.';
  },

  /** The new layer would show nothing: strength 0 with a scaled mask, or a face in fully transparent pixels. */
  nothingVisible(strength: number): string {
    return `Nothing visible would change (${strength === 0 ? 'the strength is 0' : 'the face lies in fully transparent pixels'}).`;
  },

  /** A direction the engine has no model for (the same sentence as the model registry's). */
  noModel(direction: string, known: { direction: string }[]): string {
    return noModelMessage(direction, known.map((d) => d.direction));
  },

  /** The settings a host passed (or an action recorded) are not settings FaceShift can run. */
  noDirection: 'Choose a direction (for example Male → Female).',
  badFaces(faces: unknown): string {
    return `Faces must be "all", "largest" or a face number, got ${JSON.stringify(faces)}.`;
  },
  badUpscale: 'Upscale must be on or off.',

} as const;

/** The first line of an error's message (decoders stack several); FaceShift's own errors are one line already. */
export function errorText(e: unknown): string {
  const m = (e as Error)?.message ?? String(e);
  return m.split(/\r?\n/).map((l) => l.trim()).filter(Boolean)[0] ?? m;
}
