/** The raw results of one harness run (also written as JSON with --json). */
import type { OpenLoopResult } from '../load/open-loop.js';
import type { SaturationTool } from '../load/saturate.js';
import type { Coverage } from './coverage.js';
import type { Machine } from './machine.js';

export type Layout = 'pinned' | 'unpinned';

export interface SatSample {
  layout: Layout;
  round: number;
  peer: string;
  tag: string;
  rps: number;
  requests: number;
  errors: number;
  /** User + system CPU of the peer's processes during the run, per completed request. */
  cpuUsPerReq: number;
  /** Closed-loop latency as the load tool saw it (informational: the open-loop figures are the ones to read). */
  p50Ms: number;
  p99Ms: number;
  /** Busy share of each core during the run (/proc/stat). */
  coreBusy: number[];
  rssMiB: number;
  /** Share of the machine's CPU used by processes not started here (and steal) during the run. */
  foreign: number;
  /** The hypervisor's steal alone, as a share of the machine's CPU (absent in results from older runs). */
  steal?: number;
  /** CPU used meanwhile by the other peers, which should be idle, in cores. */
  neighbours: number;
}

export interface OlSample {
  layout: Layout;
  round: number;
  peer: string;
  rate: number;
  tag: string;
  result: OpenLoopResult;
  rssMiB: number;
  /** User + system CPU of the peer's processes during the run (drain included) per answered request. */
  cpuUsPerReq?: number;
  /** Busy share of each core during the run (absent in results from older runs). */
  coreBusy?: number[];
  foreign: number;
  steal?: number;
}

export interface RssSeries {
  peer: string;
  rate: number;
  seconds: number;
  intervalS: number;
  warmupS: number;
  samples: Array<{ tS: number; rssMiB: number }>;
  latency: OpenLoopResult | null;
  coverage: Coverage | null;
  /** Share of the CPU used by processes not started here during the series. */
  foreign?: number;
  steal?: number;
}

export interface PeerInfo {
  id: string;
  label: string;
  what: string;
  /** ccrouter peers have records and shadow coverage. */
  ccrouter: boolean;
  /** The challenger of this peer is the slow one (coverage condition uses its latency). */
  slowChallenger: boolean;
  shadow: boolean;
}

export interface RunOptions {
  rounds: number;
  satDurationS: number;
  olDurationS: number;
  warmupS: number;
  rates: number[];
  connections: number;
  layouts: Layout[];
  rssSeconds: number;
  rssIntervalS: number;
  rssRate: number;
  quick: boolean;
  waitQuietS: number;
}

export interface RunResults {
  startedAt: string;
  finishedAt: string;
  elapsedS: number;
  command: string;
  options: RunOptions;
  machine: Machine;
  tool: SaturationTool;
  ccrouterBuild: string;
  peers: PeerInfo[];
  skipped: Array<{ peer: string; label: string; reason: string }>;
  sat: SatSample[];
  ol: OlSample[];
  /** peer → `<layout>.<round>.<phase>` tag → coverage (ccrouter peers). */
  coverage: Record<string, Record<string, Coverage>>;
  rss: RssSeries | null;
  notes: string[];
  /** Measurements taken again because other processes disturbed them. */
  retried: number;
}
