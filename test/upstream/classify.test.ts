import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CCR_ERR_BAD_STATUS } from '../../src/errors.js';
import { CallAborted, classifyTransportError } from '../../src/upstream/classify.js';

const coded = (code: string, message: string) => Object.assign(new Error(message), { code });

test('ccrouter\'s own aborts keep their kind and message as is', () => {
  assert.deepEqual(classifyTransportError(new CallAborted('timeout', 'no complete answer within 250 ms')), { kind: 'timeout', message: 'no complete answer within 250 ms' });
  assert.deepEqual(classifyTransportError(new CallAborted('canceled', 'client went away')), { kind: 'canceled', message: 'client went away' });
});

test('undici\'s and the OS\'s timeout codes are kind timeout, the code leading the message', () => {
  for (const code of ['UND_ERR_CONNECT_TIMEOUT', 'UND_ERR_HEADERS_TIMEOUT', 'UND_ERR_BODY_TIMEOUT', 'ETIMEDOUT']) {
    assert.deepEqual(classifyTransportError(coded(code, 'slow')), { kind: 'timeout', message: `${code}: slow` });
  }
});

test('UND_ERR_ABORTED is kind canceled', () => {
  assert.deepEqual(classifyTransportError(coded('UND_ERR_ABORTED', 'Request aborted')), { kind: 'canceled', message: 'UND_ERR_ABORTED: Request aborted' });
});

test('every other failure is kind connect: refused, reset, socket, a status outside 100-599, errors without a code', () => {
  for (const code of ['ECONNREFUSED', 'ECONNRESET', 'EPIPE', 'UND_ERR_SOCKET', 'UND_ERR_RES_CONTENT_LENGTH_MISMATCH', 'ENOTFOUND']) {
    assert.deepEqual(classifyTransportError(coded(code, 'boom')), { kind: 'connect', message: `${code}: boom` });
  }
  assert.deepEqual(classifyTransportError(new CCR_ERR_BAD_STATUS(600)), { kind: 'connect', message: 'CCR_ERR_BAD_STATUS: model answered status 600, outside 100-599' });
  assert.deepEqual(classifyTransportError(new Error('plain')), { kind: 'connect', message: 'plain' });
});

test('values that are not errors still get a message: the value as a string', () => {
  assert.deepEqual(classifyTransportError('a string'), { kind: 'connect', message: 'a string' });
  assert.deepEqual(classifyTransportError(null), { kind: 'connect', message: 'null' });
  assert.deepEqual(classifyTransportError(undefined), { kind: 'connect', message: 'undefined' });
  assert.deepEqual(classifyTransportError({ code: 'ETIMEDOUT' }), { kind: 'timeout', message: '[object Object]' });
  assert.deepEqual(classifyTransportError(coded('', 'no code')), { kind: 'connect', message: 'no code' });
});

test('a code is matched exactly, never as an inherited property name', () => {
  assert.equal(classifyTransportError(coded('toString', 'x')).kind, 'connect');
  assert.equal(classifyTransportError(coded('__proto__', 'x')).kind, 'connect');
  assert.equal(classifyTransportError(coded('und_err_aborted', 'x')).kind, 'connect');
});
