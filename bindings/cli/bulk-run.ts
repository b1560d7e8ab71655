/**
 * Runs a bulk command (`encrypt-existing`, `decrypt-existing`, `rewrap`, `verify`) over `oss://BUCKET/PREFIX`: builds the client from the flags,
 * opens the job journal (`--job`) and the report (`--report`), runs the job engine (jobs/run-job.ts) with the
 * matching per-object action (client/bulk-actions.ts), draws a progress line on a terminal, and turns the outcome
 * into an exit status: 0 when nothing failed, 1 with one `error CODE: message` line otherwise (`OBJECTS_FAILED`, or
 * `CANCELLED` for SIGINT/SIGTERM, after which the same command with the same `--job` resumes).
 *
 * stdout carries only the keys a `--dry-run` would change, one per line; every failed object gets a
 * `failed KEY: CODE message` line on stderr (unless `--quiet`), and the summary goes to stderr too.
 *
 * Deliberately not here: parsing (bulk-args.ts) and the engine (jobs/).
 * @module
 */
import { decryptExistingAction, encryptExistingAction, rewrapAction, verifyAction } from '../client/bulk-actions.js';
import { openJournal, type JobJournal } from '../jobs/journal-file.js';
import { listPrefix } from '../jobs/listing.js';
import { openReport, type ReportFile } from '../jobs/report.js';
import { runJob, type JobProgress, type JobSummary } from '../jobs/run-job.js';
import { formatShard } from '../jobs/shard.js';
import type { BulkCommand } from './command.js';
import { rewrapTargetFromFlags } from './keys.js';
import { clientFor, type CliIo } from './run.js';

/**
 * Runs one bulk command.
 * @param cmd the parsed command
 * @param io the CLI's streams and signal
 * @returns the exit status: 0 when no object failed, 1 otherwise
 * @throws what makes the whole job impossible (a listing that keeps failing, a damaged journal); run.ts prints it
 * @example
 *   return runBulk(parseCliArgs(['verify', 'oss://b/logs/'], env) as BulkCommand, io);
 */
export async function runBulk(cmd: BulkCommand, io: CliIo): Promise<number> {
  const { bucket, prefix } = cmd.target;
  const client = await clientFor(cmd.connection, { bucket, key: prefix }, cmd.keys, { readOnly: cmd.command === 'verify' });
  const ctx = client.context;
  const action =
    cmd.command === 'verify'
      ? verifyAction(ctx)
      : cmd.command === 'rewrap'
        ? rewrapAction(ctx, { to: await rewrapTargetFromFlags(cmd.to!, cmd.keys), multipartThreshold: cmd.multipartThreshold })
        : cmd.command === 'decrypt-existing'
          ? decryptExistingAction(ctx, { partSize: cmd.partSize, multipartThreshold: cmd.multipartThreshold })
          : encryptExistingAction(ctx, { partSize: cmd.partSize, multipartThreshold: cmd.multipartThreshold });
  const shard = cmd.shard === undefined ? undefined : formatShard(cmd.shard);
  let journal: JobJournal | undefined;
  let report: ReportFile | undefined;
  const label = `${cmd.command} oss://${bucket}/${prefix}${shard === undefined ? '' : ` shard ${shard}`}`;
  const line = progressLine(io.stderr, label, cmd.quiet);
  let summary: JobSummary;
  try {
    // A dry run changes nothing, so it records nothing: it must not make a later real run skip objects.
    if (cmd.job !== undefined && !cmd.dryRun) journal = await openJournal(cmd.job, { action: action.name, bucket, prefix, ...(shard === undefined ? {} : { shard }) });
    if (cmd.report !== undefined) report = await openReport(cmd.report);
    summary = await runJob({
      objects: listPrefix(ctx.store, prefix, { retry: ctx.retry, signal: io.signal }),
      action,
      parallel: cmd.parallel,
      shard: cmd.shard,
      dryRun: cmd.dryRun,
      journal,
      signal: io.signal,
      onProgress: line.draw,
      report: async (entry) => {
        await report?.write(entry);
        if (entry.result === 'would-change') io.stdout.write(`${entry.key}\n`);
        if (entry.result === 'failed' && !cmd.quiet) {
          line.clear();
          io.stderr.write(`failed ${JSON.stringify(entry.key)}: ${entry.code} ${entry.message ?? ''}\n`);
        }
      },
    });
  } finally {
    line.clear();
    await journal?.close();
    await report?.close();
  }
  const r = summary.results;
  if (!cmd.quiet) {
    const counts = Object.entries(r).filter(([, n]) => n > 0).map(([k, n]) => `${n} ${k}`);
    const resumed = summary.resumed > 0 ? `, ${summary.resumed} done by earlier runs` : '';
    io.stderr.write(`${label}: ${summary.objects} objects (${counts.join(', ') || 'none'})${resumed}, ${formatBytes(summary.bytes)} in ${(summary.elapsedMs / 1000).toFixed(1)}s\n`);
  }
  if (summary.interrupted && io.signal?.aborted) {
    io.stderr.write(`error CANCELLED: interrupted after ${summary.objects} objects${cmd.job === undefined ? '' : `; run the same command with --job ${cmd.job} to resume`}\n`);
    return 1;
  }
  if (r.failed > 0) {
    io.stderr.write(`error OBJECTS_FAILED: ${r.failed} of ${summary.objects} objects failed${cmd.report === undefined ? '' : ` (see ${cmd.report})`}${cmd.job === undefined ? '' : `; running again with --job ${cmd.job} retries only them`}\n`);
    return 1;
  }
  return 0;
}

/** The progress line: objects, bytes, rate and ETA, redrawn in place on a terminal only. */
function progressLine(sink: CliIo['stderr'], label: string, quiet: boolean): { draw: (p: JobProgress) => void; clear: () => void } {
  if (quiet || sink.isTTY !== true) return { draw: () => undefined, clear: () => undefined };
  let last = 0;
  let drawn = false;
  return {
    draw: (p) => {
      const now = Date.now();
      if (now - last < 100) return;
      last = now;
      sink.write(`\r\x1b[2K${formatProgress(label, p)}`);
      drawn = true;
    },
    clear: () => {
      if (drawn) sink.write('\r\x1b[2K');
      drawn = false;
    },
  };
}

/**
 * One progress line: `LABEL: 120/500 objects, 3.4 MiB, 41.2 objects/s, 1.1 MiB/s, ETA 9s` (the ETA once the
 * listing has ended and the total is known).
 * @example
 *   formatProgress('verify oss://b/', { objects: 10, bytes: 1024, listed: 20, resumed: 0, listingDone: true, failed: 0, elapsedMs: 1000 })
 */
export function formatProgress(label: string, p: JobProgress): string {
  const seconds = Math.max(p.elapsedMs, 1) / 1000;
  const rate = p.objects / seconds;
  const total = p.listed - p.resumed;
  const remaining = total - p.objects;
  const eta = p.listingDone && rate > 0 ? ` ETA ${formatDuration(remaining / rate)}` : '';
  const failed = p.failed > 0 ? `, ${p.failed} failed` : '';
  return `${label}: ${p.objects}/${p.listingDone ? total : `${total}+`} objects, ${formatBytes(p.bytes)}, ${rate.toFixed(1)} objects/s, ${formatBytes(p.bytes / seconds)}/s${failed},${eta}`.replace(/,$/, '');
}

function formatBytes(n: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let i = 0;
  while (n >= 1024 && i < units.length - 1) {
    n /= 1024;
    i++;
  }
  return `${i === 0 ? Math.round(n) : n.toFixed(1)} ${units[i]}`;
}

function formatDuration(seconds: number): string {
  const s = Math.ceil(seconds);
  return s < 60 ? `${s}s` : s < 3600 ? `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s` : `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m`;
}
