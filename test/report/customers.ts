/**
 * Random logs where customers send several requests each, over weeks with gaps: the input the
 * clustered, value and maturity figures are cross-checked on.
 */
import seedrandom from 'seedrandom';
import { outcome, pair } from './helpers.js';

 
type Obj = Record<string, any>;

const DAY = 86_400_000;

export interface CustomerLogs {
  pairs: Obj[];
  events: Obj[];
  outcomes: Obj[];
}

/**
 * `customers` customers with 1–15 requests each over 35 days (some days without traffic); groups
 * per customer and config; keyless and unit-less requests; amounts (some missing, negative,
 * strings or huge); labels arriving late, by request and by unit; a config no event announces.
 */
export function customerLogs(seed: number, customers: number): CustomerLogs {
  const rand = seedrandom.alea(`customers-${seed}`);
  const t0 = 1_790_000_000_000;
  const quiet = new Set([4, 5, 12, 13, 14, 27]);
  const configAt = (day: number) => (day < 15 ? 'ramp-1' : day < 25 ? 'ramp-2' : day === 30 ? 'unknown' : 'ramp-3');
  const pairs: Obj[] = [];
  const outcomes: Obj[] = [];
  for (let u = 0; u < customers; u++) {
    const risky = rand() < 0.3;
    const bucket = rand();
    const k = 1 + Math.floor(rand() * 15);
    for (let i = 0; i < k; i++) {
      let day = Math.floor(rand() * 35);
      while (quiet.has(day)) day = Math.floor(rand() * 35);
      const config = configAt(day);
      const challengerShare = config === 'ramp-1' ? 0.3 : 0.5;
      const group = bucket < 0.2 ? 'control' : bucket < 0.2 + challengerShare ? 'challenger' : 'champion';
      const y = rand() < (risky ? 0.4 : 0.1) ? 1 : 0;
      const grid = rand() < 0.5;
      const score = (sep: number) => {
        const s = Math.min(1, Math.max(0, 0.3 + sep * y + (rand() - 0.5) * 0.7));
        return grid ? Math.round(s * 10) / 10 : Math.round(s * 1e4) / 1e4;
      };
      const cs = score(0.3);
      const hs = score(0.45);
      const r = rand();
      const amount = r < 0.05 ? undefined : r < 0.07 ? -5 : r < 0.09 ? '40' : r < 0.095 ? 1e12 : r < 0.1 ? 1e300 : Math.round(Math.exp(3 + rand() * 3) * 100) / 100;
      const kind = rand();
      const p = pair({
        time: t0 + day * DAY + Math.floor(rand() * DAY),
        requestId: `c${seed}-${u}-${i}`,
        unit: kind < 0.08 ? null : `cust-${u}`,
        assigned: kind > 0.92 ? 'random' : 'key',
        group,
        config,
        champion: outcome({ role: 'champion', score: cs, decision: cs >= 0.5 }),
        challenger: rand() < 0.04 ? outcome({ role: 'challenger', error: { kind: 'skipped', message: 'x' } }) : outcome({ role: 'challenger', score: hs, decision: hs >= 0.55 }),
        fields: amount === undefined ? {} : { amount },
      });
      if (p.unit === null) delete p.unit;
      pairs.push(p);
      if (rand() < (day < 25 ? 0.85 : 0.3)) outcomes.push({ requestId: p.requestId, label: y });
    }
  }
  outcomes.push({ unit: 'cust-1', label: 1 }, { unit: 'cust-2', label: 0 });
  const events = [
    { msg: 'event', type: 'start', config: 'ramp-1', traffic: { control: 0.2, challenger: 0.3 } },
    { msg: 'event', type: 'ramp_step', config: 'ramp-2', traffic: { control: 0.2, challenger: 0.5 } },
    { msg: 'event', type: 'ramp_step', config: 'ramp-3', traffic: { control: 0.2, challenger: 0.3 } },
  ];
  return { pairs, events, outcomes };
}
