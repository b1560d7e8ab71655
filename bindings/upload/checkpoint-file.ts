/**
 * The managed upload's checkpoint file: read once when the upload starts (refused when another user owns it or
 * others may write it: checkpoint/file-trust.ts, in Node's upload/node-files.ts), replaced atomically after every part
 * (temporary file + rename, checkpoint/atomic-file.ts), one write at a time with the latest state winning, and
 * removed when the upload completes, through the client's file system (transfer/local-files.ts); a client
 * without one (browsers, Workers) refuses a checkpoint path, naming the runtime.
 *
 * Deliberately not here: what a checkpoint holds (checkpoint.ts).
 * @module
 */
import { UnsupportedOperationError } from '../errors.js';
import type { LocalFiles } from '../transfer/local-files.js';
import { runtimeName } from '../util/runtime.js';
import type { UploadCheckpoint } from './checkpoint.js';

/**
 * Writes a checkpoint file atomically (temporary file + rename), one write at a time, latest state wins.
 * @example
 *   const file = new CheckpointFile('/tmp/big.cp', nodeFiles);
 *   await file.write(checkpoint);
 */
export class CheckpointFile {
  readonly #path: string;
  readonly #files: LocalFiles;
  #chain: Promise<void> = Promise.resolve();
  #latest: string | undefined;
  #stopped = false;

  /**
   * @throws {UnsupportedOperationError} OPERATION_UNSUPPORTED when the client has no file system
   */
  constructor(path: string, files: LocalFiles | undefined) {
    if (path === '') throw new TypeError('"checkpoint" expected a file path, got ""');
    if (files === undefined) {
      throw new UnsupportedOperationError(
        'OPERATION_UNSUPPORTED',
        `the checkpoint file ${JSON.stringify(path)} needs a file system, which ${runtimeName()} does not give this client; ` +
          "pass checkpoint objects instead (progress hands them out; persist them as JSON in IndexedDB, KV...)",
      );
    }
    this.#path = path;
    this.#files = files;
  }

  /**
   * The file's text, or undefined when there is none.
   * @throws {CheckpointError} CHECKPOINT_UNSAFE when another user owns it or its group or everyone may write it
   */
  async read(): Promise<string | undefined> {
    return this.#files.readText(this.#path);
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
    await this.#files.remove(this.#path);
  }

  async #flush(): Promise<void> {
    const text = this.#latest;
    if (text === undefined) return;
    this.#latest = undefined;
    await this.#files.writeTextAtomically(this.#path, text);
  }
}
