/** Loading a config's calibration table with it, so a bad table refuses the config (start or reload). */
import { CCR_ERR_CALIBRATION } from '../errors.js';
import type { LoadedConfig } from '../config/types.js';
import { loadCalibration } from './normalize.js';

/** The loaded config with its calibration table (when `calibration.file` is set); throws CCR_ERR_CALIBRATION. */
export function attachCalibration(loaded: LoadedConfig): LoadedConfig {
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
