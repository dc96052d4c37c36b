/** Applying a config reload to a running process, with its event and metric (SPEC 3, 6, 7). */
import { reloadConfig } from '../config/reload.js';
import type { Runtime } from './runtime.js';

export function applyReload(rt: Runtime, file: string, force: boolean, env?: NodeJS.ProcessEnv): void {
  const r = reloadConfig(file, rt.fileConfig, force, env);
  if (r.result === 'unchanged') return;
  if (r.result === 'rejected') {
    rt.metrics.configReloads.inc({ result: 'rejected' });
    rt.event('config_rejected', { reason: r.reason });
    return;
  }
  rt.loadFileConfig(r.loaded);
  rt.metrics.configReloads.inc({ result: 'loaded' });
  rt.event('config_loaded', { restartRequired: r.restartRequired });
}
