/**
 * A Runtime on real record files (no listeners: nothing but the schedule uses timers) with its
 * guardrails started, its config in a JSON file, and node:test's fake timers with the clock at `now`.
 * A tick runs only the timers due when it began, not those armed meanwhile.
 */
import type { TestContext } from 'node:test';
import fs from 'node:fs';
import path from 'node:path';
import { loadConfigFile } from '../../src/config/load.js';
import { startGuardrails } from '../../src/guardrails/start.js';
import { Metrics } from '../../src/metrics.js';
import { openSink } from '../../src/records/sink.js';
import { Runtime } from '../../src/runtime/runtime.js';
import { readJsonl, tempDir, testConfig } from '../helpers/proxy.js';

export interface Harness {
  rt: Runtime;
  file: string;
  /** The events written so far, without `start`. */
  events(): Array<Record<string, any>>;
  /** Writes the config file again with other `extra` keys. */
  rewrite(extra: Record<string, unknown>): void;
}

export async function guardedRuntime(t: TestContext, extra: Record<string, unknown>, now: number): Promise<Harness> {
  const dir = tempDir();
  const file = path.join(dir, 'ccrouter.json');
  const rewrite = (e: Record<string, unknown>) =>
    fs.writeFileSync(file, JSON.stringify(testConfig('http://127.0.0.1:9', 'http://127.0.0.1:9', path.join(dir, 'logs'), e)));
  rewrite(extra);
  const loaded = loadConfigFile(file, {});
  const pairs = await openSink(path.join(dir, 'logs', 'pairs.jsonl'), { sync: true });
  const events = await openSink(path.join(dir, 'logs', 'events.jsonl'), { sync: true });
  const rt = new Runtime({ loaded, metrics: new Metrics({ defaultMetrics: false }), pairs, events });
  t.after(async () => {
    await rt.close();
    await pairs.close();
    await events.close();
  });
  t.mock.timers.enable({ apis: ['setTimeout', 'Date'], now });
  rt.started();
  t.after(startGuardrails(rt));
  return { rt, file, events: () => readJsonl(path.join(dir, 'logs', 'events.jsonl')).filter((e) => e.type !== 'start'), rewrite };
}
