/** A directory laid out as the kubelet mounts a ConfigMap, and its atomic update. */
import fs from 'node:fs';
import path from 'node:path';
import { tempDir } from './proxy.js';

export interface ConfigMapDir {
  dir: string;
  /** The path a container reads: `<dir>/<name>`, a symlink to `..data/<name>`. */
  file: string;
  /** The kubelet's swap: a new `..<timestamp>` directory, a `..data_tmp` symlink to it renamed over `..data`. */
  update(next: string): void;
}

/**
 * `<dir>/<name>` → `..data/<name>`, `..data` → `..<timestamp>/` holding the content: the file's own
 * name never changes on an update, only `..data` does.
 */
export function configMapDir(content: string, name = 'ccrouter.yaml'): ConfigMapDir {
  const dir = tempDir('ccrouter-configmap-');
  let version = 0;
  const write = (text: string) => {
    const data = `..2026_12_05_07_${String(++version).padStart(2, '0')}_00.000000001`;
    fs.mkdirSync(path.join(dir, data));
    fs.writeFileSync(path.join(dir, data, name), text);
    return data;
  };
  fs.symlinkSync(write(content), path.join(dir, '..data'));
  fs.symlinkSync(`..data/${name}`, path.join(dir, name));
  return {
    dir,
    file: path.join(dir, name),
    update(next: string) {
      const old = fs.readlinkSync(path.join(dir, '..data'));
      const data = write(next);
      fs.symlinkSync(data, path.join(dir, '..data_tmp'));
      fs.renameSync(path.join(dir, '..data_tmp'), path.join(dir, '..data'));
      // As the kubelet does, the old content goes once the swap is done.
      fs.rmSync(path.join(dir, old), { recursive: true });
    },
  };
}
