/**
 * {@link LocalFiles} over node:fs, for Node's CryptoClient: positioned reads of an upload's source file, and the
 * checkpoint file's read (refused when untrusted: checkpoint/file-trust.ts), atomic replace (checkpoint/atomic-file.ts) and removal.
 *
 * Deliberately not here: what is read or written (upload/source.ts, upload/checkpoint-file.ts).
 * @module
 */
import { mkdtemp, open, rm, type FileHandle } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { refuseUntrustedCheckpoint } from '../checkpoint/file-trust.js';
import { writeFileAtomically } from '../checkpoint/atomic-file.js';
import type { LocalFile, LocalFiles, SpoolFile } from '../transfer/local-files.js';

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
    let file: FileHandle;
    try {
      file = await open(path, 'r');
    } catch (err) {
      if ((err as { code?: unknown }).code === 'ENOENT') return undefined;
      throw err;
    }
    try {
      // Checkpoints are what this reads: one another user owns, or others may write, is refused (file-trust.ts).
      await refuseUntrustedCheckpoint(file, path);
      return await file.readFile('utf8');
    } finally {
      await file.close();
    }
  },
  writeTextAtomically: writeFileAtomically,
  async remove(path: string): Promise<void> {
    await rm(path, { force: true });
  },
  async createSpoolFile(parent: string | undefined): Promise<SpoolFile> {
    const dir = await mkdtemp(join(parent ?? tmpdir(), 'ali-oss-crypto-spool-'));
    const path = join(dir, 'ciphertext');
    const remove = () => rm(dir, { recursive: true, force: true });
    let handle: FileHandle;
    try {
      handle = await open(path, 'wx', 0o600);
    } catch (err) {
      await remove().catch(() => {});
      throw err;
    }
    return {
      path,
      async write(bytes) {
        await handle.write(bytes, 0, bytes.length);
      },
      close: () => handle.close(),
      remove,
    };
  },
});
