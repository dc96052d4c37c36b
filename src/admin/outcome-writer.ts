/**
 * Taking in `POST /outcomes` bodies: read (outcomes.ts), format and append to `outcomes.jsonl` in
 * chunks, each written off the event loop, the whole batch in the file before the answer. Bodies are
 * taken one at a time, so at most one batch is being formatted and a batch's lines stay together.
 */
import type { RecordSink } from '../records/sink.js';
import type { OutcomeRecord } from '../records/types.js';
import { nextTurn, parseOutcomes, type OutcomesSummary, type OutcomeTarget } from './outcomes.js';

/** Lines are appended in writes of about this size. */
export const CHUNK_BYTES = 64 * 1024;

/**
 * The line the outcome sink's logger writes for this record (docs/records.md), built directly: a
 * batch holds hundreds of thousands of them.
 */
export function outcomeLine(r: OutcomeRecord, time: number): string {
  let line = `{"level":30,"time":${time}`;
  if (r.requestId !== undefined) line += `,"requestId":${JSON.stringify(r.requestId)}`;
  if (r.unit !== undefined) line += `,"unit":${JSON.stringify(r.unit)}`;
  if (r.instance !== undefined) line += `,"instance":${r.instance}`;
  return `${line},"label":${r.label},"msg":"outcome"}\n`;
}

/** Collects lines into chunks; at each turn, the full chunks are appended before reading on. */
class ChunkedAppend implements OutcomeTarget {
  #lines: string[] = [];
  #chars = 0;
  #full: Buffer[] = [];

  constructor(
    private readonly sink: RecordSink,
    private readonly unit: ((key: string) => string) | null,
  ) {}

  accept(record: OutcomeRecord): void {
    if (record.unit !== undefined && this.unit !== null) record.unit = this.unit(record.unit);
    const line = outcomeLine(record, Date.now());
    this.#lines.push(line);
    this.#chars += line.length;
    if (this.#chars >= CHUNK_BYTES) this.#cut();
  }

  async turn(): Promise<void> {
    if (this.#full.length === 0) return nextTurn();
    await this.#appendFull();
  }

  /** Everything accepted, in the file. */
  async end(): Promise<void> {
    this.#cut();
    await this.#appendFull();
  }

  #cut(): void {
    if (this.#lines.length === 0) return;
    this.#full.push(Buffer.from(this.#lines.join(''), 'utf8'));
    this.#lines = [];
    this.#chars = 0;
  }

  async #appendFull(): Promise<void> {
    const chunks = this.#full;
    this.#full = [];
    for (const chunk of chunks) await this.sink.append(chunk);
  }
}

export interface OutcomeIntake {
  /**
   * Read `body`, append its valid items; resolves once they are in the file (null for a blank
   * body), rejects when a write failed.
   */
  take(body: Buffer, unit: ((key: string) => string) | null): Promise<OutcomesSummary | null>;
}

export function createOutcomeIntake(sink: RecordSink): OutcomeIntake {
  let queue: Promise<unknown> = Promise.resolve();
  return {
    take(body, unit) {
      const run = queue.then(async () => {
        const target = new ChunkedAppend(sink, unit);
        const summary = await parseOutcomes(body, target);
        await target.end();
        return summary;
      });
      queue = run.catch(() => undefined);
      return run;
    },
  };
}
