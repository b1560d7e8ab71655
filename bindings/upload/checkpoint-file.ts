/**
 * The managed upload's checkpoint file: read once when the upload starts, replaced atomically after every part
 * (temporary file + rename, checkpoint/atomic-file.ts), one write at a time with the latest state winning, and
 * removed when the upload completes. `node:fs` is loaded lazily, so an upload without a checkpoint path never
 * needs it (browsers).
 *
 * Deliberately not here: what a checkpoint holds (checkpoint.ts).
 * @module
 */
import type { UploadCheckpoint } from './checkpoint.js';

/**
 * Writes a checkpoint file atomically (temporary file + rename), one write at a time, latest state wins.
 * @example
 *   const file = new CheckpointFile('/tmp/big.cp');
 *   await file.write(checkpoint);
 */
export class CheckpointFile {
  readonly #path: string;
  #chain: Promise<void> = Promise.resolve();
  #latest: string | undefined;
  #stopped = false;

  constructor(path: string) {
    if (path === '') throw new TypeError('"checkpoint" expected a file path, got ""');
    this.#path = path;
  }

  async read(): Promise<string | undefined> {
    const fs = await import('node:fs/promises');
    try {
      return await fs.readFile(this.#path, 'utf8');
    } catch (err) {
      if ((err as { code?: unknown }).code === 'ENOENT') return undefined;
      throw err;
    }
  }

  write(cp: UploadCheckpoint): Promise<void> {
    if (this.#stopped) return this.#chain;
    this.#latest = JSON.stringify(cp, null, 2);
    const step = this.#chain.catch(() => {}).then(() => this.#flush());
    this.#chain = step;
    return step;
  }

  /** No further writes; resolves when the last one has landed. */
  async stop(): Promise<void> {
    this.#stopped = true;
    await this.#chain.catch(() => {});
  }

  async remove(): Promise<void> {
    await this.stop();
    const fs = await import('node:fs/promises');
    await fs.rm(this.#path, { force: true });
  }

  async #flush(): Promise<void> {
    const text = this.#latest;
    if (text === undefined) return;
    this.#latest = undefined;
    const { writeFileAtomically } = await import('../checkpoint/atomic-file.js');
    await writeFileAtomically(this.#path, text);
  }
}
