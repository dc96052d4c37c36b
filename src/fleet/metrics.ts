/** The fleet's two metrics (docs/operations.md, "Fleet: levers shared over Redis"), on the process's registry. */
import { createHash } from 'node:crypto';
import { Counter, Gauge, type Registry } from 'prom-client';
import type { Parsed } from './keys.js';

export interface FleetMetrics {
  readonly connected: Gauge;
  readonly syncErrors: Counter;
}

export function fleetMetrics(registry: Registry): FleetMetrics {
  const connected = new Gauge({
    name: 'ccrouter_fleet_connected',
    help: '1 while this instance is connected to the fleet\'s Redis, else 0',
    registers: [registry],
    // One process holds the connection (the primary with --workers): summed, it stays 0 or 1.
    aggregator: 'sum',
  });
  const syncErrors = new Counter({
    name: 'ccrouter_fleet_sync_errors_total',
    help: 'Values read from the fleet\'s Redis that were malformed (ignored) and commands it refused',
    registers: [registry],
  });
  connected.set(0);
  syncErrors.inc(0);
  return { connected, syncErrors };
}

/**
 * The sync error counter, with what it has already counted: a malformed value is counted once per
 * distinct value per key (a digest, not the value: a key may hold anything, of any size) and never
 * applied; a good value there again clears it, so that a later bad one counts anew.
 */
export class SyncErrors {
  readonly #counter: Counter;
  readonly #bad = new Map<string, string>();

  constructor(counter: Counter) {
    this.#counter = counter;
  }

  /** `parse(raw)`, counting a value that fails its check. */
  checked<T>(key: string, raw: unknown, parse: (raw: unknown) => Parsed<T>): Parsed<T> {
    const p = parse(raw);
    if (p.ok) {
      this.#bad.delete(key);
      return p;
    }
    const text = typeof raw === 'string' ? raw : JSON.stringify(raw) ?? String(raw);
    const digest = createHash('sha256').update(text).digest('hex');
    if (this.#bad.get(key) !== digest) {
      this.#bad.set(key, digest);
      this.#counter.inc();
    }
    return p;
  }

  /** A reply of the wrong shape, or a command Redis refused. */
  count(): null {
    this.#counter.inc();
    return null;
  }

  /** A new file config: its keys start afresh. */
  clear(): void {
    this.#bad.clear();
  }
}
