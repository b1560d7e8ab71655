/**
 * The contract between the bulk-job engine (run-job.ts) and what it does to each object: an {@link ObjectAction}
 * takes one listed object to its target state (encrypted, verified, rewrapped...) and says what happened, in the
 * fixed vocabulary of {@link JobResult} that journals, reports and exit statuses share.
 *
 * An action must be idempotent, because the journal can only record an object after its write succeeded: a process
 * killed between the two runs the action again on resume, and the action must then see the object already in its
 * target state and answer `skipped-already` without writing. Its write must be conditional on the object not having
 * changed since it was read; when another writer got there first, the action answers `skipped-changed` (that writer
 * wins) instead of failing.
 *
 * Types only. Deliberately not here: the engine (run-job.ts) and the actions themselves (client/bulk-actions.ts).
 * @module
 */

/**
 * One object of the listing.
 * @example
 *   const object: ListedObject = { key: 'a.bin', size: 5, etag: '"5D41402ABC4B2A76B9719D911017C592"' };
 */
export interface ListedObject {
  readonly key: string;
  readonly size: number;
  /** As listed (quoted); the action reads the object again and must not trust it for its condition. */
  readonly etag?: string;
  readonly lastModified?: string;
}

/**
 * What became of one object:
 * - `changed`: the action wrote the object (encrypted, decrypted, rewrapped);
 * - `verified`: a read-only action checked it and found it sound;
 * - `skipped-already`: it was already in the target state (idempotence: nothing written);
 * - `skipped-changed`: another writer replaced it between the read and the write; that writer's object is kept;
 * - `would-change`: a dry run found that the action would write it;
 * - `failed`: the action threw; the report carries the error's code, and a resumed job tries it again.
 * @example
 *   const ok = (r: JobResult) => r !== 'failed';
 */
export type JobResult = 'changed' | 'verified' | 'skipped-already' | 'skipped-changed' | 'would-change' | 'failed';

/**
 * What an action returns for one object (a failure is thrown, never returned).
 * @example
 *   return { result: 'changed', bytes: object.size, etag: put.etag };
 */
export interface ActionOutcome {
  readonly result: Exclude<JobResult, 'failed'>;
  /** Bytes of object content the action moved (read and/or written), for rates. */
  readonly bytes: number;
  /** The object's ETag after the action (when it wrote one). */
  readonly etag?: string;
  /** A short reason for a skip, for the report (never key material). */
  readonly detail?: string;
}

/**
 * What the engine hands an action with each object.
 * @example
 *   async run(object, { dryRun, signal }) { if (dryRun) return { result: 'would-change', bytes: 0 }; ... }
 */
export interface ActionContext {
  /** List what would change; write nothing. */
  readonly dryRun: boolean;
  /** Aborted when the job is interrupted; an action may finish its current request or stop. */
  readonly signal?: AbortSignal;
  /**
   * An action that starts a multipart upload calls this with its id before uploading parts, and waits for it: the
   * journal then knows the upload, and if the process dies before the object is done, the resumed job hands the
   * id to {@link ObjectAction.abandon} instead of leaving the parts on OSS.
   */
  readonly uploadStarted?: (uploadId: string) => Promise<void>;
}

/**
 * A per-object action of a bulk job (`encrypt-existing`, `verify`, and `rewrap` when it lands).
 * @example
 *   const action: ObjectAction = {
 *     name: 'verify',
 *     async run(object) { await client.verify(object.key); return { result: 'verified', bytes: object.size }; },
 *   };
 */
export interface ObjectAction {
  /** Its name in the journal's header and the report (`encrypt-existing`). A journal of another action is refused. */
  readonly name: string;
  /**
   * Takes `object` to the target state: idempotent (an object already there answers `skipped-already` and writes
   * nothing) and conditional (an object replaced since the action read it answers `skipped-changed`).
   * @throws anything for a failure; the engine reports its `code` and carries on with the next object
   */
  run(object: ListedObject, context: ActionContext): Promise<ActionOutcome>;
  /**
   * Aborts a multipart upload an earlier, killed run of this action started for `key` (one it reported through
   * `uploadStarted`). Called when a job resumes, before any object is taken; an upload already gone is no error.
   */
  abandon?(key: string, uploadId: string): Promise<void>;
}
