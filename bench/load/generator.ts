/**
 * The open-loop generator as a long-lived child process (one per layout, so that it is pinned with
 * the load side and pays its start-up once): the harness sends `run` messages over IPC.
 */
import { fork } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Proc, TSX, pin } from '../lib/proc.js';
import type { OpenLoopRequest, OpenLoopResult } from './open-loop.js';

const SCRIPT = path.join(path.dirname(fileURLToPath(import.meta.url)), 'open-loop.ts');

type Message = { type: 'ready' } | { type: 'result'; id: number; result: OpenLoopResult } | { type: 'error'; id: number; message: string };

export class OpenLoopGenerator {
  readonly proc: Proc;
  #next = 0;
  readonly #pending = new Map<number, { resolve: (r: OpenLoopResult) => void; reject: (e: Error) => void }>();

  private constructor(proc: Proc) {
    this.proc = proc;
    proc.child.on('message', (msg: Message) => {
      if (msg.type === 'ready') return;
      const p = this.#pending.get(msg.id);
      if (!p) return;
      this.#pending.delete(msg.id);
      if (msg.type === 'result') p.resolve(msg.result);
      else p.reject(new Error(`open-loop generator: ${msg.message}`));
    });
    void proc.exited().then((code) => {
      for (const p of this.#pending.values()) p.reject(new Error(`open-loop generator exited (${code}):\n${proc.output}`));
      this.#pending.clear();
    });
  }

  static async start(cpus: string | null): Promise<OpenLoopGenerator> {
    // A roomy young generation: fewer scavenges in the generator, fewer pauses in what it measures.
    const child = fork(SCRIPT, [], { execArgv: ['--import', TSX, '--max-semi-space-size=64'], stdio: ['pipe', 'pipe', 'pipe', 'ipc'] });
    const proc = new Proc('open-loop', child);
    await new Promise<void>((resolve, reject) => {
      const t = setTimeout(() => reject(new Error(`open-loop generator not ready:\n${proc.output}`)), 20_000);
      child.once('message', () => (clearTimeout(t), resolve()));
      child.once('exit', (code) => (clearTimeout(t), reject(new Error(`open-loop generator exited (${code}):\n${proc.output}`))));
    });
    if (cpus !== null) pin(proc.pid, cpus);
    return new OpenLoopGenerator(proc);
  }

  run(request: OpenLoopRequest): Promise<OpenLoopResult> {
    const id = this.#next++;
    return new Promise((resolve, reject) => {
      this.#pending.set(id, { resolve, reject });
      this.proc.child.send({ type: 'run', id, request });
    });
  }

  async stop(): Promise<void> {
    if (this.proc.child.connected) this.proc.child.disconnect();
    await this.proc.stop(2000);
  }
}
