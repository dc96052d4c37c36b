/**
 * A headless Chromium driven over the Chrome DevTools Protocol (a WebSocket from undici, no other
 * dependency): launch with a fresh profile and no network features, open pages, evaluate, and listen
 * for calls of a binding that only injected script could make.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { WebSocket } from 'undici';

export const CHROMIUM = process.env.CCR_TEST_CHROMIUM ?? '/usr/bin/chromium';

/** Why the browser tests cannot run here, or null when they can. */
export function chromiumMissing(): string | null {
  try {
    fs.accessSync(CHROMIUM, fs.constants.X_OK);
    return null;
  } catch {
    return `no Chromium at ${CHROMIUM} (install Debian's chromium, or set CCR_TEST_CHROMIUM): the HTML injection tests in a real browser did not run`;
  }
}

// Every step is bounded: a browser that hangs fails the test instead of holding the suite.
const STEP_MS = 30_000;

type Json = Record<string, any>;

function killGroup(proc: ChildProcess): void {
  try {
    if (proc.pid !== undefined) process.kill(-proc.pid, 'SIGKILL');
  } catch {
    proc.kill('SIGKILL');
  }
}

export class Browser {
  readonly #proc: ChildProcess;
  readonly #profile: string;
  readonly #ws: WebSocket;
  #next = 1;
  readonly #pending = new Map<number, { resolve: (v: Json) => void; reject: (e: Error) => void }>();
  readonly #listeners: ((method: string, params: Json, sessionId?: string) => void)[] = [];

  private constructor(proc: ChildProcess, profile: string, ws: WebSocket) {
    this.#proc = proc;
    this.#profile = profile;
    this.#ws = ws;
    ws.addEventListener('message', (ev) => {
      const msg = JSON.parse(String(ev.data)) as Json;
      if (msg.id !== undefined) {
        const p = this.#pending.get(msg.id);
        this.#pending.delete(msg.id);
        if (msg.error) p?.reject(new Error(`CDP: ${JSON.stringify(msg.error)}`));
        else p?.resolve(msg.result ?? {});
      } else {
        for (const l of this.#listeners) l(msg.method, msg.params ?? {}, msg.sessionId);
      }
    });
  }

  static async launch(): Promise<Browser> {
    const profile = fs.mkdtempSync(path.join(os.tmpdir(), 'ccr-chromium-'));
    const proc = spawn(CHROMIUM, [
      '--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync',
      `--user-data-dir=${profile}`, '--remote-debugging-port=0', 'about:blank',
    // Its own process group: closing kills the renderers and helpers with it.
    ], { stdio: ['ignore', 'ignore', 'pipe'], detached: true });
    try {
      const url = await new Promise<string>((resolve, reject) => {
        let seen = '';
        const timer = setTimeout(() => reject(new Error(`chromium did not announce its DevTools endpoint: ${seen.slice(-500)}`)), STEP_MS);
        proc.stderr!.on('data', (chunk: Buffer) => {
          seen += chunk.toString();
          const m = /DevTools listening on (ws:\/\/\S+)/.exec(seen);
          if (m) {
            clearTimeout(timer);
            resolve(m[1]!);
          }
        });
        proc.once('exit', (code) => {
          clearTimeout(timer);
          reject(new Error(`chromium exited (${code}) before its DevTools endpoint: ${seen.slice(-500)}`));
        });
      });
      proc.stderr!.resume();
      const ws = new WebSocket(url);
      await new Promise<void>((resolve, reject) => {
        ws.addEventListener('open', () => resolve());
        ws.addEventListener('error', () => reject(new Error(`cannot connect to ${url}`)));
      });
      return new Browser(proc, profile, ws);
    } catch (err) {
      killGroup(proc);
      fs.rmSync(profile, { recursive: true, force: true, maxRetries: 10, retryDelay: 100 });
      throw err;
    }
  }

  send(method: string, params: Json = {}, sessionId?: string): Promise<Json> {
    const id = this.#next++;
    return new Promise<Json>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#pending.delete(id);
        reject(new Error(`CDP ${method}: no answer`));
      }, STEP_MS);
      this.#pending.set(id, {
        resolve: (v) => (clearTimeout(timer), resolve(v)),
        reject: (e) => (clearTimeout(timer), reject(e)),
      });
      this.#ws.send(JSON.stringify({ id, method, params, ...(sessionId ? { sessionId } : {}) }));
    });
  }

  on(listener: (method: string, params: Json, sessionId?: string) => void): void {
    this.#listeners.push(listener);
  }

  /** A new tab whose page can call `binding(...)`: every call is recorded in `calls`. */
  async page(binding: string): Promise<Page> {
    const { targetId } = await this.send('Target.createTarget', { url: 'about:blank' });
    const { sessionId } = await this.send('Target.attachToTarget', { targetId, flatten: true });
    const page = new Page(this, sessionId as string);
    await this.send('Page.enable', {}, page.sessionId);
    await this.send('Runtime.enable', {}, page.sessionId);
    await this.send('Runtime.addBinding', { name: binding }, page.sessionId);
    return page;
  }

  /** Kills the browser and removes its profile. */
  async close(): Promise<void> {
    try {
      this.#ws.close();
    } catch {
      // already closed
    }
    if (this.#proc.exitCode === null && this.#proc.signalCode === null) {
      const exited = new Promise((resolve) => this.#proc.once('exit', resolve));
      killGroup(this.#proc);
      await exited;
    }
    fs.rmSync(this.#profile, { recursive: true, force: true, maxRetries: 10, retryDelay: 100 });
  }
}

export class Page {
  readonly calls: string[] = [];
  readonly #browser: Browser;
  readonly sessionId: string;
  #loaded: (() => void) | null = null;

  constructor(browser: Browser, sessionId: string) {
    this.#browser = browser;
    this.sessionId = sessionId;
    browser.on((method, params, sid) => {
      if (sid !== sessionId) return;
      if (method === 'Runtime.bindingCalled') this.calls.push(String(params.payload));
      if (method === 'Page.loadEventFired') this.#loaded?.();
    });
  }

  /** Navigates and waits for the load event (images, and their onerror handlers, come before it). */
  async open(url: string): Promise<void> {
    const loaded = new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`${url}: no load event`)), STEP_MS);
      this.#loaded = () => (clearTimeout(timer), resolve());
    });
    const nav = await this.#browser.send('Page.navigate', { url }, this.sessionId);
    if (nav.errorText) throw new Error(`${url}: ${nav.errorText}`);
    await loaded;
  }

  /** Evaluates `expression` in the page (promises awaited) and returns its value. */
  async eval<T>(expression: string): Promise<T> {
    const r = await this.#browser.send('Runtime.evaluate', { expression, returnByValue: true, awaitPromise: true }, this.sessionId);
    if (r.exceptionDetails) throw new Error(`evaluate: ${JSON.stringify(r.exceptionDetails)}`);
    return r.result.value as T;
  }
}
