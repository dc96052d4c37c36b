import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ModelRequest } from '../../src/upstream/model-request.js';

const base = { url: 'http://127.0.0.1:9/', version: 'v', timeoutMs: 1000 };

test('target: the URL prefix, then the model\'s own path for a mapped scored path, the query kept as received', () => {
  const r = new ModelRequest({ ...base, url: 'http://127.0.0.1:9/serving/', paths: { '/v1/models/fraud:predict': '/v1/models/fraud-v8:predict' } });
  assert.equal(r.target('/v1/models/fraud:predict'), '/serving/v1/models/fraud-v8:predict');
  assert.equal(r.target('/v1/models/fraud:predict?a=1&b=%20'), '/serving/v1/models/fraud-v8:predict?a=1&b=%20');
  assert.equal(r.target('/other?x'), '/serving/other?x');
  // Exact path match only: a longer path is not the route's.
  assert.equal(r.target('/v1/models/fraud:predict/x'), '/serving/v1/models/fraud:predict/x');
  assert.equal(new ModelRequest(base).target('/predict?q=1'), '/predict?q=1');
});

test('headers: every configured name removed whatever the caller\'s spelling or repeats, then the set values appended; none configured: the same list', () => {
  const r = new ModelRequest({ ...base, headers: { authorization: 'Bearer m', cookie: null, 'x-model': 'fraud-v8' } });
  const caller = ['Authorization', 'Bearer caller', 'COOKIE', 'a=1', 'cookie', 'b=2', 'X-Tenant', 't', 'x-ccrouter-role', 'shadow'];
  assert.deepEqual(r.headers(caller), ['X-Tenant', 't', 'x-ccrouter-role', 'shadow', 'authorization', 'Bearer m', 'x-model', 'fraud-v8']);
  const plain = new ModelRequest(base);
  assert.equal(plain.headers(caller), caller);
});
