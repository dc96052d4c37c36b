/**
 * Hostile strings never reach markup or SQL (docs/report.md, "Strings from the logs are shown, never
 * obeyed"): records whose versions, config ids, field (segment) values, error kinds, units, request
 * ids and event details are script, markup, quotes, backslashes and SQL, rendered to HTML and opened
 * in a real headless Chromium. Each payload calls a page binding if it ever runs; a control page
 * with the same payloads unescaped proves the binding would have been called.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { after, before, test } from 'node:test';
import { runReport, type Report } from '../../src/commands/report.js';
import { Browser, chromiumMissing, type Page } from './browser-cdp.js';
import { io, outcome, pair, tempDir, writeLogs } from './helpers.js';
import { diff, referenceReport } from './reference.js';

type Obj = Record<string, any>;
const BINDING = '__ccrHit';

/** Each payload would call the binding with its own name, were it ever run as script. */
const PAYLOADS = {
  script: `<script>${BINDING}('script');window.__ccrPwned=1</script>`,
  img: `</svg><img src=x onerror="${BINDING}('img')">`,
  attribute: `"><svg onload="${BINDING}('attribute')"><x a="`,
  sql: `'); DROP TABLE pairs; --`,
  backslash: String.raw`C:\temp\"quoted\" \'single\' \u003cscript\u003e${BINDING}('backslash')\u003c/script\u003e`,
  closers: `</title></style></table></figure><script>${BINDING}('closers')</script>`,
  comment: `]]><!--<script>${BINDING}('comment')</script>--><iframe srcdoc="<script>parent.${BINDING}('iframe')</script>">`,
  entity: `&lt;script&gt;${BINDING}('entity')&lt;/script&gt;&#60;b&#62;`,
} as const;
const ALL = Object.values(PAYLOADS);
const T0 = Date.UTC(2026, 5, 1);

/** 400 records over two days carrying the payloads everywhere a string from the logs goes. */
function hostileLogs(): { pairs: Obj[]; events: Obj[]; outcomes: Obj[] } {
  const pairs: Obj[] = [];
  const outcomes: Obj[] = [];
  for (let i = 0; i < 400; i++) {
    const y = i % 5 === 0 ? 1 : 0;
    const cs = ((i * 37) % 100) / 100;
    const hs = Math.min(1, cs * 0.5 + y * 0.5);
    const p = pair({
      time: T0 + i * 7 * 60_000,
      requestId: `${ALL[i % ALL.length]}#${i}`,
      unit: `${PAYLOADS.sql}${i % 50}`,
      config: i < 100 ? PAYLOADS.closers : PAYLOADS.sql,
      group: i % 10 === 0 ? 'control' : i % 3 === 0 ? 'challenger' : 'champion',
      champion: i % 41 === 0
        ? outcome({ version: PAYLOADS.script, error: { kind: PAYLOADS.comment, message: PAYLOADS.img }, latencyMs: 90 })
        : outcome({ version: PAYLOADS.script, score: cs, decision: cs >= 0.5 }),
      challenger: outcome({ role: 'challenger', version: PAYLOADS.img, score: hs, decision: hs >= 0.5 }),
      fields: { country: ALL[i % ALL.length], [PAYLOADS.sql]: ALL[(i + 3) % ALL.length] },
    });
    pairs.push(p);
    if (i % 2 === 0) outcomes.push({ requestId: p.requestId, label: y });
    else if (i % 7 === 1) outcomes.push({ unit: p.unit, label: y });
  }
  const ev = (time: number, type: string, extra: Obj) => ({ level: 30, time, msg: 'event', type, config: PAYLOADS.attribute, traffic: { control: 0.1, challenger: 0.3 }, ...extra });
  const events = [
    ev(T0 - 1000, 'start', { config: PAYLOADS.sql }),
    ev(T0 + 3600_000, 'config_loaded', { restartRequired: [PAYLOADS.script] }),
    ev(T0 + 7200_000, 'guardrail_tripped', { rule: PAYLOADS.backslash, value: 0.2, limit: 0.1 }),
    ev(T0 + 7300_000, 'rollback', { source: PAYLOADS.entity }),
    ev(T0 + 9000_000, 'bypass', { on: true, source: PAYLOADS.comment }),
  ];
  return { pairs, events, outcomes };
}

const missing = chromiumMissing();
let browser: Browser | null = null;

before(async () => {
  if (missing) {
    process.stderr.write(`SKIPPED: ${missing}\n`);
    return;
  }
  browser = await Browser.launch();
});

after(async () => {
  await browser?.close();
});

async function openFile(file: string): Promise<Page> {
  const page = await browser!.page(BINDING);
  await page.open(pathToFileURL(file).href);
  return page;
}

test('the control page: the same payloads, not escaped, do call the binding (the detector works)', { skip: missing ?? false }, async (t) => {
  const dir = tempDir(t);
  const file = path.join(dir, 'control.html');
  fs.writeFileSync(file, `<!doctype html><html><head><title>x</title></head><body><svg>${ALL.join('<br>')}</svg></body></html>`);
  const page = await openFile(file);
  // The srcdoc frame loads with the page; its script calls the parent's binding.
  await page.eval('new Promise((r) => setTimeout(r, 0))');
  for (const name of ['script', 'img', 'attribute', 'closers']) assert.ok(page.calls.includes(name), `${name} ran on the control page: ${page.calls}`);
  assert.equal(await page.eval('window.__ccrPwned'), 1);
});

test('the HTML report opened in Chromium runs no injected script and shows every hostile string as text', { skip: missing ?? false }, async (t) => {
  const dir = tempDir(t);
  const logs = hostileLogs();
  writeLogs(dir, { 'pairs.jsonl': logs.pairs, 'events.jsonl': logs.events, 'outcomes.jsonl': logs.outcomes });
  const out = path.join(dir, 'report.html');
  const cap = io();
  assert.equal(await runReport(['--logs', dir, '--segment', 'country', '--format', 'html', '--out', out], cap.io), 0, cap.err.join(''));

  const page = await openFile(out);
  await page.eval('new Promise((r) => setTimeout(r, 0))');
  assert.deepEqual(page.calls, [], 'no payload called the binding');
  assert.equal(await page.eval('typeof window.__ccrPwned'), 'undefined');
  const dom = await page.eval<Obj>(`(() => {
    const all = [...document.querySelectorAll('*')];
    return {
      scripts: document.scripts.length,
      imgs: document.images.length,
      iframes: document.querySelectorAll('iframe').length,
      handlers: all.flatMap((e) => [...e.attributes].filter((a) => /^on/i.test(a.name)).map((a) => e.tagName + ' ' + a.name)),
      svgs: document.querySelectorAll('svg').length,
      figures: document.querySelectorAll('figure').length,
      title: document.title,
      text: document.body.textContent,
      events: [...document.querySelectorAll('table')].find((x) => x.caption && x.caption.textContent.startsWith('Events'))?.innerText ?? '',
    };
  })()`);
  assert.equal(dom.scripts, 0);
  assert.equal(dom.imgs, 0);
  assert.equal(dom.iframes, 0);
  assert.deepEqual(dom.handlers, []);
  // Every chart is one inline SVG inside its figure: no payload opened or closed one.
  assert.equal(dom.svgs, dom.figures);
  assert.ok(dom.svgs >= 9, `charts: ${dom.svgs}`);
  assert.equal(dom.title, `ccrouter report: ${PAYLOADS.script} vs ${PAYLOADS.img}`);
  // Versions, config ids, error kinds, segment values and event details read back as the very text.
  for (const [name, s] of Object.entries(PAYLOADS)) assert.ok(dom.text.includes(s), `${name} shown as text`);
  assert.match(dom.events, /guardrail_tripped/);
  assert.ok(dom.events.includes(`${PAYLOADS.backslash} = 0.2 (limit 0.1)`));
  assert.ok(dom.events.includes(`challenger to 0 (${PAYLOADS.entity})`));
  assert.ok(dom.events.includes(PAYLOADS.attribute));
});

test('hostile strings reach no SQL: the figures are those of the plain implementation, tables intact', async (t) => {
  const dir = tempDir(t);
  const logs = hostileLogs();
  writeLogs(dir, { 'pairs.jsonl': logs.pairs, 'events.jsonl': logs.events, 'outcomes.jsonl': logs.outcomes });
  const input = { pairs: logs.pairs, events: logs.events, outcomeFiles: [logs.outcomes] };
  // The segment field itself is named by SQL: it is a JSON pointer in a quoted literal, never SQL.
  for (const segment of ['country', PAYLOADS.sql]) {
    const cap = io();
    assert.equal(await runReport(['--logs', dir, '--segment', segment, '--format', 'json'], cap.io), 0, cap.err.join(''));
    const r = JSON.parse(cap.out.join('')) as Report;
    assert.equal(diff(r, referenceReport({ ...input, segment })), null, segment);
    assert.equal(r.models.champion.version, PAYLOADS.script);
    assert.equal(r.models.challenger.version, PAYLOADS.img);
    assert.equal(r.traffic.srm.config, PAYLOADS.sql);
    assert.deepEqual(Object.keys(r.segments!).sort(), [...ALL].sort());
    assert.equal(r.models.champion.errors.byKind[PAYLOADS.comment], 10);
    // Labels joined through hostile request ids and units.
    assert.ok(r.labels.n >= 200);
    assert.equal(r.window.records, 400);
  }
});
