/**
 * Cancellation in the panel without trusting UXP's AbortSignal. UXP documents AbortSignal with
 * `aborted`, `reason` and `throwIfAborted` only ("for web streams"): no events, so
 * `signal.addEventListener('abort')` may not exist, and AbortController itself was missing in some
 * Photoshop versions. The panel code therefore reads only `aborted`, and creates its own tokens.
 */

import type { CancelSignal } from '../../core/errors';

/** Our own cancel token: `cancel()` sets `aborted` and tells whoever subscribed. */
export class CancelToken implements CancelSignal {
  private done = false;
  private readonly subscribers = new Set<() => void>();

  get aborted(): boolean { return this.done; }

  cancel(): void {
    if (this.done) return;
    this.done = true;
    for (const cb of [...this.subscribers]) {
      try { cb(); } catch { /* one subscriber's failure does not stop the others */ }
    }
    this.subscribers.clear();
  }

  /** Call `cb` once when cancelled; returns a function that unsubscribes. */
  subscribe(cb: () => void): () => void {
    if (this.done) { cb(); return () => undefined; }
    this.subscribers.add(cb);
    return () => { this.subscribers.delete(cb); };
  }
}

/** How often a foreign signal (one we cannot subscribe to) is polled. */
export const CANCEL_POLL_MS = 100;

/**
 * Call `cb` once when `signal` becomes aborted. Our CancelToken is subscribed to; any other signal
 * (an AbortSignal, with or without events, or an object with only `aborted`) is polled, so nothing
 * depends on `addEventListener` existing. Returns a function that stops watching.
 */
export function onCancel(signal: CancelSignal | undefined, cb: () => void, pollMs = CANCEL_POLL_MS): () => void {
  if (!signal) return () => undefined;
  if (signal instanceof CancelToken) return signal.subscribe(cb);
  if (signal.aborted) { cb(); return () => undefined; }
  const timer = setInterval(() => {
    if (!signal.aborted) return;
    clearInterval(timer);
    cb();
  }, pollMs);
  return () => clearInterval(timer);
}

/** A signal that is aborted when any of the given ones is (reads `aborted` only). */
export function anySignal(...signals: (CancelSignal | undefined | (() => boolean))[]): CancelSignal {
  return {
    get aborted() {
      return signals.some((s) => (typeof s === 'function' ? s() : s?.aborted === true));
    },
  };
}
