/** Model files from a folder on disk (Node): read with fs, hashed with node:crypto; the manifest read and checked. */
import * as fs from 'fs';
import * as path from 'path';
import * as crypto from 'crypto';
import { ModelFiles, validateManifest, Manifest, ModelFileError } from '../models/manifest';

export function folderModelFiles(dir: string): ModelFiles {
  return {
    async read(file: string) {
      const full = path.resolve(dir, file);
      if (!full.startsWith(path.resolve(dir) + path.sep)) throw new Error(`${file} lies outside the models folder`);
      return new Uint8Array(await fs.promises.readFile(full));
    },
    async sha256(bytes: Uint8Array) { return crypto.createHash('sha256').update(bytes).digest('hex'); },
  };
}

/** models/manifest.json of a folder, validated; every failure says which file and what to do. */
export function readManifestFile(dir: string): Manifest {
  const file = path.join(dir, 'manifest.json');
  if (!fs.existsSync(file)) throw new ModelFileError(`No model manifest at ${file}. Reinstall FaceShift or restore models/ from the repository.`);
  try {
    return validateManifest(JSON.parse(fs.readFileSync(file, 'utf8')));
  } catch (e) {
    const why = (e as Error).message.split('\n')[0].replace(/ Reinstall.*$/, '');
    throw new ModelFileError(`The model manifest ${file} is damaged (${why}). Restore models/ from the release or repository, or reinstall FaceShift.`);
  }
}
