/**
 * What the report says about its input (a Parquet file skipped, a manifest that disagrees with the
 * files) is in the report itself — `window.notices` in JSON, a note in text and HTML — not only on
 * stderr, where whoever reads the report never sees it. File names are input: escaped everywhere.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { runReport } from '../../src/commands/report.js';
import { Browser, chromiumMissing } from './browser-cdp.js';
import { io, randomLogs, tempDir, writeLogs } from './helpers.js';

const BINDING = '__ccrHit';
// A file name cannot hold a slash: markup that needs none, each calling the binding were it ever run.
const HOSTILE = `x"><img src=x onerror="${BINDING}('img')"><svg onload="${BINDING}('svg')">\u202e.parquet`;

/** A log directory with records, a truncated Parquet file and one whose name is markup. */
function logsWithBadParquet(dir: string): { truncated: string; hostile: string } {
  const d = randomLogs(31, 120);
  writeLogs(dir, { 'pairs.jsonl': d.pairs, 'outcomes.jsonl': d.outcomes });
  const junk = Buffer.concat([Buffer.from('PAR1'), Buffer.alloc(60, 7)]);
  const truncated = path.join(dir, 'extra', 'truncated.parquet');
  fs.mkdirSync(path.dirname(truncated));
  fs.writeFileSync(truncated, junk);
  const hostile = path.join(dir, 'extra', HOSTILE);
  fs.writeFileSync(hostile, junk);
  return { truncated, hostile };
}

async function run(args: string[]): Promise<{ out: string; err: string }> {
  const c = io(false);
  const code = await runReport(args, c.io);
  assert.equal(code, 0, c.err.join(''));
  return { out: c.out.join(''), err: c.err.join('') };
}

test('report notices (a truncated Parquet file skipped) are in the JSON, text and HTML report, not only on stderr', async (t) => {
  const dir = tempDir(t);
  const { truncated, hostile } = logsWithBadParquet(dir);

  const json = await run(['--logs', dir, '--format', 'json']);
  const report = JSON.parse(json.out);
  const notices: string[] = report.window.notices;
  assert.equal(notices.length, 2, notices.join('\n'));
  assert.ok(notices.some((n) => n.startsWith(`${truncated}: not a readable Parquet file`)), notices.join('\n'));
  // JSON carries the name as it is (JSON readers get the file's own name back).
  assert.ok(notices.some((n) => n.startsWith(`${hostile}: not a readable Parquet file`)), notices.join('\n'));
  assert.equal(report.window.malformedLines, 2);
  assert.match(json.err, /note: .*truncated\.parquet: not a readable Parquet file/);

  const text = await run(['--logs', dir, '--format', 'text']);
  assert.match(text.out, /WINDOW[^\n]*\n[^\n]*\n {2}note: [^\n]*truncated\.parquet: not a readable Parquet file[^\n]*skipped, counted in malformedLines/);
  // A terminal acts on U+202E: written escaped.
  assert.doesNotMatch(text.out, /\u202e/);
  assert.ok(text.out.includes(`note: ${path.join(dir, 'extra')}${path.sep}x"><img src=x onerror="${BINDING}('img')"><svg onload="${BINDING}('svg')">\\u202e.parquet`));

  const html = await run(['--logs', dir, '--format', 'html']);
  assert.match(html.out, /<ul class="flags notices"><li>Note on the input: [^<]*truncated\.parquet: not a readable Parquet file/);
  assert.ok(!html.out.includes(`<img src=x`), 'the hostile name is not markup');
  assert.ok(html.out.includes('x&quot;&gt;&lt;img src=x onerror=&quot;'), 'the hostile name is shown escaped');
});

const missing = chromiumMissing();

test('report notices in the HTML report: a Parquet file named as markup runs nothing in Chromium and reads back as text', { skip: missing ?? false }, async (t) => {
  const dir = tempDir(t);
  const { hostile } = logsWithBadParquet(dir);
  const out = path.join(dir, 'report.html');
  await run(['--logs', dir, '--format', 'html', '--out', out]);
  const browser = await Browser.launch();
  t.after(() => browser.close());
  const page = await browser.page(BINDING);
  await page.open(pathToFileURL(out).href);
  await page.eval('new Promise((r) => setTimeout(r, 0))');
  assert.deepEqual(page.calls, [], 'no payload called the binding');
  const dom = await page.eval<{ imgs: number; notes: string[] }>(`(() => ({
    imgs: document.images.length,
    notes: [...document.querySelectorAll('ul.notices li')].map((li) => li.textContent),
  }))()`);
  assert.equal(dom.imgs, 0);
  assert.equal(dom.notes.length, 2);
  // Shown as the very text, bidi override escaped as the report escapes it.
  const shown = hostile.replace('\u202e', '\\u202e');
  assert.ok(dom.notes.some((n) => n.startsWith(`Note on the input: ${shown}: not a readable Parquet file`)), dom.notes.join('\n'));
});
