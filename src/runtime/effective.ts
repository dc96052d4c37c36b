/**
 * The effective config: the file's last good config with the levers applied, and its id
 * (docs/design.md#the-levers). A pure function: any process holding the same file config and the
 * same lever values computes the same config and the same id.
 */
import { configId } from '../config/id.js';
import type { Config, LoadedConfig } from '../config/types.js';

/** The lever values that change the effective config (a trip or a ramp schedule's timing do not). */
export interface LeverValues {
  bypass: boolean;
  rolledBack: boolean;
  /** The challenger fraction a ramp schedule moved to; null: the file's. */
  rampFraction: number | null;
}

export interface Effective {
  readonly config: Config;
  readonly id: string;
}

export function effectiveConfig(file: LoadedConfig, levers: LeverValues): Effective {
  const f = file.config;
  const challenger = levers.rolledBack ? 0 : levers.rampFraction ?? f.traffic.challenger;
  const mode = levers.bypass ? 'bypass' : 'normal';
  // Unchanged: the file's own object and id (no hashing).
  if (challenger === f.traffic.challenger && mode === f.mode) return { config: f, id: file.id };
  const config: Config = Object.freeze({ ...f, mode, traffic: Object.freeze({ ...f.traffic, challenger }) });
  return { config, id: configId(config) };
}
