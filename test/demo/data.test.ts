import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { COUNTRIES, TRUE_MODEL, USER_POOL, probability, transactions } from '../../src/demo/data.js';

test('the stream is a pure function of the seed', () => {
  const a = [...transactions(42, 500)];
  const b = [...transactions(42, 500)];
  assert.deepEqual(a, b);
  assert.notDeepEqual([...transactions(43, 500)], a);
});

test('a longer stream starts with the shorter one', () => {
  assert.deepEqual([...transactions(5, 1000)].slice(0, 300), [...transactions(5, 300)]);
});

test('transactions have the documented shape and plausible values', () => {
  for (const { body, unit, label } of transactions(1, 2000)) {
    assert.equal(unit, body.userId);
    assert.match(body.userId, /^u-\d+$/);
    assert.match(body.txId, /^tx-1-\d+$/);
    assert.ok(COUNTRIES.includes(body.country));
    assert.ok(body.amount >= 1 && Number.isFinite(body.amount));
    assert.ok(body.merchantRisk >= 0 && body.merchantRisk <= 1);
    assert.ok(Number.isInteger(body.accountAgeDays) && body.accountAgeDays >= 0 && body.accountAgeDays <= 3650);
    assert.ok(Number.isInteger(body.velocity1h) && body.velocity1h >= 0);
    assert.ok(Number.isInteger(body.hour) && body.hour >= 0 && body.hour <= 23);
    assert.equal(typeof body.deviceNew, 'boolean');
    assert.ok(label === 0 || label === 1);
  }
});

test('fraud base rate is between 10% and 20%, and labels follow the true model', () => {
  const all = [...transactions(3, 5000)];
  const rate = all.reduce((s, t) => s + t.label, 0) / all.length;
  assert.ok(rate > 0.1 && rate < 0.2, `base rate ${rate}`);
  // Calibration of the generator: the mean true probability matches the observed rate.
  const expected = all.reduce((s, t) => s + probability(TRUE_MODEL, t.body), 0) / all.length;
  assert.ok(Math.abs(rate - expected) < 0.02, `observed ${rate} vs expected ${expected}`);
});

test('users come back: a few transactions each, with stable traits', () => {
  const byUser = new Map<string, Array<{ country: string; accountAgeDays: number }>>();
  for (const { body } of transactions(9, 3000)) {
    const list = byUser.get(body.userId) ?? [];
    list.push(body);
    byUser.set(body.userId, list);
  }
  assert.ok(byUser.size >= 300 && byUser.size <= USER_POOL, `${byUser.size} users`);
  assert.ok([...byUser.values()].filter((l) => l.length >= 2).length > byUser.size / 2);
  for (const list of byUser.values()) {
    assert.ok(list.every((t) => t.country === list[0]!.country && t.accountAgeDays === list[0]!.accountAgeDays));
  }
});

test('country mix is skewed towards the US', () => {
  const counts: Record<string, number> = {};
  for (const { body } of transactions(11, 4000)) counts[body.country] = (counts[body.country] ?? 0) + 1;
  assert.deepEqual(Object.keys(counts).sort(), [...COUNTRIES].sort());
  assert.ok(counts['US']! > 2 * counts['GB']!);
});

test('config/demo-samples.json is the first 20 bodies of seed 7', () => {
  const file = JSON.parse(readFileSync(new URL('../../config/demo-samples.json', import.meta.url), 'utf8'));
  assert.deepEqual(file, [...transactions(7, 20)].map((t) => t.body));
});
