/** Raw-socket HTTP for protocol abuse tests: exactly the bytes we mean, nothing normalized. */
import net from 'node:net';

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
