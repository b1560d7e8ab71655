/**
 * The job journal on disk (`--job FILE`): opens or creates it, replays what it holds, and appends one record per
 * finished object, each made durable (written, then fsync'd) before {@link JobJournal.append} resolves. Records
 * that arrive while a sync is running are written together by the next one (group commit), so `--parallel 64`
 * does not queue 64 fsyncs.
 *
 * A file left by a killed process may end in a cut-off line: it is cut back to its last complete line before the
 * first append (journal.ts explains why that loses nothing).
 *
 * Deliberately not here: the format (journal.ts).
 * @module
 */
import { open, type FileHandle } from 'node:fs/promises';
import { checkJournalHeader, formatHeader, formatRecord, formatUpload, parseJournal, type JournalHeader, type JournalRecord } from './journal.js';

/**
 * An open journal.
 * @example
 *   const journal = await openJournal('job.jsonl', header);
 *   if (!journal.done.has(key)) { ...; await journal.append({ key, result: 'changed', bytes }); }
 *   await journal.close();
 */
export interface JobJournal {
  /** Objects finished by earlier runs of this job. */
  readonly done: ReadonlyMap<string, JournalRecord>;
  /** Multipart uploads earlier runs started and never finished (see journal.ts), by key. */
  readonly pendingUploads: ReadonlyMap<string, readonly string[]>;
  /** Resolves once the record is on disk. */
  append(record: JournalRecord): Promise<void>;
  /** Records that a multipart upload was started for `key`; resolves once that is on disk. */
  appendUpload(key: string, uploadId: string): Promise<void>;
  close(): Promise<void>;
}

/**
 * Opens (or creates) the journal of the job `header` describes.
 * @param path the `--job` file
 * @param header this job's action, bucket, prefix and shard
 * @returns the journal, with what earlier runs finished
 * @throws {CheckpointError} CHECKPOINT_MALFORMED for a damaged file; CHECKPOINT_MISMATCH for another job's journal
 * @example
 *   const journal = await openJournal(cmd.job, { action: 'verify', bucket, prefix });
 */
export async function openJournal(path: string, header: JournalHeader): Promise<JobJournal> {
  const file = await open(path, 'a+', 0o600);
  try {
    const parsed = parseJournal(await file.readFile('utf8'));
    if (parsed.header !== undefined) checkJournalHeader(parsed.header, header);
    // 'a+' appends at the end whatever the position: cut a torn tail off first, then write the header if none.
    await file.truncate(parsed.validLength);
    if (parsed.header === undefined) {
      await file.truncate(0);
      await file.write(formatHeader(header));
      await file.sync();
    }
    return new GroupCommitJournal(file, parsed.done, parsed.pendingUploads);
  } catch (err) {
    await file.close();
    throw err;
  }
}

class GroupCommitJournal implements JobJournal {
  readonly done: ReadonlyMap<string, JournalRecord>;
  readonly pendingUploads: ReadonlyMap<string, readonly string[]>;
  #file: FileHandle;
  #pending: Array<{ line: string; resolve: () => void; reject: (err: unknown) => void }> = [];
  #flushing: Promise<void> | undefined;

  constructor(file: FileHandle, done: ReadonlyMap<string, JournalRecord>, pendingUploads: ReadonlyMap<string, readonly string[]>) {
    this.#file = file;
    this.done = done;
    this.pendingUploads = pendingUploads;
  }

  append(record: JournalRecord): Promise<void> {
    return this.#write(formatRecord(record));
  }

  appendUpload(key: string, uploadId: string): Promise<void> {
    return this.#write(formatUpload(key, uploadId));
  }

  #write(line: string): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      this.#pending.push({ line, resolve, reject });
      this.#flushing ??= this.#flush();
    });
  }

  async #flush(): Promise<void> {
    while (this.#pending.length > 0) {
      const batch = this.#pending.splice(0);
      try {
        await this.#file.write(batch.map((p) => p.line).join(''));
        await this.#file.sync();
        for (const p of batch) p.resolve();
      } catch (err) {
        for (const p of batch) p.reject(err);
      }
    }
    this.#flushing = undefined;
  }

  async close(): Promise<void> {
    await this.#flushing;
    await this.#file.close();
  }
}
