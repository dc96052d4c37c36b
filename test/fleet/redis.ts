/**
 * A real redis-server for the fleet tests: on a free loopback port, no persistence, its own
 * directory under the system's temp dir, killed when the test file ends. `kill()` is SIGKILL (a
 * crash); `restart()` starts a new, empty server on the same port.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { after } from 'node:test';

export const REDIS_SERVER = '/usr/bin/redis-server';

export interface TestRedis {
  readonly port: number;
  readonly url: string;
  /** SIGKILL; resolves once the process is gone. */
  kill(): Promise<void>;
  /** SIGSTOP / SIGCONT: a Redis that holds its connections and answers nothing, then resumes. */
  pause(): void;
  resume(): void;
  /** A new server on the same port (empty: nothing is saved). */
  restart(): Promise<void>;
  /** One command on a fresh connection (RESP2 inline protocol is enough for tests). */
  command(...args: string[]): Promise<string>;
}

const running = new Set<ChildProcess>();
after(() => {
  for (const p of running) p.kill('SIGKILL');
});

export async function freePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/** Send one command in RESP and return the raw reply text once a full reply line arrived. */
function send(port: number, args: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, '127.0.0.1');
    let text = '';
    socket.setTimeout(2000, () => socket.destroy(new Error('redis command timed out')));
    socket.on('error', reject);
    socket.on('data', (d) => {
      text += d.toString('utf8');
      // Every reply these tests read is one line, or a bulk string of two.
      const lines = text.split('\r\n');
      if (lines.length >= 2 && (!text.startsWith('$') || text.startsWith('$-1') || lines.length >= 3)) {
        socket.end();
        resolve(text.startsWith('$') && !text.startsWith('$-1') ? lines[1]! : lines[0]!);
      }
    });
    socket.write(`*${args.length}\r\n` + args.map((a) => `$${Buffer.byteLength(a)}\r\n${a}\r\n`).join(''));
  });
}

/** `port`: a port chosen beforehand (a test that starts an instance before its Redis). */
export async function startRedis(port?: number): Promise<TestRedis> {
  if (!fs.existsSync(REDIS_SERVER)) {
    throw new Error(`${REDIS_SERVER} is missing: the fleet tests run a real Redis (Debian: apt-get install redis-server; .ci/run installs it)`);
  }
  port ??= await freePort();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ccrouter-redis-'));
  process.once('exit', () => fs.rmSync(dir, { recursive: true, force: true }));
  let proc: ChildProcess | null = null;

  const start = async () => {
    const p = spawn(REDIS_SERVER, ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir], { stdio: 'ignore' });
    running.add(p);
    p.once('exit', () => running.delete(p));
    proc = p;
    const deadline = Date.now() + 10_000;
    for (;;) {
      try {
        if ((await send(port, ['PING'])) === '+PONG') return;
      } catch {
        // not listening yet
      }
      if (p.exitCode !== null || Date.now() > deadline) throw new Error(`redis-server did not start on port ${port}`);
      await new Promise((r) => setTimeout(r, 20));
    }
  };
  await start();

  return {
    port,
    url: `redis://127.0.0.1:${port}`,
    async kill() {
      const p = proc;
      if (p === null || p.exitCode !== null || p.signalCode !== null) return;
      const gone = new Promise<void>((resolve) => p.once('exit', () => resolve()));
      p.kill('SIGKILL');
      await gone;
    },
    pause: () => void proc?.kill('SIGSTOP'),
    resume: () => void proc?.kill('SIGCONT'),
    restart: start,
    command: (...args) => send(port, args),
  };
}
