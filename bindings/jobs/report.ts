/**
 * The job report (`--report FILE`): one JSON line per object this run finished, `{key, action, result, bytes}`
 * plus `code` and `message` for a failure, `etag` after a write and `detail` for a skip. Appended, so the reports of
 * a killed run and its resumption add up to one account of the job.
 *
 * Deliberately not here: deciding results (run-job.ts and the actions).
 * @module
 */
import { open, type FileHandle } from 'node:fs/promises';
import type { JobResult } from './action.js';

/**
 * One line of the report.
 * @example
 *   const entry: ReportEntry = { key: 'a.bin', action: 'verify', result: 'failed', bytes: 0, code: 'INTEGRITY_MD5', message: '...' };
 */
export interface ReportEntry {
  readonly key: string;
  readonly action: string;
  readonly result: JobResult;
  readonly bytes: number;
  readonly etag?: string;
  readonly detail?: string;
  /** The failure's stable code (see the README's errors table), an OSS code, or a system code. */
  readonly code?: string;
  readonly message?: string;
}

/**
 * An open report file.
 * @example
 *   const report = await openReport('report.jsonl');
 *   await runJob({ ..., report: (e) => report.write(e) });
 *   await report.close();
 */
export interface ReportFile {
  write(entry: ReportEntry): Promise<void>;
  close(): Promise<void>;
}

/**
 * Opens `path` for appending report lines (created if missing).
 * @example
 *   const report = await openReport(cmd.report);
 */
export async function openReport(path: string): Promise<ReportFile> {
  const file: FileHandle = await open(path, 'a', 0o644);
  let chain: Promise<unknown> = Promise.resolve();
  return {
    // One write per line, in order; the OS keeps appends of one process in sequence.
    write: (entry) => {
      const written = chain.then(() => file.write(`${JSON.stringify(entry)}\n`));
      chain = written.catch(() => undefined);
      return written.then(() => undefined);
    },
    close: async () => {
      await chain;
      await file.close();
    },
  };
}
