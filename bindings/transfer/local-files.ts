/**
 * The local file system as transfers use it (a multipart upload from a file path, its checkpoint file, the spool
 * file of a stream of unknown size), as an
 * interface: Node's CryptoClient hands in the node:fs implementation (upload/node-files.ts); the web client hands
 * in none, and a transfer asked for a path then refuses with `OPERATION_UNSUPPORTED` naming the runtime. So no
 * module a browser or Worker loads names node:fs, not even lazily.
 *
 * Deliberately not here: any code. This file holds types only.
 * @module
 */

/**
 * A file opened for positioned reads.
 * @example
 *   const file = await files.open('/data/big.iso');
 *   const n = await file.read(buffer, 0, buffer.length, 4096);
 */
export interface LocalFile {
  readonly size: number;
  readonly mtimeMs: number;
  /** Reads up to `length` bytes at `position` into `into` from `offset`; resolves to the bytes read. */
  read(into: Uint8Array, offset: number, length: number, position: number): Promise<number>;
  close(): Promise<void>;
}

/**
 * What transfers need from a file system.
 * @example
 *   const text = await ctx.files?.readText('/tmp/big.cp');
 */
export interface LocalFiles {
  /** Opens a regular file for reading. @throws a TypeError for a path that is not a regular file */
  open(path: string): Promise<LocalFile>;
  /** The file's text, or `undefined` when it does not exist. */
  readText(path: string): Promise<string | undefined>;
  /** Replaces the file atomically (temporary sibling, fsync, rename). */
  writeTextAtomically(path: string, text: string): Promise<void>;
  /** Removes the file if it exists. */
  remove(path: string): Promise<void>;
  /**
   * A new private file for a stream's ciphertext (upload/spool.ts): created with mode 0600 and `wx` (never an
   * existing file) in a fresh directory (mode 0700) under `parent`, or the system's temporary directory.
   */
  createSpoolFile(parent: string | undefined): Promise<SpoolFile>;
}

/**
 * A spool file being written; `remove` deletes it with its directory, whatever state it is in.
 * @example
 *   const file = await files.createSpoolFile(undefined);
 *   try { await file.write(ciphertext); } finally { await file.close(); }
 */
export interface SpoolFile {
  readonly path: string;
  /** Appends the bytes. */
  write(bytes: Uint8Array): Promise<void>;
  close(): Promise<void>;
  remove(): Promise<void>;
}
