/** Real upstream model servers on 127.0.0.1 port 0, with scripted behaviour per test. */
import http from 'node:http';
import type { AddressInfo } from 'node:net';

export interface Received {
  method: string;
  url: string;
  headers: http.IncomingHttpHeaders;
  rawHeaders: string[];
  body: Buffer;
}

export type Behaviour = (req: Received, res: http.ServerResponse) => void | Promise<void>;

export interface Upstream {
  url: string;
  received: Received[];
  /** Replace the behaviour for the next requests. */
  behave(b: Behaviour): void;
  close(): Promise<void>;
}

/** Answers `{"score": <score>}` (score from the body's `score` field when given, else `fixed`). */
export function scoreBehaviour(fixed: number, delayMs = 0): Behaviour {
  return async (req, res) => {
    // unref: a slow answer still pending must not keep the test process alive.
    if (delayMs > 0) await new Promise((r) => setTimeout(r, delayMs).unref());
    let score = fixed;
    try {
      const j = JSON.parse(req.body.toString('utf8')) as { score?: unknown };
      if (typeof j.score === 'number') score = j.score;
    } catch {
      // not JSON: keep the fixed score
    }
    res.writeHead(200, { 'content-type': 'application/json', 'x-model': 'yes' });
    res.end(JSON.stringify({ score }));
  };
}

export async function startUpstream(behaviour: Behaviour): Promise<Upstream> {
  return serveUpstream('http', (handler) => http.createServer(handler), behaviour);
}

/**
 * A model server made by `create` (http, or https with its certificate) on 127.0.0.1 port 0: it
 * records every request it receives and answers as `behaviour` (replaceable with `behave`).
 */
export async function serveUpstream(
  scheme: 'http' | 'https', create: (handler: http.RequestListener) => http.Server, behaviour: Behaviour,
): Promise<Upstream> {
  let current = behaviour;
  const received: Received[] = [];
  const server = create((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const r: Received = { method: req.method!, url: req.url!, headers: req.headers, rawHeaders: req.rawHeaders, body: Buffer.concat(chunks) };
      received.push(r);
      void Promise.resolve(current(r, res)).catch(() => res.destroy());
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `${scheme}://127.0.0.1:${port}`,
    received,
    behave: (b) => {
      current = b;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** A port with nothing listening on it. */
export async function closedPort(): Promise<string> {
  const server = http.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return `http://127.0.0.1:${port}`;
}
