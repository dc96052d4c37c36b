import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { parse } from 'yaml';
import { runCheck, type CheckIO } from '../../src/commands/check.js';
import { loadConfigFile } from '../../src/config/load.js';

function capture(env: Record<string, string> = {}): CheckIO & { out: () => string; err: () => string } {
  let out = '';
  let err = '';
  return {
    stdout: { write: (s: string) => { out += s; } },
    stderr: { write: (s: string) => { err += s; } },
    env,
    out: () => out,
    err: () => err,
  };
}

function tempFile(t: { after(fn: () => void): void }, name: string, text: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'ccrouter-check-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const file = join(dir, name);
  writeFileSync(file, text);
  return file;
}

const GOOD = `
models:
  champion: { url: http://127.0.0.1:9001, version: v1 }
  challenger: { url: http://127.0.0.1:9002, version: v2, timeoutMs: 2s }
routes: [{ path: /predict, preset: mlflow }]
listen: { port: "\${PORT}" }
`;

test('a valid config: effective settings as YAML, then the id; exit 0', async (t) => {
  const file = tempFile(t, 'good.yaml', GOOD);
  const io = capture({ PORT: '8088' });
  assert.equal(await runCheck(['--config', file], io), 0);
  assert.equal(io.err(), '');
  const { id } = loadConfigFile(file, { PORT: '8088' });
  const lines = io.out().trimEnd().split('\n');
  assert.equal(lines[0], `# effective configuration of ${file}`);
  assert.equal(lines.at(-1), `config id: ${id}`);
  // the whole output is YAML: the effective config plus a "config id" key
  const printed = parse(io.out()) as Record<string, any>;
  // a value from the environment is shown as written, never as the variable's text
  assert.equal(printed.listen.port, '${PORT}');
  assert.match(io.out(), /^ {2}port: \$\{PORT\} # from the environment: a number$/m);
  assert.doesNotMatch(io.out(), /8088/);
  assert.equal(printed.models.challenger.timeoutMs, 2000);
  assert.equal(printed.routes[0].method, 'POST');
  assert.equal(printed.traffic.shadowLimit, 1024);
});

test('a model header value written in the file is never printed (credentials); one from the environment shows as written', async (t) => {
  const file = tempFile(t, 'headers.yaml', `
models:
  champion: { url: http://127.0.0.1:9001, version: v1, headers: { authorization: "Bearer literal-secret", cookie: null } }
  challenger: { url: http://127.0.0.1:9002, version: v2, headers: { x-api-key: "\${KEY}", X-Other: "\${KEY}" } }
routes: [{ path: /predict, score: /score }]
`);
  const io = capture({ KEY: 'env-secret' });
  assert.equal(await runCheck(['--config', file], io), 0);
  assert.doesNotMatch(io.out(), /literal-secret|env-secret/);
  const printed = parse(io.out()) as Record<string, any>;
  assert.deepEqual(printed.models.champion.headers, { authorization: '[not printed]', cookie: null });
  // A name stored lower-cased no longer matches its spelling in the file: not printed either.
  assert.deepEqual(printed.models.challenger.headers, { 'x-api-key': '${KEY}', 'x-other': '[not printed]' });
});

test('an invalid config: file and every path on stderr; exit 1', async (t) => {
  const file = tempFile(t, 'bad.yaml', `${GOOD}traffic: { control: 0.6, challenger: 0.5 }\nfallback: maybe\n`);
  const io = capture({ PORT: '8088' });
  assert.equal(await runCheck(['--config', file], io), 1);
  assert.equal(io.out(), '');
  assert.equal(io.err(), [
    `ccrouter check: invalid config ${file} (2 problems):`,
    'traffic.challenger: traffic.control + traffic.challenger must be <= 1, got 0.6 + 0.5',
    'fallback: must be one of champion, none, got string "maybe"',
    '',
  ].join('\n'));
});

test('an unset variable, a YAML error and a missing file are failed checks too; exit 1', async (t) => {
  const good = tempFile(t, 'good.yaml', GOOD);
  let io = capture();
  assert.equal(await runCheck(['-c', good], io), 1);
  assert.match(io.err(), /^listen\.port: environment variable PORT is not set$/m);

  const broken = tempFile(t, 'broken.yaml', 'models: [\n');
  io = capture();
  assert.equal(await runCheck([`--config=${broken}`], io), 1);
  assert.match(io.err(), new RegExp(`^ccrouter check: cannot parse config ${broken} at line \\d+, column \\d+: `));

  io = capture();
  const missing = join(tmpdir(), 'ccrouter-no-such-dir', 'c.yaml');
  assert.equal(await runCheck(['--config', missing], io), 1);
  assert.equal(io.err(), `ccrouter check: cannot read config ${missing}: no such file\n`);
});

test('bad usage names the flag; exit 2', async () => {
  const cases: Array<[string[], string]> = [
    [['--bogus'], 'ccrouter check: unknown flag --bogus (see ccrouter check --help)\n'],
    [['--config'], 'ccrouter check: flag --config needs a value (see ccrouter check --help)\n'],
    [['--config='], 'ccrouter check: flag --config needs a value (see ccrouter check --help)\n'],
    [['extra.yaml'], 'ccrouter check: unexpected argument extra.yaml (every input is given with a flag) (see ccrouter check --help)\n'],
  ];
  for (const [argv, message] of cases) {
    const io = capture();
    assert.equal(await runCheck(argv, io), 2, argv.join(' '));
    assert.equal(io.err(), message);
    assert.equal(io.out(), '');
  }
});

test('--help prints usage; exit 0', async () => {
  const io = capture();
  assert.equal(await runCheck(['--help'], io), 0);
  assert.match(io.out(), /^Usage: ccrouter check \[--config FILE\]/);
  assert.match(io.out(), /default: config\/ccrouter\.yaml/);
});

test('without --config it checks config/ccrouter.yaml in the working directory', async () => {
  // the repository root holds the example; the tests run from there
  const io = capture();
  assert.equal(await runCheck([], io), 0, io.err());
  assert.match(io.out(), /config id: [0-9a-f]{12}\n$/);
});
