/**
 * The demo's synthetic world: a seeded stream of card transactions whose fraud labels are drawn
 * from a known logistic model, so the demo can show a challenger that is better for a real reason
 * (it is closer to that model) rather than by construction of the report.
 */
import seedrandom from 'seedrandom';

export const COUNTRIES = ['US', 'GB', 'DE', 'FR', 'BR', 'IN'] as const;
export type Country = (typeof COUNTRIES)[number];

/** What a model scores. `country` is any string: an unknown market simply has no adjustment. */
export interface Features {
  amount: number;
  country: string;
  merchantRisk: number;
  accountAgeDays: number;
  velocity1h: number;
  hour: number;
  deviceNew: boolean;
}

/** The request body a caller sends: the features plus ids. */
export interface Transaction extends Features {
  txId: string;
  userId: string;
  country: Country;
}

export interface LabelledTransaction {
  body: Transaction;
  /** The assignment unit (the user). */
  unit: string;
  /** Ground truth: 1 = fraud. */
  label: 0 | 1;
}

/**
 * A logistic model over the transaction features:
 * z = intercept + amount·(ln(1+amount) − 4) + merchantRisk·merchantRisk
 *     + accountAge·(ln(1+accountAgeDays) − 5) + velocity·velocity1h
 *     + night·[hour < 6] + hour·(hour − 12)/12 + deviceNew·[deviceNew] + country[country]
 * The centring constants keep the intercept readable (≈ log-odds of a typical transaction).
 */
export interface DemoModelSpec {
  intercept: number;
  amount: number;
  merchantRisk: number;
  accountAge: number;
  velocity: number;
  night: number;
  hour: number;
  deviceNew: number;
  country: Partial<Record<string, number>>;
}

/** The model the labels are drawn from (base fraud rate ≈ 14%). */
export const TRUE_MODEL: Readonly<DemoModelSpec> = Object.freeze({
  intercept: -4.4,
  amount: 0.6,
  merchantRisk: 3.6,
  accountAge: -0.5,
  velocity: 0.55,
  night: 1.4,
  hour: 0,
  deviceNew: 2.2,
  country: Object.freeze({ US: 0, GB: 0.1, DE: -0.3, FR: 0.1, BR: 1.0, IN: 0.8 }),
});

/** Users in the pool. Fixed (not derived from `count`) so a longer stream extends a shorter one. */
export const USER_POOL = 1000;

// Traffic skew: most volume from the US, a long tail of riskier markets.
const COUNTRY_SHARE: ReadonlyArray<[Country, number]> = [
  ['US', 0.45], ['GB', 0.15], ['DE', 0.12], ['FR', 0.1], ['BR', 0.1], ['IN', 0.08],
];

type Rng = () => number;

const sigmoid = (z: number): number => 1 / (1 + Math.exp(-z));

/** Log-odds of fraud under `spec`; inputs are assumed clean (see models.ts for untrusted bodies). */
export function logit(spec: Readonly<DemoModelSpec>, t: Features): number {
  return spec.intercept +
    spec.amount * (Math.log1p(t.amount) - 4) +
    spec.merchantRisk * t.merchantRisk +
    spec.accountAge * (Math.log1p(t.accountAgeDays) - 5) +
    spec.velocity * t.velocity1h +
    spec.night * (t.hour < 6 ? 1 : 0) +
    spec.hour * (t.hour - 12) / 12 +
    spec.deviceNew * (t.deviceNew ? 1 : 0) +
    // hasOwn: a body's country such as "constructor" must not reach Object.prototype.
    (Object.hasOwn(spec.country, t.country) ? spec.country[t.country] ?? 0 : 0);
}

/** Probability of fraud under `spec`. */
export function probability(spec: Readonly<DemoModelSpec>, t: Features): number {
  return sigmoid(logit(spec, t));
}

function pickCountry(rng: Rng): Country {
  let u = rng();
  for (const [c, share] of COUNTRY_SHARE) {
    if ((u -= share) < 0) return c;
  }
  return 'US';
}

function normal(rng: Rng): number {
  // Box-Muller; 1 - u keeps log() away from 0.
  return Math.sqrt(-2 * Math.log(1 - rng())) * Math.cos(2 * Math.PI * rng());
}

function poisson(rng: Rng, lambda: number): number {
  let k = 0;
  for (let p = rng(), limit = Math.exp(-lambda); p > limit; p *= rng()) k++;
  return k;
}

interface UserProfile {
  country: Country;
  accountAgeDays: number;
  /** Some users shop at night; hour is drawn around their habit. */
  nightOwl: boolean;
}

/** A user's stable traits, seeded by the user alone so they do not depend on stream order. */
function userProfile(seed: number, userId: string): UserProfile {
  const rng = seedrandom(`${seed}:${userId}`);
  return {
    country: pickCountry(rng),
    // Exponential with mean ~2 years, capped at 10: many young accounts, a long tail of old ones.
    accountAgeDays: Math.min(3650, Math.floor(-Math.log(1 - rng()) * 700)),
    nightOwl: rng() < 0.12,
  };
}

function drawHour(rng: Rng, nightOwl: boolean): number {
  if (rng() < (nightOwl ? 0.5 : 0.06)) return Math.floor(rng() * 6);
  return 6 + Math.floor(rng() * 18);
}

const round = (x: number, digits: number): number => Number(x.toFixed(digits));

/**
 * `count` labelled transactions, identical for the same `seed` (a longer stream starts with the
 * shorter one). Users are drawn from a pool of {@link USER_POOL}, so each has a few transactions
 * and unit-level assignment is visible.
 */
export function* transactions(seed: number, count: number): Generator<LabelledTransaction> {
  const rng = seedrandom(String(seed));
  const profiles = new Map<string, UserProfile>();
  for (let i = 0; i < count; i++) {
    const userId = `u-${1 + Math.floor(rng() * USER_POOL)}`;
    let profile = profiles.get(userId);
    if (!profile) profiles.set(userId, (profile = userProfile(seed, userId)));
    const body: Transaction = {
      txId: `tx-${seed}-${i + 1}`,
      userId,
      // Log-normal around ~$60: most purchases small, a few large.
      amount: round(Math.max(1, Math.exp(Math.log(60) + 1.1 * normal(rng))), 2),
      country: profile.country,
      merchantRisk: round(rng() ** 2, 3),
      accountAgeDays: profile.accountAgeDays,
      velocity1h: poisson(rng, rng() < 0.1 ? 4 : 0.8),
      hour: drawHour(rng, profile.nightOwl),
      deviceNew: rng() < (profile.accountAgeDays < 60 ? 0.3 : 0.07),
    };
    const label = rng() < probability(TRUE_MODEL, body) ? 1 : 0;
    yield { body, unit: userId, label };
  }
}
