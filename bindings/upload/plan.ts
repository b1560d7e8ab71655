/**
 * The part plan of an encrypted multipart upload: which bytes of the plaintext each part carries, and the
 * checks that keep every part on its planned bytes (docs/FORMAT.md §5; docs/ARCHITECTURE.md §7).
 *
 * One multipart object is one AES-256-CTR stream, so a part's keystream is fixed by where it starts: part `n`
 * (1-based) covers bytes `[(n-1) × partSize, min(n × partSize, dataSize))` and is encrypted with
 * `aesCtr(cek, iv, part.start)` (the cipher layer turns the byte offset into counter `IV + start/16`). That is
 * why `partSize` must be a multiple of 16 and why every part but the last must be *exactly* `partSize`: a part
 * of any other length puts the next part's bytes under the wrong counter (corrupt object) or encrypts two
 * different plaintexts under one keystream (an attacker who sees both learns their XOR). No official SDK checks
 * this; {@link checkPart} does.
 *
 * Limits are OSS's and oss2's (`oss2/utils.py`, `is_valid_crypto_part_size`): at most 10,000 parts, every part
 * but the last at least 100 KiB (OSS answers `EntityTooSmall` at completion otherwise), at most 5 GiB per part.
 * An empty object is planned as **one empty part**: CompleteMultipartUpload needs at least one part, and OSS
 * accepts a 0-byte last part.
 *
 * Pure: no I/O, no `node:` imports. Not here: reading the source, encrypting, talking to OSS
 * (`upload/parts-api.ts`, `upload/upload-run.ts`), and persisting progress (`upload/checkpoint.ts`).
 * @module
 */
import { PartError } from '../errors.js';
import { describeValue } from '../util/describe.js';

/**
 * OSS: a multipart upload has at most this many parts.
 * @example
 *   if (Math.ceil(size / partSize) > MAX_PARTS) partSize = choosePartSize(size);
 */
export const MAX_PARTS = 10_000;
/**
 * OSS (and oss2's `defaults.min_part_size`): every part but the last is at least this many bytes (100 KiB).
 * @example
 *   const partSize = Math.max(MIN_PART_SIZE, requested);
 */
export const MIN_PART_SIZE = 100 * 1024;
/** OSS: no part may exceed 5 GiB. */
export const MAX_PART_SIZE = 5 * 1024 * 1024 * 1024;
/** ali-oss's `multipartUpload` default part size (1 MiB); {@link choosePartSize} starts from it. */
export const DEFAULT_PART_SIZE = 1024 * 1024;
/** Part starts must fall on AES block boundaries (docs/FORMAT.md §5). */
export const PART_ALIGNMENT = 16;

/**
 * One planned part. Its CTR counter offset is simply `start`.
 * @example
 *   const part: PlannedPart = partAt(planParts(size, 1 << 20), 3);
 *   const stream = aesCtr(key, iv, part.start); // the part's counter offset
 */
export interface PlannedPart {
  /** 1-based, as OSS numbers parts. */
  readonly partNumber: number;
  /** Byte offset of the part's first byte in the plaintext (and in the object): a multiple of 16. */
  readonly start: number;
  /** Bytes in the part: `partSize` for every part but the last. */
  readonly length: number;
}

/**
 * How a `dataSize`-byte plaintext is cut into parts. Plain frozen data: safe to log or serialise.
 * @example
 *   const plan: PartPlan = planParts(300_000, 102_400);
 *   plan.parts.map((p) => p.length); // [102400, 102400, 95200]
 */
export interface PartPlan {
  /** Plaintext (= ciphertext) size of the whole object in bytes. */
  readonly dataSize: number;
  /** Length of every part but the last; a multiple of 16. */
  readonly partSize: number;
  /** `max(1, ceil(dataSize / partSize))`. */
  readonly partCount: number;
  /** `parts[i].partNumber === i + 1`; contiguous, covering `[0, dataSize)`. */
  readonly parts: readonly PlannedPart[];
}

/** Options of {@link planParts}. */
export interface PlanOptions {
  /**
   * Smallest length allowed for a part that is not the last. Default {@link MIN_PART_SIZE} (OSS's rule).
   * Lower it only for an OSS-compatible server that does not enforce `EntityTooSmall`.
   */
  minPartSize?: number;
}

/** Options of {@link choosePartSize}. */
export interface ChoosePartSizeOptions {
  /** The part size the caller would like; rounded up to a multiple of 16. Default {@link DEFAULT_PART_SIZE}. */
  preferred?: number;
  /** Lower bound; rounded up to a multiple of 16. Default {@link MIN_PART_SIZE}. */
  minimum?: number;
}

/** Options of {@link checkPart}. */
export interface CheckPartOptions {
  /** The object name, quoted in error messages. */
  name?: string;
}

/**
 * Cuts `dataSize` bytes into parts of `partSize` bytes (the last one shorter).
 * @param dataSize plaintext size in bytes (a non-negative safe integer)
 * @param partSize a positive multiple of 16, at most {@link MAX_PART_SIZE}
 * @returns a frozen plan; `dataSize === 0` gives one empty part
 * @throws {RangeError} `"partSize" expected a multiple of 16, got 100001` (and for negative, fractional or
 *   non-number sizes)
 * @throws {PartError} `PART_INVALID` when the plan breaks an OSS rule: more than 10,000 parts, or parts smaller
 *   than `minPartSize` that are not the last
 * @example
 *   const plan = planParts(5 * 1024 * 1024 + 7, 1024 * 1024);
 *   plan.partCount;   // 6
 *   plan.parts[5];    // { partNumber: 6, start: 5242880, length: 7 }
 *   // encrypt part n with aesCtr(cek, iv, plan.parts[n - 1].start)
 */
export function planParts(dataSize: number, partSize: number, options: PlanOptions = {}): PartPlan {
  checkSize('dataSize', dataSize);
  checkPartSize('partSize', partSize);
  const minPartSize = options.minPartSize ?? MIN_PART_SIZE;
  checkPositive('minPartSize', minPartSize);
  const partCount = countParts(dataSize, partSize);
  if (partCount > MAX_PARTS) {
    throw new PartError(
      'PART_INVALID',
      `dataSize ${dataSize} in parts of partSize ${partSize} bytes makes ${partCount} parts; OSS allows at most ` +
        `${MAX_PARTS} parts per upload, so partSize must be at least ${alignUp(Math.ceil(dataSize / MAX_PARTS))} ` +
        `(ceil(dataSize / ${MAX_PARTS}) rounded up to a multiple of 16; choosePartSize() computes this)`,
    );
  }
  if (partCount > 1 && partSize < minPartSize) {
    throw new PartError(
      'PART_INVALID',
      `partSize ${partSize} is below the minimum part size ${minPartSize} (OSS rejects every part but the last ` +
        `below 100 KiB with EntityTooSmall); dataSize ${dataSize} needs ${partCount} parts at this size`,
    );
  }
  const parts: PlannedPart[] = [];
  for (let i = 0; i < partCount; i++) {
    const start = i * partSize;
    parts.push(Object.freeze({ partNumber: i + 1, start, length: Math.min(partSize, dataSize - start) }));
  }
  return Object.freeze({ dataSize, partSize, partCount, parts: Object.freeze(parts) });
}

/**
 * The planned part numbered `partNumber` (1-based).
 * @throws {RangeError} when `partNumber` is not an integer in `1..plan.partCount`
 * @example
 *   const { start, length } = partAt(plan, 3);
 */
export function partAt(plan: PartPlan, partNumber: number): PlannedPart {
  if (!Number.isSafeInteger(partNumber) || partNumber < 1 || partNumber > plan.partCount) {
    throw new RangeError(`"partNumber" expected an integer in 1..${plan.partCount}, got ${describeValue(partNumber)}`);
  }
  return plan.parts[partNumber - 1];
}

/**
 * The smallest multiple of 16 that is at least `preferred` and `minimum` and keeps the upload within 10,000
 * parts: `max(⌈preferred⌉₁₆, ⌈minimum⌉₁₆, ⌈ceil(dataSize / 10000)⌉₁₆)`. Its result always satisfies oss2's
 * `is_valid_crypto_part_size` (multiple of 16, ≥ 100 KiB, × 10000 ≥ dataSize) with the default minimum.
 * Unlike ali-oss's own `_getPartSize`, it never yields a size that is not a multiple of 16, and it does not
 * change the size silently beyond these rules (no console warning either: the returned value is the answer).
 * @param dataSize plaintext size in bytes
 * @throws {RangeError} for a negative or fractional size, or a non-positive `preferred` / `minimum`
 * @throws {PartError} `PART_INVALID` when even 5 GiB parts would need more than 10,000 parts, or `preferred`
 *   exceeds 5 GiB
 * @example
 *   choosePartSize(20 * 1024 ** 3);                        // 2147488 (20 GiB / 10000, rounded up to 16)
 *   choosePartSize(1000);                                  // 1048576 (the 1 MiB default)
 *   choosePartSize(1000, { preferred: 100_001 });          // 102400 (the 100 KiB minimum wins)
 */
export function choosePartSize(dataSize: number, options: ChoosePartSizeOptions = {}): number {
  checkSize('dataSize', dataSize);
  const preferred = options.preferred ?? DEFAULT_PART_SIZE;
  const minimum = options.minimum ?? MIN_PART_SIZE;
  checkPositive('preferred', preferred);
  checkPositive('minimum', minimum);
  const forCount = alignUp(Math.ceil(dataSize / MAX_PARTS));
  const size = Math.max(alignUp(preferred), alignUp(minimum), forCount);
  if (size > MAX_PART_SIZE) {
    const why =
      forCount > MAX_PART_SIZE
        ? `dataSize ${dataSize} needs parts of at least ${forCount} bytes to fit in ${MAX_PARTS} parts`
        : `the preferred part size ${preferred} (or minimum ${minimum}) rounds up to ${size}`;
    throw new PartError(
      'PART_INVALID',
      `no valid part size: ${why}, but OSS allows at most ${MAX_PART_SIZE} bytes (5 GiB) per part ` +
        `(so at most ${MAX_PART_SIZE * MAX_PARTS} bytes per multipart object)`,
    );
  }
  return size;
}

/**
 * Checks one part of the low-level multipart API (`uploadPart(name, uploadId, partNo, data, context)`) against
 * the plan, before anything is encrypted or sent.
 * @param plan the upload's plan (rebuilt from the crypto context's `dataSize` / `partSize`)
 * @param partNumber the 1-based part number the caller gave
 * @param length the byte length of the data the caller gave
 * @returns the planned part, whose `start` is the CTR offset to encrypt it at
 * @throws {PartError} `PART_INVALID`: `part 3 of "big.bin" expected 1048576 bytes (partSize), got 1048000`;
 *   also a part number below 1 or beyond the plan, and a last part whose length is not `dataSize − start`
 * @throws {RangeError} when `partNumber` or `length` is not a safe integer, or `length` is negative
 * @example
 *   const plan = planParts(ctx.dataSize, ctx.partSize);
 *   const part = checkPart(plan, 3, data.length, { name: 'big.bin' });
 *   const body = aesCtrXor(cek, iv, data, part.start);
 */
export function checkPart(plan: PartPlan, partNumber: number, length: number, options: CheckPartOptions = {}): PlannedPart {
  if (!Number.isSafeInteger(partNumber)) {
    throw new RangeError(`"partNumber" expected an integer, got ${describeValue(partNumber)}`);
  }
  checkSize('length', length);
  const label = options.name === undefined ? `part ${partNumber}` : `part ${partNumber} of ${JSON.stringify(options.name)}`;
  const layout = `dataSize ${plan.dataSize} in parts of partSize ${plan.partSize} makes ${plan.partCount} part${plan.partCount === 1 ? '' : 's'}`;
  if (partNumber < 1) {
    throw new PartError('PART_INVALID', `${label}: part numbers start at 1 (${layout})`);
  }
  if (partNumber > plan.partCount) {
    throw new PartError('PART_INVALID', `${label} is beyond the plan: ${layout}`);
  }
  const part = plan.parts[partNumber - 1];
  if (length === part.length) return part;
  if (partNumber < plan.partCount) {
    throw new PartError(
      'PART_INVALID',
      `${label} expected ${plan.partSize} bytes (partSize), got ${length}; every part but the last must be exactly ` +
        `partSize, because part n is encrypted from byte (n-1) × partSize of one CTR stream (${layout})`,
    );
  }
  throw new PartError(
    'PART_INVALID',
    `${label} is the last part and expected ${part.length} bytes (dataSize ${plan.dataSize} − start ${part.start}), ` +
      `got ${length}`,
  );
}

function countParts(dataSize: number, partSize: number): number {
  return Math.max(1, Math.ceil(dataSize / partSize));
}

function alignUp(n: number): number {
  return Math.ceil(n / PART_ALIGNMENT) * PART_ALIGNMENT;
}

function checkSize(name: string, value: unknown): asserts value is number {
  if (typeof value !== 'number') throw new TypeError(`"${name}" expected a number, got ${typeof value}`);
  if (!Number.isSafeInteger(value) || value < 0) {
    throw new RangeError(`"${name}" expected a non-negative safe integer, got ${describeValue(value)}`);
  }
}

function checkPositive(name: string, value: unknown): asserts value is number {
  if (typeof value !== 'number') throw new TypeError(`"${name}" expected a number, got ${typeof value}`);
  if (!Number.isSafeInteger(value) || value <= 0) {
    throw new RangeError(`"${name}" expected a positive safe integer, got ${describeValue(value)}`);
  }
}

function checkPartSize(name: string, value: unknown): asserts value is number {
  checkPositive(name, value);
  if (value % PART_ALIGNMENT !== 0) throw new RangeError(`"${name}" expected a multiple of 16, got ${value}`);
  if (value > MAX_PART_SIZE) {
    throw new RangeError(`"${name}" expected at most ${MAX_PART_SIZE} (5 GiB, OSS's largest part), got ${value}`);
  }
}
