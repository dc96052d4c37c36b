/**
 * The worker thread behind off-thread.ts: reads, parses and validates a config file for a reload, so
 * that the serving thread never waits on it. One request at a time; answers with the loaded config
 * or with the error's code, message (variables' text already hidden) and issues.
 */
import { parentPort } from 'node:worker_threads';
import { isConfigInvalid } from './issues.js';
import { loadServingConfig } from './serving.js';
import type { ReadReply, ReadRequest } from './off-thread.js';

const port = parentPort;
if (port === null) throw new Error('read-worker.ts runs as a worker thread (see off-thread.ts)');

port.on('message', (req: ReadRequest) => {
  let reply: ReadReply;
  try {
    reply = { id: req.id, ok: true, loaded: loadServingConfig(req.file, req.env) };
  } catch (err) {
    const code = (err as { code?: unknown }).code;
    reply = {
      id: req.id,
      ok: false,
      code: typeof code === 'string' ? code : 'ERR',
      message: (err as Error).message,
      issues: isConfigInvalid(err) ? err.issues : undefined,
    };
  }
  port.postMessage(reply);
});
