/** Reading a whole input file with an error that names it and says why in plain words. */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';

/**
 * The file's text and absolute path; on failure `fail(message, cause)` builds the error to throw
 * (each caller keeps its own code), with the message `cannot read <what> <abs path>: <reason>`.
 */
export function readTextFile(file: string, what: string, fail: (message: string, cause: unknown) => Error): { text: string; abs: string } {
  const abs = resolve(file);
  try {
    return { text: readFileSync(abs, 'utf8'), abs };
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const reason = code === 'ENOENT' ? 'no such file' : code === 'EISDIR' ? 'is a directory' : (err as Error).message;
    throw fail(`cannot read ${what} ${abs}: ${reason}`, err);
  }
}
