/** Raw-socket HTTP for protocol abuse tests: exactly the bytes we mean, nothing normalized. */
import net, { type AddressInfo } from 'node:net';

export interface RawExchange {
  /** Everything the server sent before it closed the connection (or the timeout). */
  text: string;
  /** True when the server closed the connection. */
  closed: boolean;
  /** Milliseconds until the close (or the timeout). */
  ms: number;
}

/**
 * Send `chunks` (a string, or parts written `gapMs` apart) to `url`'s host and port, then collect
 * the answer until the server closes or `timeoutMs` passes.
 */
export function rawExchange(url: string, chunks: string | Buffer | Array<string | Buffer>, opts: { gapMs?: number; timeoutMs?: number; endAfterWrite?: boolean } = {}): Promise<RawExchange> {
  const { port, hostname } = new URL(url);
  const parts = Array.isArray(chunks) ? chunks : [chunks];
  const timeoutMs = opts.timeoutMs ?? 5000;
  return new Promise((resolve) => {
    const t0 = performance.now();
    let text = '';
    let done = false;
    const finish = (closed: boolean) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      socket.destroy();
      resolve({ text, closed, ms: performance.now() - t0 });
    };
    const socket = net.connect(Number(port), hostname, async () => {
      for (let i = 0; i < parts.length && !done; i++) {
        if (i > 0 && opts.gapMs) await new Promise((r) => setTimeout(r, opts.gapMs));
        if (!socket.destroyed) socket.write(parts[i]!);
      }
      if (opts.endAfterWrite) socket.end();
    });
    socket.on('data', (d) => (text += d.toString('latin1')));
    socket.on('close', () => finish(true));
    socket.on('error', () => finish(true));
    const timer = setTimeout(() => finish(false), timeoutMs);
  });
}

/** Status codes of every response in a raw answer, in order. */
export function statuses(text: string): number[] {
  return [...text.matchAll(/HTTP\/1\.[01] (\d{3})/g)].map((m) => Number(m[1]));
}

/**
 * A raw TCP "model" on 127.0.0.1 port 0: `onRequest` gets the socket and the request's text once a
 * whole request (headers and a body with content-length) is in. `closed` settles when the first
 * connection closes. Everything is closed after the test.
 */
export async function rawUpstream(
  t: { after(fn: () => Promise<void>): void },
  onRequest: (socket: net.Socket, request: string) => void,
): Promise<{ url: string; connections: () => number; requests: () => number; closed: Promise<void> }> {
  let connections = 0;
  let requests = 0;
  let firstClosed!: () => void;
  const closed = new Promise<void>((resolve) => (firstClosed = resolve));
  const sockets = new Set<net.Socket>();
  const server = net.createServer((socket) => {
    connections++;
    sockets.add(socket);
    socket.on('close', () => {
      sockets.delete(socket);
      firstClosed();
    });
    socket.on('error', () => undefined);
    let buf = '';
    socket.on('data', (d) => {
      buf += d;
      const end = buf.indexOf('\r\n\r\n');
      if (end < 0) return;
      const len = Number(/content-length: (\d+)/i.exec(buf)?.[1] ?? 0);
      if (buf.length < end + 4 + len) return;
      const request = buf.slice(0, end + 4 + len);
      buf = buf.slice(end + 4 + len);
      requests++;
      onRequest(socket, request);
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  t.after(async () => {
    for (const s of sockets) s.destroy();
    await new Promise<void>((r) => server.close(() => r()));
  });
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, connections: () => connections, requests: () => requests, closed };
}
