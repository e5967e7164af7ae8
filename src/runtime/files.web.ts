/**
 * Model files in the browser (Photopea page, Photoshop engine page): fetched from a folder beside
 * the page, hashed with WebCrypto (or in JS where WebCrypto is missing).
 */
import type { ModelFiles } from '../models/manifest';
import { sha256Hex } from './sha256';

/** An absolute URL: `url` against `base`, default the page's address. */
export function resolveUrl(url: string, base?: string): string {
  return new URL(url, base ?? document.baseURI).href;
}

/** GET a file as bytes; XMLHttpRequest where fetch refuses the scheme (some webviews' file URLs). */
async function getBytes(url: string): Promise<Uint8Array> {
  let res: Response;
  try {
    res = await fetch(url);
  } catch (e) {
    return new Promise((ok, fail) => {
      const x = new XMLHttpRequest();
      x.open('GET', url);
      x.responseType = 'arraybuffer';
      x.onload = () => (x.status === 0 || (x.status >= 200 && x.status < 300) ? ok(new Uint8Array(x.response as ArrayBuffer)) : fail(new Error(`HTTP ${x.status}`)));
      x.onerror = () => fail(new Error((e as Error).message));
      x.send();
    });
  }
  if (!res.ok) throw new Error(`HTTP ${res.status} for ${url}`);
  return new Uint8Array(await res.arrayBuffer());
}

/** SHA-256 as hex: WebCrypto where the page has it (secure contexts), else the pure-JS digest. */
export async function sha256Web(bytes: Uint8Array): Promise<string> {
  const subtle = globalThis.crypto?.subtle;
  if (!subtle) return sha256Hex(bytes);
  const digest = new Uint8Array(await subtle.digest('SHA-256', bytes as Uint8Array<ArrayBuffer>));
  return Array.from(digest, (b) => b.toString(16).padStart(2, '0')).join('');
}

/** Model files under a base URL. */
export function webModelFiles(baseUrl: string): ModelFiles {
  const base = resolveUrl(baseUrl.endsWith('/') ? baseUrl : `${baseUrl}/`);
  return { read: (file) => getBytes(resolveUrl(file, base)), sha256: sha256Web };
}
