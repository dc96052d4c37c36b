/**
 * The reference of the `score_psi` guardrail: the challenger's first `size` scores after a config
 * load. Once full, its deciles become the fixed PSI bin edges (docs/report.md, "agreement and drift") and the scores
 * themselves are dropped: from then on a score costs one bin lookup, never a sort.
 */
import { psiBin, psiEdges } from '../stats/psi.js';

export const PSI_BINS = 10;

export class ScoreReference {
  readonly size: number;
  #scores: Float64Array | null;
  #n = 0;
  #edges: number[] | null = null;
  /** Reference scores per bin, known once full. */
  readonly counts: number[] = new Array<number>(PSI_BINS).fill(0);

  constructor(size: number) {
    if (!Number.isInteger(size) || size < 1) throw new RangeError(`ScoreReference: size must be an integer >= 1, got ${size}`);
    this.size = size;
    this.#scores = new Float64Array(size);
  }

  get full(): boolean {
    return this.#edges !== null;
  }

  /** The nine bin edges (the reference's 10th … 90th percentiles); null until full. */
  get edges(): readonly number[] | null {
    return this.#edges;
  }

  /** Take one more score while not full; true when this score completed the reference. */
  add(score: number): boolean {
    if (this.#scores === null) return false;
    this.#scores[this.#n++] = score;
    if (this.#n < this.size) return false;
    // Once per config load: one sort of `size` values.
    const edges = psiEdges(this.#scores) as number[];
    for (const s of this.#scores) this.counts[psiBin(s, edges)]!++;
    this.#edges = edges;
    this.#scores = null;
    return true;
  }

  /** The bin (0..9) of a score; only once full. */
  bin(score: number): number {
    if (this.#edges === null) throw new Error('ScoreReference.bin: the reference is not full yet');
    return psiBin(score, this.#edges);
  }
}
