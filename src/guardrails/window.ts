/**
 * The guardrail window (docs/operations.md, "Guardrails"): the last `window` pair records in which the challenger was called,
 * kept as a ring buffer with running sums, so that every figure the rules need is O(1) to read and
 * O(log window) to update per record:
 *
 * - error rate: a running count of challenger errors (`canceled` excluded) over the records held;
 * - latency p99 per model: a SlidingQuantile each (two indexed heaps), O(log n) per record;
 * - decision rates: running counts of decisions and of true decisions per model;
 * - score PSI: running counts of the challenger's scores per bin of the fixed reference edges, so the
 *   PSI is a sum over 10 bins. The one O(window) step is binning the scores already held when the
 *   reference fills, once per config load.
 *
 * A batch record (docs/records.md#batches) is one slot like any record, and each of its instances
 * one observation: its decisions count in the decision rates, its scores in the score reference and
 * the PSI (and in their `minSamples`); its error and latency count once, per call.
 *
 * Records with a top-level `error` and records whose challenger outcome is `skipped` are not taken.
 * Each figure is null while undefined or while its sample is below `minSamples`.
 */
import type { PairRecord, ModelOutcome } from '../records/types.js';
import { psiFromCounts } from '../stats/psi.js';
import { PSI_BINS, ScoreReference } from './score-reference.js';
import { SlidingQuantile } from './sliding-quantile.js';

export interface WindowOptions {
  /** Records held at most. */
  window: number;
  /** Smallest sample a figure is computed from. */
  minSamples: number;
}

const CHAMPION = 0;
const CHALLENGER = 1;
const NO_BIN = -1;

/** True for a record the guardrails judge: the challenger was called and the request was not rejected. */
export function isChallengerCall(r: PairRecord): boolean {
  return r.error === undefined && r.challenger.error?.kind !== 'skipped';
}

/** An error the error-rate rule counts: any kind but `canceled` (shutdown) and `skipped` (no call). */
function countsAsError(o: ModelOutcome): boolean {
  return o.error !== null && o.error.kind !== 'canceled' && o.error.kind !== 'skipped';
}

/** A latency of a call that was made (a skipped outcome has none). */
function latencyOf(o: ModelOutcome): number | null {
  return o.error?.kind === 'skipped' || o.latencyMs === null || !Number.isFinite(o.latencyMs) ? null : o.latencyMs;
}

export class GuardrailWindow {
  readonly capacity: number;
  readonly minSamples: number;
  #head = 0;
  #size = 0;
  // Per slot of the ring.
  readonly #error: Uint8Array;
  /** Decisions and true decisions of each slot (one record: 0 or 1 each; a batch: per instance). */
  readonly #decided: [Uint32Array, Uint32Array];
  readonly #true: [Uint32Array, Uint32Array];
  readonly #score: Float64Array;
  readonly #bin: Int8Array;
  /**
   * A batch record's challenger scores: how many (0: a single score, in #score), their counts per
   * bin once binned, and until then the scores themselves. Only scores seen before the reference
   * filled wait unbinned, and each of those is in the reference too: the window's memory stays
   * O(window) whatever the batch sizes.
   */
  readonly #batchCount: Uint32Array;
  readonly #batchBins: Uint32Array;
  readonly #pending: Array<Float64Array | null>;
  // Running sums over the records held.
  #errors = 0;
  readonly #decisions = [0, 0];
  readonly #trues = [0, 0];
  #scores = 0;
  readonly #binCounts = new Array<number>(PSI_BINS).fill(0);
  readonly #latency: [SlidingQuantile, SlidingQuantile];
  readonly #reference: ScoreReference;

  constructor(options: WindowOptions) {
    const { window, minSamples } = options;
    if (!Number.isInteger(window) || window < 1) throw new RangeError(`GuardrailWindow: window must be an integer >= 1, got ${window}`);
    if (!Number.isInteger(minSamples) || minSamples < 1) throw new RangeError(`GuardrailWindow: minSamples must be an integer >= 1, got ${minSamples}`);
    this.capacity = window;
    this.minSamples = minSamples;
    this.#error = new Uint8Array(window);
    this.#decided = [new Uint32Array(window), new Uint32Array(window)];
    this.#true = [new Uint32Array(window), new Uint32Array(window)];
    this.#score = new Float64Array(window);
    this.#bin = new Int8Array(window);
    this.#batchCount = new Uint32Array(window);
    this.#batchBins = new Uint32Array(window * PSI_BINS);
    this.#pending = new Array<Float64Array | null>(window).fill(null);
    this.#latency = [new SlidingQuantile(window, 0.99), new SlidingQuantile(window, 0.99)];
    this.#reference = new ScoreReference(window);
  }

  /** Records held (at most `window`). */
  get size(): number {
    return this.#size;
  }

  get reference(): ScoreReference {
    return this.#reference;
  }

  /** Take a record if the guardrails judge it (see isChallengerCall); the oldest leaves a full window. */
  observe(r: PairRecord): boolean {
    if (!isChallengerCall(r)) return false;
    const slot = this.#head;
    if (this.#size === this.capacity) this.#evict(slot);
    else this.#size++;
    this.#head = (slot + 1) % this.capacity;

    const error = countsAsError(r.challenger) ? 1 : 0;
    this.#error[slot] = error;
    this.#errors += error;
    this.#put(CHAMPION, slot, r.champion);
    this.#put(CHALLENGER, slot, r.challenger);

    const batch = r.challenger.scores;
    if (batch) {
      this.#score[slot] = NaN;
      this.#bin[slot] = NO_BIN;
      this.#putBatch(slot, batch);
      return true;
    }
    const score = r.challenger.score;
    if (score === null || !Number.isFinite(score)) {
      this.#score[slot] = NaN;
      this.#bin[slot] = NO_BIN;
    } else {
      this.#score[slot] = score;
      this.#scores++;
      if (this.#reference.full) {
        this.#addBin(slot, this.#reference.bin(score));
      } else {
        this.#bin[slot] = NO_BIN;
        if (this.#reference.add(score)) this.#binHeld();
      }
    }
    return true;
  }

  /** Challenger errors (`canceled` excluded) / challenger calls; null below minSamples. */
  errorRate(): number | null {
    return this.#size < this.minSamples ? null : this.#errors / this.#size;
  }

  /** p99 of a model's call latencies in the window; null below minSamples latencies. */
  latencyP99(role: 'champion' | 'challenger'): number | null {
    const q = this.#latency[role === 'champion' ? CHAMPION : CHALLENGER];
    return q.size < this.minSamples ? null : q.value();
  }

  /** Challenger p99 / champion p99; null when either is or the champion's is 0. */
  latencyP99Ratio(): number | null {
    const champion = this.latencyP99('champion');
    const challenger = this.latencyP99('challenger');
    return champion === null || challenger === null || champion <= 0 ? null : challenger / champion;
  }

  /** True decisions / outcomes with a decision; null below minSamples decisions. */
  decisionRate(role: 'champion' | 'challenger'): number | null {
    const i = role === 'champion' ? CHAMPION : CHALLENGER;
    return this.#decisions[i]! < this.minSamples ? null : this.#trues[i]! / this.#decisions[i]!;
  }

  /** Challenger decision rate / champion decision rate; null when either is or the champion's is 0. */
  decisionRateRatio(): number | null {
    const champion = this.decisionRate('champion');
    const challenger = this.decisionRate('challenger');
    return champion === null || challenger === null || champion === 0 ? null : challenger / champion;
  }

  /** PSI(reference, challenger scores held); null until the reference is full or below minSamples scores. */
  scorePsi(): number | null {
    if (!this.#reference.full || this.#scores < this.minSamples) return null;
    return psiFromCounts(this.#reference.counts, this.#binCounts);
  }

  #put(role: number, slot: number, o: ModelOutcome): void {
    const latency = latencyOf(o);
    if (latency !== null) this.#latency[role]!.add(slot, latency);
    let decided = 0;
    let trues = 0;
    if (o.decision !== null) {
      decided = 1;
      trues = o.decision ? 1 : 0;
    } else if (o.decisions) {
      decided = o.decisions.length;
      for (const d of o.decisions) if (d) trues++;
    }
    this.#decided[role]![slot] = decided;
    this.#true[role]![slot] = trues;
    this.#decisions[role]! += decided;
    this.#trues[role]! += trues;
  }

  /** A batch's challenger scores: each one observation for the reference and the bins. */
  #putBatch(slot: number, batch: readonly number[]): void {
    const held = batch.filter((x) => Number.isFinite(x));
    this.#batchCount[slot] = held.length;
    this.#scores += held.length;
    if (this.#reference.full) return this.#binBatch(slot, held);
    for (const x of held) {
      if (this.#reference.add(x)) {
        // The reference filled part-way: every score held is binned, this batch's included.
        this.#pending[slot] = Float64Array.from(held);
        return this.#binHeld();
      }
    }
    this.#pending[slot] = Float64Array.from(held);
  }

  #binBatch(slot: number, scores: ArrayLike<number>): void {
    const base = slot * PSI_BINS;
    for (let i = 0; i < scores.length; i++) {
      const b = this.#reference.bin(scores[i]!);
      this.#batchBins[base + b]!++;
      this.#binCounts[b]!++;
    }
    this.#pending[slot] = null;
  }

  #evict(slot: number): void {
    this.#errors -= this.#error[slot]!;
    for (const role of [CHAMPION, CHALLENGER]) {
      this.#latency[role]!.remove(slot);
      this.#decisions[role]! -= this.#decided[role]![slot]!;
      this.#trues[role]! -= this.#true[role]![slot]!;
    }
    if (this.#batchCount[slot]! > 0) {
      this.#scores -= this.#batchCount[slot]!;
      this.#batchCount[slot] = 0;
      const base = slot * PSI_BINS;
      for (let b = 0; b < PSI_BINS; b++) {
        this.#binCounts[b]! -= this.#batchBins[base + b]!;
        this.#batchBins[base + b] = 0;
      }
      this.#pending[slot] = null;
    }
    if (!Number.isNaN(this.#score[slot]!)) this.#scores--;
    const b = this.#bin[slot]!;
    if (b !== NO_BIN) this.#binCounts[b]!--;
  }

  #addBin(slot: number, bin: number): void {
    this.#bin[slot] = bin;
    this.#binCounts[bin]!++;
  }

  /** The reference just filled: bin the scores already held (once per config load). */
  #binHeld(): void {
    for (let i = 0; i < this.#size; i++) {
      const s = this.#score[i]!;
      if (!Number.isNaN(s)) this.#addBin(i, this.#reference.bin(s));
      else if (this.#pending[i]) this.#binBatch(i, this.#pending[i]!);
    }
  }
}
