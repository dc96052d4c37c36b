/**
 * Bounds on a config file, each checked before the step it protects (docs/config.md, "Bounds"): the
 * size before the file is read, the nesting depth before the YAML is turned into nodes, aliases and
 * their expansion before the nodes are turned into data. A config is a few kilobytes; these bounds are
 * far above any real one and far below what could stall or exhaust a process.
 */
import { closeSync, constants, fstatSync, openSync, readSync } from 'node:fs';
import { resolve } from 'node:path';
import { CCR_ERR_CONFIG_READ } from '../errors.js';

export const CONFIG_BOUNDS = Object.freeze({
  /** Bytes in the file; also the characters of text once every alias is written out in full. */
  bytes: 1024 * 1024,
  /** Levels of nested mappings and lists, aliases expanded. */
  depth: 64,
  /** Alias nodes (`*name`) in the file. */
  aliases: 100,
  /** Mappings, lists, keys, values and list items, aliases expanded. */
  nodes: 100_000,
});

/** `1 MiB` for the size limit, in the unit people write it in. */
export const SIZE_LIMIT_TEXT = '1 MiB';

export function readError(message: string, cause?: unknown): Error {
  return cause === undefined ? new CCR_ERR_CONFIG_READ(message) : new CCR_ERR_CONFIG_READ(message, { cause });
}

/**
 * The text of a config file and its absolute path, reading at most `CONFIG_BOUNDS.bytes` + 1 bytes.
 * Only a regular file is read: a FIFO or a device (`/dev/zero`) would block or never end. The file is
 * opened non-blocking so that even a FIFO swapped in after a check cannot hang the open.
 */
export function readConfigText(file: string): { text: string; abs: string } {
  const abs = resolve(file);
  let fd: number;
  try {
    fd = openSync(abs, constants.O_RDONLY | (constants.O_NONBLOCK ?? 0));
  } catch (err) {
    throw readError(`cannot read config ${abs}: ${reason(err)}`, err);
  }
  try {
    const stat = fstatSync(fd);
    if (stat.isDirectory()) throw readError(`cannot read config ${abs}: is a directory`);
    if (!stat.isFile()) throw readError(`cannot read config ${abs}: not a regular file`);
    if (stat.size > CONFIG_BOUNDS.bytes) throw tooLarge(abs, stat.size);
    // The file may grow between fstat and read: read one byte past the bound to notice.
    const buf = Buffer.allocUnsafe(CONFIG_BOUNDS.bytes + 1);
    let n = 0;
    for (;;) {
      const got = readSync(fd, buf, n, buf.length - n, null);
      if (got === 0) break;
      n += got;
      if (n > CONFIG_BOUNDS.bytes) throw tooLarge(abs, n, 'at least ');
    }
    return { text: buf.toString('utf8', 0, n), abs };
  } catch (err) {
    if ((err as { code?: unknown }).code === 'CCR_ERR_CONFIG_READ') throw err;
    throw readError(`cannot read config ${abs}: ${reason(err)}`, err);
  } finally {
    closeSync(fd);
  }
}

function tooLarge(abs: string, size: number, qualifier = ''): Error {
  return readError(`cannot read config ${abs}: ${qualifier}${size} bytes, over the limit of ${SIZE_LIMIT_TEXT} (${CONFIG_BOUNDS.bytes} bytes)`);
}

function reason(err: unknown): string {
  const code = (err as NodeJS.ErrnoException).code;
  if (code === 'ENOENT') return 'no such file';
  if (code === 'EISDIR') return 'is a directory';
  return (err as Error).message;
}
