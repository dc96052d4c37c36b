import { test } from 'node:test';
import assert from 'node:assert/strict';
import seedrandom from 'seedrandom';
import { MAX_ITEM_BYTES, MAX_LISTED_REJECTIONS, nextTurn, parseOutcomes, validateOutcome, type OutcomesSummary } from '../../src/admin/outcomes.js';
import { outcomeLine } from '../../src/admin/outcome-writer.js';
import type { OutcomeRecord } from '../../src/records/types.js';

async function parse(body: string | Buffer): Promise<{ summary: OutcomesSummary | null; accepted: OutcomeRecord[]; turns: number }> {
  const accepted: OutcomeRecord[] = [];
  let turns = 0;
  const summary = await parseOutcomes(Buffer.isBuffer(body) ? body : Buffer.from(body), {
    accept: (r) => accepted.push(r),
    turn: () => {
      turns++;
      return nextTurn();
    },
  });
  return { summary, accepted, turns };
}

/** The contract read literally: the whole body as JSON first, else one JSON value per non-blank line. */
function reference(text: string): { accepted: OutcomeRecord[]; rejected: Array<{ index: number; error: string }> } {
  let items: Array<{ value: unknown } | { error: string }>;
  try {
    const whole: unknown = JSON.parse(text);
    items = (Array.isArray(whole) ? whole : [whole]).map((value) => ({ value }));
  } catch {
    items = text.split('\n').filter((l) => l.trim() !== '').map((l) => {
      try {
        return { value: JSON.parse(l) as unknown };
      } catch {
        return { error: 'not valid JSON' };
      }
    });
  }
  const out = { accepted: [] as OutcomeRecord[], rejected: [] as Array<{ index: number; error: string }> };
  items.forEach((item, index) => {
    const v = 'error' in item ? item.error : validateOutcome(item.value);
    if (typeof v === 'string') out.rejected.push({ index, error: v });
    else out.accepted.push(v);
  });
  return out;
}

async function sameAsReference(body: string): Promise<void> {
  const { summary, accepted } = await parse(body);
  const ref = reference(body);
  assert.ok(summary, JSON.stringify(body));
  assert.deepEqual({ accepted, rejected: summary.rejected, n: summary.accepted }, { ...ref, n: ref.accepted.length }, JSON.stringify(body));
}

test('outcome bodies: object, array, NDJSON, and every way one falls back to the next', async () => {
  const cases = [
    '{"requestId":"r-1","label":1}',
    '  {"requestId":"r-1",\n  "label": true}\n',
    '[{"unit":"u-1","label":true},{"label":1},{"requestId":"r-2","label":2},{"requestId":"r-3","label":false,"extra":"x"}]',
    '[\n {"unit": 7, "label": 0},\n {"unit": "", "label": 0}\n]\n',
    '[]',
    '[ ]',
    '{"requestId":"r-4","label":0}\n\nnot json\n{"unit":"u-2","label":1}\n',
    '{"requestId":"r-4","label":0}\r\n{"unit":"u-2","label":1}\r\n',
    '[1]\n{"requestId":"r","label":1}',
    '[{"requestId":"r","label":1},]',
    '[{"requestId":"r","label":1}] x',
    '[{"requestId":"r","label":1}\n{"requestId":"s","label":1}',
    '{"a":1} {"b":2}',
    '{"requestId":"a]}\\"[{\\\\","label":1}\n{"requestId":"b\\n","label":0}',
    '["]", "[", {"requestId":"é漢🙂","label":1}]',
    '1',
    '"x"',
    'null\ntrue\n[1,2]',
    '{"requestId":"r","label":1',
    '[{"requestId":"r","label":1}',
    '{"requestId":"r","label":1}}',
    '{"__proto__":{"label":1},"unit":"__proto__","label":0}',
  ];
  for (const body of cases) await sameAsReference(body);
  assert.equal((await parse(' \n\t\r\n')).summary, null, 'a blank body is told apart (400)');
});

test('outcome bodies agree with the contract read literally (seeded fuzz over small bodies)', async () => {
  const rng = seedrandom('outcomes');
  const pick = <T>(xs: T[]) => xs[Math.floor(rng() * xs.length)]!;
  const atoms = ['{"requestId":"r","label":1}', '{"unit":"u","label":false}', '{"label":1}', '[1]', '"s"', '3', 'nul', '{"a":[1,{"b":"]"}]}', '{', ']', '"\\""'];
  const glue = [',', ' ', '\n', ', ', '\n,', '', '\r\n'];
  for (let i = 0; i < 3000; i++) {
    let body = rng() < 0.4 ? '[' : '';
    const n = 1 + Math.floor(rng() * 5);
    for (let k = 0; k < n; k++) body += (k > 0 ? pick(glue) : '') + pick(atoms);
    if (body.startsWith('[') && rng() < 0.7) body += pick([']', ']\n', '] ', ']]']);
    if (body.trim() === '') continue;
    await sameAsReference(body);
  }
});

test('a label nested 5 000 deep is a per-item rejection with a short message, never an exception', async () => {
  const deep = `${'['.repeat(5000)}${']'.repeat(5000)}`;
  const deepObject = `${'{"a":'.repeat(5000)}1${'}'.repeat(5000)}`;
  const body = [
    { requestId: 'r-1', label: 1 },
    `{"requestId":"r-2","label":${deep}}`,
    `{"requestId":"r-3","label":${deepObject}}`,
    `{"requestId":${deep},"label":1}`,
    `{"requestId":"r-4","label":1,"extra":${deep}}`,
  ].map((x) => (typeof x === 'string' ? x : JSON.stringify(x)));
  for (const text of [`[${body.join(',')}]`, body.join('\n')]) {
    const { summary, accepted } = await parse(text);
    assert.deepEqual(accepted.map((a) => a.requestId), ['r-1', 'r-4']);
    assert.deepEqual(summary!.rejected, [
      { index: 1, error: 'label: must be 0, 1, true or false, got an array' },
      { index: 2, error: 'label: must be 0, 1, true or false, got an object' },
      { index: 3, error: 'requestId: must be a non-empty string, got an array' },
    ]);
  }
  const long = await parse(`{"requestId":"r","label":${JSON.stringify('x'.repeat(1000))}}`);
  assert.ok(long.summary!.rejected[0]!.error.length < 120, 'a long bad value is not echoed whole');
});

test('an item over MAX_ITEM_BYTES is rejected unparsed; its neighbours are kept', async () => {
  const huge = `{"requestId":"r-2","label":${'['.repeat(MAX_ITEM_BYTES)}${']'.repeat(MAX_ITEM_BYTES)}}`;
  for (const text of [`[{"requestId":"r-1","label":1},${huge},{"requestId":"r-3","label":0}]`, `{"requestId":"r-1","label":1}\n${huge}\n{"requestId":"r-3","label":0}`]) {
    const { summary, accepted } = await parse(text);
    assert.deepEqual(accepted.map((a) => a.requestId), ['r-1', 'r-3']);
    assert.deepEqual(summary!.rejected, [{ index: 1, error: `over ${MAX_ITEM_BYTES} bytes` }]);
  }
  assert.deepEqual((await parse(huge)).summary!.rejected, [{ index: 0, error: `over ${MAX_ITEM_BYTES} bytes` }]);
});

test('rejections listed up to MAX_LISTED_REJECTIONS, then counted', async () => {
  const n = MAX_LISTED_REJECTIONS + 500;
  const { summary } = await parse(`${'1\n'.repeat(n)}{"unit":"u","label":1}\n`);
  assert.equal(summary!.accepted, 1);
  assert.equal(summary!.rejected.length, MAX_LISTED_REJECTIONS);
  assert.equal(summary!.rejected.at(-1)!.index, MAX_LISTED_REJECTIONS - 1);
  assert.equal(summary!.rejectedCount, n);
  assert.equal((await parse('1\n2')).summary!.rejectedCount, undefined, 'absent while the list is whole');
});

test('a 16 MiB body of any shape is read in slices: the event loop turns hundreds of times meanwhile', async () => {
  const MiB16 = 16 * 1024 * 1024 - 64;
  const line = '{"unit":"u-123456","label":1}';
  const lines = Math.floor(MiB16 / (line.length + 1));
  const shapes: Array<[string, string, number]> = [
    ['NDJSON', `${line}\n`.repeat(lines), lines],
    ['a JSON array', `[${Array(lines).fill(line).join(',')}]`, lines],
    ['one endless line', 'x'.repeat(MiB16), 0],
    ['an unterminated string in an array', `["${'x'.repeat(MiB16)}`, 0],
    ['an unterminated object', `{"a":"${'y'.repeat(MiB16)}`, 0],
    ['16 MiB of spaces, then an item', `${' '.repeat(MiB16)}${line}`, 1],
    ['a 16 MiB number', `[${'1'.repeat(MiB16)}]`, 0],
  ];
  for (const [name, body, accepted] of shapes) {
    let ticks = 0;
    let running = true;
    const spin = () => {
      if (!running) return;
      ticks++;
      setImmediate(spin);
    };
    setImmediate(spin);
    const r = await parse(body);
    running = false;
    assert.equal(r.summary!.accepted, accepted, name);
    assert.ok(ticks >= 500, `${name}: the event loop turned ${ticks} times while it was read`);
  }
});

test('outcomeLine writes what the pino sink wrote: level, time, fields, msg last', () => {
  assert.equal(outcomeLine({ requestId: 'r"1', label: 1 }, 5), '{"level":30,"time":5,"requestId":"r\\"1","label":1,"msg":"outcome"}\n');
  assert.equal(outcomeLine({ unit: 'u', label: 0 }, 5), '{"level":30,"time":5,"unit":"u","label":0,"msg":"outcome"}\n');
  assert.deepEqual(JSON.parse(outcomeLine({ requestId: 'a', unit: '\u2028', label: 1 }, 7)), { level: 30, time: 7, requestId: 'a', unit: '\u2028', label: 1, msg: 'outcome' });
});
