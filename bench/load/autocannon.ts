/**
 * The saturation run with autocannon (used when wrk is not installed), in its own process so that
 * it can be pinned like wrk. Prints one JSON line: SaturationResult.
 *
 *   node --import tsx bench/load/autocannon.ts --url http://127.0.0.1:PORT --connections 50 --duration 3 --tag sat
 */
import { parseArgs } from 'node:util';
import { BODY, USERS } from './open-loop.js';

interface AutocannonResult {
  requests: { total?: number };
  latency: { p50: number; p99: number };
  duration: number;
  errors: number;
  non2xx: number;
  statusCodeStats?: Record<string, { count: number }>;
}
type Autocannon = (opts: Record<string, unknown>) => Promise<AutocannonResult>;

const { values } = parseArgs({
  options: {
    url: { type: 'string' },
    connections: { type: 'string', default: '50' },
    duration: { type: 'string', default: '3' },
    tag: { type: 'string', default: 'sat' },
  },
});
if (!values.url) throw new Error('--url: required');

// autocannon ships no types; the few fields used are declared above.
const autocannon = ((await import('autocannon' as string)) as { default: Autocannon }).default;
let n = 0;
const tag = values.tag!;
const result = await autocannon({
  url: new URL('/predict', values.url).href,
  connections: Number(values.connections),
  duration: Number(values.duration),
  requests: [
    {
      method: 'POST',
      setupRequest: (req: Record<string, unknown>) => {
        const i = n++ % USERS;
        return { ...req, headers: { 'content-type': 'application/json', 'x-user-id': `u-${i}`, 'x-request-id': `${tag}-${i}` }, body: BODY };
      },
    },
  ],
});
const requests =
  result.requests.total ?? Object.values(result.statusCodeStats ?? {}).reduce((a, s) => a + Number(s.count), 0);
process.stdout.write(
  JSON.stringify({
    tag,
    requests,
    durationS: result.duration,
    rps: requests / result.duration,
    errors: result.errors + result.non2xx,
    latencyMs: { p50: result.latency.p50, p99: result.latency.p99 },
  }) + '\n',
);
