/** Reading a PEM file of CA certificates (`models.<role>.ca`, docs/config.md#models-the-champion-and-the-challenger-both-required). */
import { X509Certificate } from 'node:crypto';
import fs from 'node:fs';

/** A CA bundle larger than this is refused: the system's whole bundle is a few hundred KiB. */
export const PEM_MAX_BYTES = 4 * 1024 * 1024;

const BLOCK = /-----BEGIN CERTIFICATE-----\r?\n[\s\S]*?-----END CERTIFICATE-----/g;

/**
 * The certificates of `file` as PEM text, each checked to parse; throws an Error whose message says
 * what is wrong with the file (the caller names the setting).
 */
export function readPemCertificates(file: string): string {
  let text: string;
  try {
    // A FIFO or a device would block the read or never end.
    const stat = fs.statSync(file);
    if (!stat.isFile()) throw new Error('not a regular file');
    if (stat.size > PEM_MAX_BYTES) throw new Error(`larger than ${PEM_MAX_BYTES} bytes`);
    text = fs.readFileSync(file, 'latin1');
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    const why = e.code === 'ENOENT' ? 'no such file' : e.code === 'EACCES' ? 'permission denied' : e.message;
    throw new Error(`cannot read ${JSON.stringify(file)}: ${why}`);
  }
  const blocks = text.match(BLOCK);
  if (blocks === null) throw new Error(`${JSON.stringify(file)} is not a PEM file: no -----BEGIN CERTIFICATE----- block`);
  blocks.forEach((block, i) => {
    try {
      new X509Certificate(block);
    } catch (err) {
      throw new Error(`${JSON.stringify(file)}: certificate ${i + 1} of ${blocks.length} cannot be parsed (${(err as Error).message})`);
    }
  });
  return blocks.join('\n') + '\n';
}
