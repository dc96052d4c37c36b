/**
 * The model clients: one undici pool per model endpoint and its settings, shared by every snapshot
 * that names them, rebuilt when a reload changes them. A client no longer named finishes its calls in
 * flight, then closes.
 */
import type { Config, Role } from '../config/types.js';
import { ModelClient, SERVED_CONNECTIONS } from '../upstream/model-client.js';

export class ModelClients {
  readonly #byKey = new Map<string, ModelClient>();

  /** The clients `config` names (made on first use); clients it no longer names are retired. */
  for(config: Config): Record<Role, ModelClient> {
    const used = { champion: this.#client(config, 'champion'), challenger: this.#client(config, 'challenger') };
    for (const [key, client] of this.#byKey) {
      if (client === used.champion || client === used.challenger) continue;
      this.#byKey.delete(key);
      void client.close();
    }
    return used;
  }

  /** Calls in flight to both models. */
  get inflight(): number {
    let n = 0;
    for (const c of this.#byKey.values()) n += c.inflight;
    return n;
  }

  cancelAll(message: string): void {
    for (const c of this.#byKey.values()) c.cancelAll(message);
  }

  async close(): Promise<void> {
    await Promise.all([...this.#byKey.values()].map((c) => c.destroy()));
    this.#byKey.clear();
  }

  #client(config: Config, role: Role): ModelClient {
    const m = config.models[role];
    // Served and shadow calls share a model's pool; shadow calls may hold shadowLimit connections.
    const connections = config.traffic.shadowLimit + SERVED_CONNECTIONS;
    // Everything the client is built from: a reload that changes any of it gets a new pool.
    const key = JSON.stringify([m.url, m.timeoutMs, connections, config.limits.responseBytes, m.ca ?? null, m.headers ?? null, m.paths ?? null, role]);
    let client = this.#byKey.get(key);
    if (!client) {
      client = new ModelClient(m, { connections, responseBytes: config.limits.responseBytes, role });
      this.#byKey.set(key, client);
    }
    return client;
  }
}
