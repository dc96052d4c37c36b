/**
 * Whether this instance is connected to the fleet's Redis, and telling it (docs/operations.md, "Fleet:
 * levers shared over Redis"): the gauge always, and on stderr and as an event once per change — the
 * first failure at start-up included, a reconnection after it too.
 */
import type { Gauge } from 'prom-client';

export interface LinkOutputs {
  /** A line for the operator (stderr). */
  tell(line: string): void;
  /** `fleet_connected` / `fleet_disconnected`. */
  event(type: 'fleet_connected' | 'fleet_disconnected', fields?: Record<string, unknown>): void;
  gauge: Gauge;
}

export class FleetLink {
  readonly #out: LinkOutputs;
  #connected = false;
  /** The connection's state has been announced once (connected, or not reachable at start). */
  #announced = false;

  constructor(out: LinkOutputs) {
    this.#out = out;
  }

  get connected(): boolean {
    return this.#connected;
  }

  /** The URL cannot be used at all: said once; the instance never connects until a restart. */
  unusable(why: string): void {
    this.#announced = true;
    this.#out.tell(`ccrouter: fleet.redis is not a usable Redis URL (${why}); serving with this instance's levers only until a restart with a good URL`);
    this.#out.event('fleet_disconnected', { reason: 'invalid fleet.redis URL' });
  }

  up(): void {
    if (this.#connected) return;
    this.#connected = true;
    this.#out.gauge.set(1);
    if (this.#announced) this.#out.tell('ccrouter: fleet: connected to Redis; levers are shared again');
    this.#announced = true;
    this.#out.event('fleet_connected');
  }

  /** The fleet is closed (shutdown): no longer connected, whatever the connection does now. */
  closed(): void {
    this.#out.gauge.set(0);
  }

  down(reason: string): void {
    if (this.#connected || !this.#announced) {
      const what = this.#connected ? 'connection lost' : 'not reachable';
      this.#out.tell(`ccrouter: fleet: Redis ${what} (${reason}); serving with the last levers known, retrying`);
      this.#out.event('fleet_disconnected', { reason: what });
    }
    this.#connected = false;
    this.#announced = true;
    this.#out.gauge.set(0);
  }
}
