/**
 * The job journal's format, pure: JSON lines, the first a header naming the job (action, bucket, prefix, shard),
 * then one line per object whose action finished with a final result. A line counts only once its newline is on
 * disk (journal-file.ts writes the whole line, then fsyncs), so a process killed mid-write leaves at most one
 * unterminated last line, which {@link parseJournal} drops: the object it described is simply done again, and the
 * action's idempotence makes that harmless. Any complete line that is not a valid record is damage, not a crash,
 * and is refused.
 *
 * `failed` is never journalled: a resumed job tries failed objects again. An action that starts a multipart upload
 * journals it first (`{"type":"upload","key":…,"uploadId":…}`): an upload whose object has no later record was cut
 * off by a crash, and the resumed job aborts it instead of leaving its parts on OSS.
 *
 * Deliberately not here: file I/O (journal-file.ts) and the job loop (run-job.ts).
 * @module
 */
import { CheckpointError } from '../errors.js';
import type { JobResult } from './action.js';

/** Bumped when the format changes incompatibly. */
export const JOURNAL_VERSION = 1;

/**
 * What the journal's first line records: a journal resumes only the job it was written for.
 * @example
 *   const header: JournalHeader = { action: 'encrypt-existing', bucket: 'b', prefix: 'logs/', shard: '0/3' };
 */
export interface JournalHeader {
  readonly action: string;
  readonly bucket: string;
  readonly prefix: string;
  /** `I/N`, or absent for an unsharded job. */
  readonly shard?: string;
}

/**
 * One finished object.
 * @example
 *   const done: JournalRecord = { key: 'a.bin', result: 'changed', bytes: 5, etag: '"…"' };
 */
export interface JournalRecord {
  readonly key: string;
  readonly result: Exclude<JobResult, 'failed' | 'would-change'>;
  readonly bytes: number;
  readonly etag?: string;
}

/**
 * A parsed journal.
 * @example
 *   const { header, done, validLength } = parseJournal(text);
 */
export interface ParsedJournal {
  /** Absent for an empty file (or one whose header line was cut off). */
  readonly header: JournalHeader | undefined;
  /** The finished objects by key (a key journalled twice keeps its last record). */
  readonly done: ReadonlyMap<string, JournalRecord>;
  /** Multipart uploads started for objects that have no record after them (cut off by a crash), by key. */
  readonly pendingUploads: ReadonlyMap<string, readonly string[]>;
  /** Length in UTF-8 bytes of the complete lines: the file is cut back to it before appending. */
  readonly validLength: number;
}

const FINAL_RESULTS: ReadonlySet<string> = new Set(['changed', 'verified', 'skipped-already', 'skipped-changed']);

/**
 * The header's line.
 * @example
 *   formatHeader({ action: 'verify', bucket: 'b', prefix: '' }) // '{"type":"job","version":1,...}\n'
 */
export function formatHeader(header: JournalHeader): string {
  const { action, bucket, prefix, shard } = header;
  return `${JSON.stringify({ type: 'job', version: JOURNAL_VERSION, action, bucket, prefix, ...(shard === undefined ? {} : { shard }) })}\n`;
}

/**
 * A record's line.
 * @example
 *   formatRecord({ key: 'a', result: 'changed', bytes: 1 }) // '{"type":"done","key":"a",...}\n'
 */
export function formatRecord(record: JournalRecord): string {
  const { key, result, bytes, etag } = record;
  return `${JSON.stringify({ type: 'done', key, result, bytes, ...(etag === undefined ? {} : { etag }) })}\n`;
}

/**
 * The line of a multipart upload an action started for `key`.
 * @example
 *   formatUpload('big.bin', '0004B9B2...') // '{"type":"upload","key":"big.bin","uploadId":"0004B9B2..."}\n'
 */
export function formatUpload(key: string, uploadId: string): string {
  return `${JSON.stringify({ type: 'upload', key, uploadId })}\n`;
}

/**
 * Reads a journal's text.
 * @param text the file's content (UTF-8 decoded)
 * @returns the header, the finished objects and how much of the text is complete lines
 * @throws {CheckpointError} CHECKPOINT_MALFORMED for a complete line that is not a record (its line number named),
 *   a missing header, or a header of another version
 * @example
 *   const journal = parseJournal(await readFile('job.jsonl', 'utf8'));
 *   if (journal.done.has(key)) skip(key);
 */
export function parseJournal(text: string): ParsedJournal {
  const done = new Map<string, JournalRecord>();
  const pendingUploads = new Map<string, string[]>();
  let header: JournalHeader | undefined;
  let offset = 0;
  let validLength = 0;
  for (let lineNo = 1; ; lineNo++) {
    const end = text.indexOf('\n', offset);
    if (end === -1) break; // an unterminated tail was being written when the process died: not committed
    const line = text.slice(offset, end);
    offset = end + 1;
    const value = parseLine(line, lineNo);
    if (lineNo === 1) header = readHeader(value, lineNo);
    else if (value.type === 'upload') {
      if (typeof value.key !== 'string' || typeof value.uploadId !== 'string') throw malformed(lineNo, 'is an upload without string "key" and "uploadId"');
      pendingUploads.set(value.key, [...(pendingUploads.get(value.key) ?? []), value.uploadId]);
    } else {
      const record = readRecord(value, lineNo);
      done.set(record.key, record);
      pendingUploads.delete(record.key);
    }
    validLength += Buffer.byteLength(line, 'utf8') + 1;
  }
  return { header, done, pendingUploads, validLength };
}

/**
 * Refuses to resume a journal written for another job.
 * @throws {CheckpointError} CHECKPOINT_MISMATCH naming the field that differs
 * @example
 *   checkJournalHeader(parsed.header, { action: 'verify', bucket: 'b', prefix: '' });
 */
export function checkJournalHeader(found: JournalHeader, expected: JournalHeader): void {
  for (const field of ['action', 'bucket', 'prefix', 'shard'] as const) {
    if (found[field] !== expected[field]) {
      throw new CheckpointError(
        'CHECKPOINT_MISMATCH',
        `the job journal was written for ${field} ${JSON.stringify(found[field] ?? null)}, not ${JSON.stringify(expected[field] ?? null)}: use another --job file for another job`,
      );
    }
  }
}

function parseLine(line: string, lineNo: number): Record<string, unknown> {
  let value: unknown;
  try {
    value = JSON.parse(line);
  } catch {
    throw malformed(lineNo, 'is not JSON');
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) throw malformed(lineNo, 'is not a JSON object');
  return value as Record<string, unknown>;
}

function readHeader(value: Record<string, unknown>, lineNo: number): JournalHeader {
  if (value.type !== 'job') throw malformed(lineNo, 'is not the job header (the first line must be {"type":"job",...})');
  if (value.version !== JOURNAL_VERSION) throw malformed(lineNo, `has version ${JSON.stringify(value.version)}; this release reads version ${JOURNAL_VERSION}`);
  for (const field of ['action', 'bucket', 'prefix'] as const) {
    if (typeof value[field] !== 'string') throw malformed(lineNo, `has no string "${field}"`);
  }
  if (value.shard !== undefined && typeof value.shard !== 'string') throw malformed(lineNo, 'has a "shard" that is not a string');
  const header: JournalHeader = { action: value.action as string, bucket: value.bucket as string, prefix: value.prefix as string };
  return value.shard === undefined ? header : { ...header, shard: value.shard as string };
}

function readRecord(value: Record<string, unknown>, lineNo: number): JournalRecord {
  if (value.type !== 'done') throw malformed(lineNo, `has type ${JSON.stringify(value.type)}, expected "done" or "upload"`);
  if (typeof value.key !== 'string') throw malformed(lineNo, 'has no string "key"');
  if (typeof value.result !== 'string' || !FINAL_RESULTS.has(value.result)) throw malformed(lineNo, `has result ${JSON.stringify(value.result)}`);
  if (!Number.isSafeInteger(value.bytes) || (value.bytes as number) < 0) throw malformed(lineNo, 'has no non-negative integer "bytes"');
  if (value.etag !== undefined && typeof value.etag !== 'string') throw malformed(lineNo, 'has an "etag" that is not a string');
  const record = { key: value.key, result: value.result as JournalRecord['result'], bytes: value.bytes as number };
  return value.etag === undefined ? record : { ...record, etag: value.etag as string };
}

function malformed(lineNo: number, why: string): CheckpointError {
  return new CheckpointError('CHECKPOINT_MALFORMED', `job journal line ${lineNo} ${why}`);
}
