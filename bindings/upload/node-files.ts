/**
 * {@link LocalFiles} over node:fs, for Node's CryptoClient: positioned reads of an upload's source file, and the
 * checkpoint file's read, atomic replace (checkpoint/atomic-file.ts) and removal.
 *
 * Deliberately not here: what is read or written (upload/source.ts, upload/checkpoint-file.ts).
 * @module
 */
import { open, readFile, rm } from 'node:fs/promises';
import { writeFileAtomically } from '../checkpoint/atomic-file.js';
import type { LocalFile, LocalFiles } from '../transfer/local-files.js';

/**
 * The node:fs file system.
 * @example
 *   const ctx = createClientContext(oss, options, nodeFiles);
 */
export const nodeFiles: LocalFiles = Object.freeze({
  async open(path: string): Promise<LocalFile> {
    const handle = await open(path, 'r');
    try {
      const st = await handle.stat();
      if (!st.isFile()) throw new TypeError(`"file" expected a path to a regular file, got ${JSON.stringify(path)} (not a file)`);
      return {
        size: st.size,
        mtimeMs: st.mtimeMs,
        read: async (into, offset, length, position) => (await handle.read(into, offset, length, position)).bytesRead,
        close: () => handle.close(),
      };
    } catch (err) {
      await handle.close();
      throw err;
    }
  },
  async readText(path: string): Promise<string | undefined> {
    try {
      return await readFile(path, 'utf8');
    } catch (err) {
      if ((err as { code?: unknown }).code === 'ENOENT') return undefined;
      throw err;
    }
  },
  writeTextAtomically: writeFileAtomically,
  async remove(path: string): Promise<void> {
    await rm(path, { force: true });
  },
});
