/** A config as a running proxy uses it: read and validated, with its calibration table attached. */
import { attachCalibration } from '../calibration/attach.js';
import { CCR_ERR_CALIBRATION } from '../errors.js';
import { hideEnv, type Env } from './env.js';
import { readConfigFile } from './load.js';
import type { LoadedConfig } from './types.js';

/**
 * Read `file` (readConfigFile) and attach its calibration table. A calibration error may quote a
 * config value (a model's version, the table's path); one that came from the environment is hidden.
 * Throws CCR_ERR_CONFIG_READ, CCR_ERR_CONFIG_INVALID or CCR_ERR_CALIBRATION.
 */
export function loadServingConfig(file: string, env: Env = process.env): LoadedConfig {
  const { loaded, used } = readConfigFile(file, env);
  try {
    return attachCalibration(loaded);
  } catch (err) {
    const message = (err as Error).message;
    const hidden = hideEnv(message, used);
    // A new error, not an edited one: the original's stack and cause still hold the text.
    if (hidden !== message && (err as { code?: unknown }).code === 'CCR_ERR_CALIBRATION') throw new CCR_ERR_CALIBRATION(hidden);
    throw err;
  }
}
