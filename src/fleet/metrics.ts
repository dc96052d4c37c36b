/** The fleet's two metrics (docs/operations.md, "Fleet: levers shared over Redis"), on the process's registry. */
import { Counter, Gauge, type Registry } from 'prom-client';

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
