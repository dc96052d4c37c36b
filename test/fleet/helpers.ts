/** Instances of one fleet for the tests: in-process proxies sharing two models and one real Redis. */
import { Agent, request } from 'undici';
import { loadConfigObject } from '../../src/config/load.js';
import { startProxy, tempDir, testConfig, type TestProxy } from '../helpers/proxy.js';
import { scoreBehaviour, startUpstream, type Upstream } from '../helpers/upstream.js';

export const TOKEN = 'secret-token';
/** How long a test waits for the fleet to agree before it fails (a bound, not a measure). */
export const CONVERGE_MS = 20_000;

// Idle connections are dropped well before the admin listener's keep-alive timeout would close them
// under a request about to be sent on them; at most 16 per listener, well within the admin
// listener's bound on connections (more calls wait here for a free one).
const agent = new Agent({ keepAliveTimeout: 1000, keepAliveMaxTimeout: 1000, connections: 16 });

export interface Models {
  champion: Upstream;
  challenger: Upstream;
}

export async function models(t: { after(fn: () => Promise<void>): void }): Promise<Models> {
  const champion = await startUpstream(scoreBehaviour(0.8));
  const challenger = await startUpstream(scoreBehaviour(0.3));
  t.after(() => champion.close());
  t.after(() => challenger.close());
  return { champion, challenger };
}

/** The raw config of instance `instance` of fleet `name` (its own log directory). */
export function fleetConfig(m: Models, redis: string, name: string, instance: string, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return testConfig(m.champion.url, m.challenger.url, tempDir(), {
    traffic: { challenger: 0.5 },
    fleet: { name, redis, instance },
    ...extra,
  });
}

export function fileId(raw: Record<string, unknown>): string {
  return loadConfigObject(raw, {}).id;
}

export async function instance(t: { after(fn: () => Promise<void>): void }, raw: Record<string, unknown>): Promise<TestProxy> {
  const p = await startProxy(raw);
  t.after(() => p.shutdown());
  return p;
}

export async function adminPost(p: TestProxy, path: string, body = ''): Promise<number> {
  const res = await request(p.adminUrl + path, { dispatcher: agent, method: 'POST', headers: { authorization: `Bearer ${TOKEN}` }, body });
  await res.body.text();
  return res.statusCode;
}

export async function status(p: TestProxy): Promise<any> {
  const res = await request(p.adminUrl + '/status', { dispatcher: agent });
  return res.body.json();
}

export async function metrics(p: TestProxy): Promise<string> {
  const res = await request(p.adminUrl + '/metrics', { dispatcher: agent });
  return res.body.text();
}

/** The value of an unlabelled metric in Prometheus text. */
export function metric(text: string, name: string): number {
  const m = new RegExp(`^${name} (\\S+)$`, 'm').exec(text);
  return m ? Number(m[1]) : NaN;
}

export async function scored(p: TestProxy, user: string): Promise<number> {
  const res = await request(p.url + '/predict', { dispatcher: agent, method: 'POST', headers: { 'x-user-id': user }, body: '{}' });
  await res.body.text();
  return res.statusCode;
}

/**
 * Poll `check` until it returns true; fail with `what` and the last value seen after `ms`. The
 * deadline only bounds a test that would otherwise hang: no test asserts how fast the fleet agrees.
 */
export async function until(what: string, check: () => Promise<boolean> | boolean, ms = CONVERGE_MS): Promise<void> {
  const deadline = Date.now() + ms;
  for (;;) {
    if (await check()) return;
    if (Date.now() > deadline) throw new Error(`timed out waiting for: ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}
