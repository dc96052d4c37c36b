/**
 * Assignment (docs/requests.md, "Assignment"), as pure functions anyone can reproduce:
 *   bucket = seedrandom(salt + ":" + key)()   — seedrandom 3, default ARC4, first output
 *   control if bucket < control; challenger if bucket >= 1 - challenger; champion otherwise.
 * Control grows from the bottom and the ramp from the top, so raising the ramp only moves champion units.
 */
import seedrandom from 'seedrandom';
import type { Group } from '../config/types.js';
import { memoByKey } from '../util/memo.js';

export interface Fractions {
  readonly control: number;
  readonly challenger: number;
}

export function bucketOf(salt: string, key: string): number {
  return seedrandom(salt + ':' + key)();
}

/** `bucketOf(salt, key)` remembered per key: seedrandom's key schedule is the costly part of assignment. */
export function memoBucketOf(salt: string): (key: string) => number {
  return memoByKey((key) => bucketOf(salt, key));
}

export function groupOf(bucket: number, fractions: Fractions): Group {
  if (bucket < fractions.control) return 'control';
  if (bucket >= 1 - fractions.challenger) return 'challenger';
  return 'champion';
}

/** Draws buckets for requests without a unit key: one generator per process, never per request. */
export type RandomSource = () => number;

/** `seedrandom(String(seed))`, or an unseeded (auto-seeded) generator when there is no seed. */
export function createRandomSource(seed: string | number | undefined): RandomSource {
  return seed === undefined ? seedrandom(undefined, { entropy: true }) : seedrandom(String(seed));
}
