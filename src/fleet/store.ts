/**
 * The fleet's one Redis connection (@redis/client, RESP3: commands and the subscription share it).
 * Commands never wait for a connection: while it is down they fail at once (`disableOfflineQueue`)
 * and the client reconnects on its own, re-subscribing. The owner is told when it is up and down.
 */
import { createClient } from '@redis/client';

export interface StoreListener {
  up(): void;
  down(reason: string): void;
  message(text: string): void;
}

/** Reconnect attempts: quickly at first, then once a second. */
const RETRY_MS = (retries: number) => Math.min(50 * 2 ** retries, 1000);
const CONNECT_TIMEOUT_MS = 1000;
const CLOSE_MS = 1000;

type Client = ReturnType<typeof createClient>;

export class FleetStore {
  readonly #client: Client;
  readonly #channel: string;
  readonly #listener: StoreListener;
  #up = false;
  #subscribed = false;
  #closed = false;

  /** Throws when `url` is not one the client can use (the caller serves without the fleet). */
  /** `name`: the connection's name in Redis (`CLIENT LIST`). */
  constructor(url: string, name: string, channel: string, listener: StoreListener) {
    this.#channel = channel;
    this.#listener = listener;
    this.#client = createClient({
      url,
      name,
      disableOfflineQueue: true,
      socket: { reconnectStrategy: RETRY_MS, connectTimeout: CONNECT_TIMEOUT_MS },
    });
    // Without a listener an `error` event would end the process.
    this.#client.on('error', (err: Error) => this.#down(err.message));
    this.#client.on('reconnecting', () => this.#down('reconnecting'));
    this.#client.on('ready', () => this.#ready());
  }

  get up(): boolean {
    return this.#up;
  }

  /** Connect in the background; resolves at once. */
  start(): void {
    this.#client.connect().catch((err: Error) => this.#down(err.message));
  }

  /** One command; rejects at once while disconnected. */
  command(args: string[]): Promise<unknown> {
    return this.#client.sendCommand(args);
  }

  async close(): Promise<void> {
    this.#closed = true;
    this.#up = false;
    if (!this.#client.isOpen) return;
    if (!this.#client.isReady) return this.#client.destroy();
    // Writes already sent get their answer; past the bound the socket is dropped.
    const timer = setTimeout(() => this.#client.destroy(), CLOSE_MS);
    try {
      await this.#client.close();
    } catch {
      this.#client.destroy();
    } finally {
      clearTimeout(timer);
    }
  }

  #ready(): void {
    if (this.#closed) return;
    if (!this.#subscribed) {
      // Once subscribed, the client subscribes again by itself after each reconnect.
      this.#client.SUBSCRIBE(this.#channel, (text: string) => this.#listener.message(text))
        .then(() => { this.#subscribed = true; })
        .catch((err: Error) => this.#down(err.message));
    }
    this.#up = true;
    this.#listener.up();
  }

  #down(reason: string): void {
    if (this.#closed) return;
    const was = this.#up;
    this.#up = false;
    this.#listener.down(was ? reason : 'unreachable: ' + reason);
  }
}
