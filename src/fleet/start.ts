/** The fleet of the process that owns the levers, when the config has `fleet` (docs/operations.md). */
import type { Runtime } from '../runtime/runtime.js';
import { Fleet, type FleetOptions } from './fleet.js';

/** Start sharing `rt`'s levers; null without `fleet`. Never waits for Redis. */
export function startFleet(rt: Runtime, options: FleetOptions = {}): Fleet | null {
  const cfg = rt.fileConfig.config.fleet;
  return cfg === undefined ? null : new Fleet(rt, cfg, options);
}
