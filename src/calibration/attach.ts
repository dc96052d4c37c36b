/** Loading a config's calibration table with it, so a bad table refuses the config (start or reload). */
import { CCR_ERR_CALIBRATION } from '../errors.js';
import { loadCalibration } from './normalize.js';
import type { Calibration } from './table.js';

/**
 * What attaching reads of a loaded config. Stated here rather than imported: the config folder uses
 * this module, so this module cannot use the config's types without a cycle.
 */
export interface CalibrationTarget {
  readonly config: {
    readonly calibration?: { readonly file: string };
    readonly models: { readonly [role in 'champion' | 'challenger']: { readonly version: string } };
  };
}

/** The loaded config with its calibration table (when `calibration.file` is set); throws CCR_ERR_CALIBRATION. */
export function attachCalibration<T extends CalibrationTarget>(loaded: T): T & { calibration?: Calibration } {
  const cal = loaded.config.calibration;
  if (!cal) return loaded;
  const calibration = loadCalibration(cal.file);
  for (const role of ['champion', 'challenger'] as const) {
    const version = loaded.config.models[role].version;
    if (!Object.prototype.hasOwnProperty.call(calibration.models, version)) {
      throw new CCR_ERR_CALIBRATION(`calibration.file ${cal.file}: no table for models.${role}.version ${JSON.stringify(version)} (run ccrouter calibrate over records that include it)`);
    }
  }
  return { ...loaded, calibration };
}
