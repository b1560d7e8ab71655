/**
 * The bulk-job engine: takes the objects of a listing, keeps this process's shard, leaves out what the journal
 * says earlier runs finished, and runs the {@link ObjectAction} on the rest with `parallel` objects in flight.
 * Each finished object is journalled (durably, before it counts as done), reported, and counted for the progress
 * line. A failure is reported with its code and the job carries on; an aborted signal stops taking new objects and
 * is handed to the running ones (which stop or finish; either way an object counts only once its record is
 * durable), so a SIGTERM leaves a journal that resumes exactly.
 *
 * Crash window: an object whose write succeeded but whose journal record had not reached the disk is done again by
 * the next run; the action's idempotence (it finds the object already in its target state) makes that a skip.
 *
 * Deliberately not here: what is done to an object (the action), listing (listing.ts), file formats (journal.ts,
 * report.ts), drawing progress (the CLI).
 * @module
 */
import type { ActionOutcome, JobResult, ListedObject, ObjectAction } from './action.js';
import { failureCode, failureMessage } from './error-code.js';
import type { JobJournal } from './journal-file.js';
import type { ReportEntry } from './report.js';
import { inShard, type Shard } from './shard.js';

/**
 * How far a job has come (handed to `onProgress` after every object).
 * @example
 *   onProgress: (p) => bar.draw(p)
 */
export interface JobProgress {
  /** Objects this run finished (any result), and their bytes. */
  readonly objects: number;
  readonly bytes: number;
  /** Objects of this shard the listing has shown so far, journalled ones included. */
  readonly listed: number;
  /** Objects earlier runs finished (left out). */
  readonly resumed: number;
  /** True once the listing has ended, so `listed` is the total. */
  readonly listingDone: boolean;
  readonly failed: number;
  /** Milliseconds since the job started. */
  readonly elapsedMs: number;
}

/**
 * What a job did.
 * @example
 *   const summary = await runJob({ ... });
 *   process.exitCode = summary.failed > 0 ? 1 : 0;
 */
export interface JobSummary extends JobProgress {
  /** How many objects ended with each result in this run. */
  readonly results: Readonly<Record<JobResult, number>>;
  /** True when the signal stopped the job before the listing was exhausted. */
  readonly interrupted: boolean;
}

/**
 * A job's settings.
 * @example
 *   const options: JobOptions = { objects: listPrefix(store, 'logs/'), action, parallel: 8 };
 */
export interface JobOptions {
  readonly objects: AsyncIterable<ListedObject>;
  readonly action: ObjectAction;
  /** Objects in flight at once (1..1024). */
  readonly parallel: number;
  readonly shard?: Shard;
  readonly dryRun?: boolean;
  readonly journal?: JobJournal;
  /** Called once per finished object (after its journal record is durable). */
  readonly report?: (entry: ReportEntry) => void | Promise<void>;
  readonly onProgress?: (progress: JobProgress) => void;
  readonly signal?: AbortSignal;
  /** The clock, for tests. */
  readonly now?: () => number;
}

/**
 * Runs a bulk job to the end of its listing (or until `signal` aborts).
 * @param options the listing, the action, parallelism, shard, dry run, journal, report and progress sinks
 * @returns the summary; it never throws for an object's failure (see `failed`), only for the listing's or the
 *   journal's own failures, which make continuing pointless
 * @throws {RangeError} when `parallel` is out of range
 * @example
 *   const summary = await runJob({ objects: listPrefix(ctx.store, prefix), action: verifyAction(ctx), parallel: 8 });
 */
export async function runJob(options: JobOptions): Promise<JobSummary> {
  const { action, parallel, shard, journal, signal } = options;
  if (!Number.isSafeInteger(parallel) || parallel < 1 || parallel > 1024) {
    throw new RangeError(`"parallel" expected an integer from 1 to 1024, got ${String(parallel)}`);
  }
  const now = options.now ?? Date.now;
  const started = now();
  const results: Record<JobResult, number> = { changed: 0, verified: 0, 'skipped-already': 0, 'skipped-changed': 0, 'would-change': 0, failed: 0 };
  let objects = 0;
  let bytes = 0;
  let listed = 0;
  let resumed = 0;
  let listingDone = false;
  const progress = (): JobProgress => ({ objects, bytes, listed, resumed, listingDone, failed: results.failed, elapsedMs: now() - started });

  // Uploads a killed run left behind: abort them first (best effort: a failure leaves what was there anyway).
  for (const [key, uploadIds] of journal?.pendingUploads ?? []) {
    for (const uploadId of uploadIds) await action.abandon?.(key, uploadId).catch(() => undefined);
  }
  const iterator = options.objects[Symbol.asyncIterator]();
  // One listing shared by all workers: each asks for the next object of its shard that no earlier run finished.
  let listing: Promise<ListedObject | undefined> = Promise.resolve(undefined);
  const next = (): Promise<ListedObject | undefined> => {
    listing = listing.then(async () => {
      for (;;) {
        if (signal?.aborted || listingDone) return undefined;
        const step = await iterator.next();
        if (step.done) {
          listingDone = true;
          options.onProgress?.(progress());
          return undefined;
        }
        if (!inShard(step.value.key, shard)) continue;
        listed++;
        if (journal?.done.has(step.value.key)) {
          resumed++;
          continue;
        }
        return step.value;
      }
    });
    return listing;
  };

  const finish = async (object: ListedObject, outcome: ActionOutcome | undefined, err: unknown): Promise<void> => {
    const result: JobResult = outcome?.result ?? 'failed';
    if (journal !== undefined && outcome !== undefined && result !== 'would-change') {
      await journal.append({ key: object.key, result: outcome.result as Exclude<JobResult, 'failed' | 'would-change'>, bytes: outcome.bytes, ...(outcome.etag === undefined ? {} : { etag: outcome.etag }) });
    }
    results[result]++;
    objects++;
    bytes += outcome?.bytes ?? 0;
    await options.report?.({
      key: object.key,
      action: action.name,
      result,
      bytes: outcome?.bytes ?? 0,
      ...(outcome?.etag === undefined ? {} : { etag: outcome.etag }),
      ...(outcome?.detail === undefined ? {} : { detail: outcome.detail }),
      ...(err === undefined ? {} : { code: failureCode(err), message: failureMessage(err) }),
    });
    options.onProgress?.(progress());
  };

  const worker = async (): Promise<void> => {
    for (let object = await next(); object !== undefined; object = await next()) {
      let outcome: ActionOutcome | undefined;
      let error: unknown;
      try {
        const uploadStarted = journal === undefined ? undefined : (uploadId: string) => journal.appendUpload(object.key, uploadId);
        outcome = await action.run(object, { dryRun: options.dryRun === true, signal, uploadStarted });
      } catch (err) {
        error = err ?? new Error('the action failed without an error');
      }
      await finish(object, outcome, error);
    }
  };
  await Promise.all(Array.from({ length: parallel }, worker));
  // Interrupted: close the listing (its generator stops asking for pages).
  if (!listingDone) await iterator.return?.(undefined);
  return { ...progress(), results, interrupted: !listingDone };
}
