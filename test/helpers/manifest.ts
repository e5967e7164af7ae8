/** The shipped model manifest, read the way every host reads it. */
import * as fs from 'fs';
import * as path from 'path';
import { listDirections, validateManifest, Manifest, TransformModel } from '../../src/models/manifest';

export const MODELS = path.resolve(__dirname, '..', '..', 'models');

export function shippedManifest(): Manifest {
  return validateManifest(JSON.parse(fs.readFileSync(path.join(MODELS, 'manifest.json'), 'utf8')));
}

/** Directions in menu order, as the hosts should list them. */
export function shippedDirections(): string[] {
  return listDirections(shippedManifest()).map((d) => d.direction);
}

export function shippedTransform(direction: string): TransformModel {
  const t = shippedManifest().models.find((m): m is TransformModel => m.task === 'transform' && m.direction === direction);
  if (!t) throw new Error(`no shipped model for ${direction}`);
  return t;
}
