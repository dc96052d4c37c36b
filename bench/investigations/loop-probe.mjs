/**
 * A probe preloaded into every process of a bench/investigations/stalls.ts run (`NODE_OPTIONS=--import=<this file>`):
 * it records, with wall-clock times comparable across processes (performance.timeOrigin + now),
 *
 * - every tick of a 2 ms interval timer that came more than 1 ms late, with what the main thread did
 *   meanwhile, from /proc/thread-self/schedstat: time it ran, and time it waited runnable for a core
 *   (another thread or process had it, or the hypervisor);
 * - every GC pause (PerformanceObserver `gc` entries).
 *
 * One JSON object per line, appended to the file named by CCR_PROBE_OUT every 250 ms:
 *   {"k":"late","t":…,"ms":…,"ranMs":…,"waitMs":…}   the tick at wall time t was ms late
 *   {"k":"gc","t":…,"ms":…,"kind":"minor|major|incremental|weakcb"}
 * It wakes 500 times a second and reads schedstat each time. With CCR_PROBE_IDLE=1
 * the lateness timer starts off, and SIGUSR2 turns it on and off.
 */
import fs from 'node:fs';
import { performance, PerformanceObserver, constants } from 'node:perf_hooks';

const out = process.env.CCR_PROBE_OUT;
if (out) {
  const origin = performance.timeOrigin;
  const KINDS = {
    [constants.NODE_PERFORMANCE_GC_MINOR]: 'minor',
    [constants.NODE_PERFORMANCE_GC_MAJOR]: 'major',
    [constants.NODE_PERFORMANCE_GC_INCREMENTAL]: 'incremental',
    [constants.NODE_PERFORMANCE_GC_WEAKCB]: 'weakcb',
  };
  let lines = [];
  const schedstat = () => {
    // "<ns on cpu> <ns waiting on a runqueue> <timeslices>"
    const f = fs.readFileSync('/proc/thread-self/schedstat', 'latin1').split(' ');
    return [Number(f[0]) / 1e6, Number(f[1]) / 1e6];
  };
  const PERIOD = 2;
  let ran0 = 0;
  let wait0 = 0;
  let expected = 0;
  const tick = () => {
    const now = performance.now();
    const [ran, wait] = schedstat();
    const late = now - expected;
    if (late > 1) lines.push(`{"k":"late","t":${(origin + now).toFixed(2)},"ms":${late.toFixed(2)},"ranMs":${(ran - ran0).toFixed(2)},"waitMs":${(wait - wait0).toFixed(2)}}`);
    ran0 = ran;
    wait0 = wait;
    expected = now + PERIOD;
  };
  let timer = null;
  const toggle = () => {
    if (timer !== null) {
      clearInterval(timer);
      timer = null;
      return;
    }
    [ran0, wait0] = schedstat();
    expected = performance.now() + PERIOD;
    timer = setInterval(tick, PERIOD);
    timer.unref();
  };
  // CCR_PROBE_IDLE=1: the timer starts off (an idle peer's 500 wakes per second would take its core
  // from the peer being measured); SIGUSR2 turns it on and off.
  if (process.env.CCR_PROBE_IDLE !== '1') toggle();
  process.on('SIGUSR2', toggle);
  new PerformanceObserver((list) => {
    for (const e of list.getEntries()) lines.push(`{"k":"gc","t":${(origin + e.startTime).toFixed(2)},"ms":${e.duration.toFixed(3)},"kind":"${KINDS[e.detail?.kind] ?? 'other'}"}`);
  }).observe({ entryTypes: ['gc'] });
  const flush = () => {
    if (lines.length === 0) return;
    const text = lines.join('\n') + '\n';
    lines = [];
    try {
      fs.appendFileSync(out, text);
    } catch {
      // The harness is gone or removed its directory: a probe never takes its host down.
    }
  };
  setInterval(flush, 250).unref();
  process.on('exit', flush);
}
