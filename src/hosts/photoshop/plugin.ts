/**
 * What the plugin does when Photoshop loads it, before (and whether or not) the panel is shown:
 * it defines the action playback handler on the global object, so a recorded FaceShift step
 * plays even if the panel was never opened since Photoshop started, and registers its entry
 * points with UXP (`entrypoints.setup`, once). The panel's UI (index.ts) only listens.
 */
import type { FaceShiftController } from './controller';
import { PlaybackHooks, installPlayback } from './actions';

/** The part of `require('uxp').entrypoints` used here. */
export interface EntryPointsLike { setup(entrypoints: object): void }

export interface PanelEntry {
  /** the panel was shown (its UI can start, refresh its preview) */
  show?(): void;
  hide?(): void;
}

export interface PluginWiring {
  /** where Photoshop looks for the handler named in a recorded step (globalThis in the plugin) */
  globals: object;
  /** UXP's entry points, when running in UXP */
  entrypoints?: EntryPointsLike;
  /** the controller that runs a step; created on first use */
  controller: () => FaceShiftController | Promise<FaceShiftController>;
  /** the panel's id in manifest.json and what it does when shown */
  panel: { id: string } & PanelEntry;
  /** the panel's status line, when it exists */
  hooks?: PlaybackHooks;
}

/**
 * Install the playback handler now (module load is plugin load) and register the entry points;
 * the plugin's `create` installs it again, in case UXP runs it in a fresh context.
 */
export function registerPlugin(w: PluginWiring): void {
  const install = () => installPlayback(w.globals, w.controller, w.hooks);
  install();
  if (!w.entrypoints) return;
  try {
    w.entrypoints.setup({
      plugin: { create() { install(); } },
      panels: {
        [w.panel.id]: {
          show() { w.panel.show?.(); },
          hide() { w.panel.hide?.(); },
        },
      },
    });
  } catch (e) {
    // setup throws if called twice (a reload in the developer tool): the handler is installed anyway
    console.warn(`FaceShift: entrypoints.setup failed (${(e as Error)?.message ?? e}); action playback is installed regardless.`);
  }
}
