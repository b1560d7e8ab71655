/**
 * The per-object actions of bulk jobs (jobs/action.ts `ObjectAction`) over this client's operations:
 * `encrypt-existing`, `decrypt-existing` and `verify`. Each maps its operation's outcome onto the job vocabulary:
 * the refusal of an object already in the target state (`OBJECT_ENCRYPTED`, `OBJECT_NOT_ENCRYPTED`) is
 * `skipped-already`, which is what makes a repeat after a crash harmless, and `OBJECT_CHANGED` (another writer
 * replaced the object between the read and the write) is `skipped-changed`, not a failure. Anything else thrown is
 * the object's failure.
 *
 * A dry run HEADs the object and answers `would-change` or `skipped-already` without reading or writing content.
 * `rewrap` will join as one more factory of this shape.
 * @module
 */
import { OssCryptoError } from '../errors.js';
import type { ActionOutcome, ObjectAction } from '../jobs/action.js';
import type { ClientContext } from '../transfer/context.js';
import { decryptExisting } from './decrypt-existing.js';
import { encryptExisting, type EncryptExistingOptions } from './encrypt-existing.js';
import { readObjectState } from './object-state.js';
import { verify } from './verify.js';
import { abortMultipartUpload } from '../upload/parts-api.js';

/**
 * Rewrite settings shared by the writing actions.
 * @example
 *   encryptExistingAction(ctx, { multipartThreshold: 64 << 20, partSize: 8 << 20 });
 */
export type BulkRewriteOptions = Pick<EncryptExistingOptions, 'multipartThreshold' | 'partSize'>;

/**
 * `encrypt-existing`: every plaintext object becomes encrypted; encrypted ones are skipped.
 * @example
 *   await runJob({ objects: listPrefix(ctx.store, 'logs/'), action: encryptExistingAction(ctx), parallel: 8 });
 */
export function encryptExistingAction(ctx: ClientContext, options: BulkRewriteOptions = {}): ObjectAction {
  return {
    name: 'encrypt-existing',
    run: (object, { dryRun, signal, uploadStarted }) =>
      outcome(async () => {
        if (dryRun) return plan(ctx, object.key, false, signal);
        const r = await encryptExisting(ctx, object.key, { ...options, signal, uploadStarted });
        return { result: 'changed', bytes: r.bytes, etag: r.etag };
      }),
    abandon: (key, uploadId) => abandon(ctx, key, uploadId),
  };
}

/**
 * `decrypt-existing`: every encrypted object is stored decrypted; plaintext ones are skipped.
 * @example
 *   decryptExistingAction(ctx);
 */
export function decryptExistingAction(ctx: ClientContext, options: BulkRewriteOptions = {}): ObjectAction {
  return {
    name: 'decrypt-existing',
    run: (object, { dryRun, signal, uploadStarted }) =>
      outcome(async () => {
        if (dryRun) return plan(ctx, object.key, true, signal);
        const r = await decryptExisting(ctx, object.key, { ...options, signal, uploadStarted, removeEncryption: true });
        return { result: 'changed', bytes: r.bytes, etag: r.etag };
      }),
    abandon: (key, uploadId) => abandon(ctx, key, uploadId),
  };
}

/**
 * `verify`: every object must decrypt with the configured keys and pass its length, CRC-64 and MD5 checks. It
 * writes nothing, so a dry run verifies too.
 * @example
 *   verifyAction(ctx);
 */
export function verifyAction(ctx: ClientContext): ObjectAction {
  return {
    name: 'verify',
    run: (object, { signal }) =>
      outcome(async () => {
        const r = await verify(ctx, object.key, { signal });
        const skipped = [!r.checked.length && 'length', !r.checked.crc64 && 'crc64', !r.checked.md5 && 'md5'].filter(Boolean);
        return { result: 'verified', bytes: r.bytes, etag: r.etag, ...(skipped.length ? { detail: `not recorded: ${skipped.join(', ')}` } : {}) };
      }),
  };
}

/** Aborts an upload a killed run left; one already gone (NoSuchUpload) is what was wanted. */
async function abandon(ctx: ClientContext, key: string, uploadId: string): Promise<void> {
  try {
    await abortMultipartUpload(ctx, key, uploadId);
  } catch (err) {
    if ((err as { code?: unknown } | null)?.code !== 'NoSuchUpload') throw err;
  }
}

async function plan(ctx: ClientContext, key: string, wantEncrypted: boolean, signal: AbortSignal | undefined): Promise<ActionOutcome> {
  const state = await readObjectState(ctx, key, { signal });
  return state.encrypted === wantEncrypted ? { result: 'would-change', bytes: state.size } : { result: 'skipped-already', bytes: 0 };
}

async function outcome(run: () => Promise<ActionOutcome>): Promise<ActionOutcome> {
  try {
    return await run();
  } catch (err) {
    if (err instanceof OssCryptoError) {
      if (err.code === 'OBJECT_ENCRYPTED') return { result: 'skipped-already', bytes: 0, detail: 'already encrypted' };
      if (err.code === 'OBJECT_NOT_ENCRYPTED') return { result: 'skipped-already', bytes: 0, detail: 'not encrypted' };
      if (err.code === 'OBJECT_CHANGED') return { result: 'skipped-changed', bytes: 0, detail: err.message };
    }
    throw err;
  }
}
