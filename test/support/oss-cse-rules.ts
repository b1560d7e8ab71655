/**
 * What OSS itself refuses in client-side-encryption (CSE) requests, for the OSS stand-in
 * (test/support/oss-server.ts): the checks of docs/FORMAT.md §9, each answered as OSS does, HTTP 400
 * `InvalidArgument` with the rule's number in the error body's `EC` element (ali-oss surfaces it as
 * `err.ecCode`). The rules are always on: a stand-in that accepts what OSS refuses would let a client pass here and
 * fail in production.
 *
 * A request "uses CSE" when it carries any `x-oss-meta-client-side-encryption-*` header; an UploadPart belongs to a
 * CSE upload when its InitiateMultipartUpload did. Checks run in the order of the EC numbers, so a request breaking
 * several rules gets the lowest one.
 *
 * Where the rules document leaves a question open this module takes the strict reading, and says so at the check.
 * Deliberately not here: HTTP, storage. Callers pass lower-case request headers and sizes; this module throws
 * {@link OssError}s and never changes state.
 * @module
 */
import { OssError, MAX_PART_NUMBER } from './oss-store.js';

/** The header prefix that makes a request one that "uses CSE". */
export const CSE_HEADER_PREFIX = 'x-oss-meta-client-side-encryption-';

/** The CSE parameters an InitiateMultipartUpload fixed for its upload; every later part is held to them. */
export interface CseUploadParams {
  key: string;
  start: string;
  cekAlg: string;
  wrapAlg: string;
  /** Only for the deprecated V1 `rsa` wrap-alg. */
  magicNumberHmac?: string;
  dataSize: number;
  partSize: number;
  /** ceil(dataSize / partSize), at least 1: the number of the last part (the strict reading of 0005-00000419/420). */
  partCount: number;
}

/** The documented ECs, by the rule they enforce (docs/FORMAT.md §9). */
export const CSE_EC = {
  keyMissing: '0005-00000401',
  startMissing: '0005-00000402',
  cekAlgMissing: '0005-00000403',
  wrapAlgMissing: '0005-00000404',
  magicNumberHmacMissing: '0005-00000405',
  dataSizeMissing: '0005-00000406',
  partSizeMissing: '0005-00000407',
  dataSizeNotInteger: '0005-00000408',
  partSizeNotInteger: '0005-00000409',
  tooManyParts: '0005-00000410',
  completeListsTooManyParts: '0005-00000411',
  // 412, 414 and 415 have no page; docs/FORMAT.md §9 infers them from their neighbours (see partMismatch below).
  partKeyDiffers: '0005-00000412',
  partStartDiffers: '0005-00000413',
  partCekAlgDiffers: '0005-00000414',
  partWrapAlgDiffers: '0005-00000415',
  partMagicNumberHmacDiffers: '0005-00000416',
  partDataSizeDiffers: '0005-00000417',
  partPartSizeDiffers: '0005-00000418',
  partNotPartSize: '0005-00000419',
  lastPartWrongSize: '0005-00000420',
  copyModifiesEncryptedMetadata: '0005-00000421',
  partCopyFromEncrypted: '0042-00000309',
} as const;

/** True when the headers (lower-case names) carry any client-side-encryption header. */
export function usesCse(headers: Readonly<Record<string, string>>): boolean {
  return Object.keys(headers).some((name) => name.startsWith(CSE_HEADER_PREFIX));
}

/** True when user metadata (names without `x-oss-meta-`) marks a client-side-encrypted object or upload. */
export function isCseMeta(meta: Readonly<Record<string, string>>): boolean {
  return Object.keys(meta).some((name) => name.startsWith(CSE_HEADER_PREFIX.slice('x-oss-meta-'.length)));
}

/**
 * PutObject (and AppendObject): a request that uses CSE carries key, start, cek-alg and wrap-alg, and the
 * magic-number-hmac with the V1 `rsa` wrap-alg (0005-00000401..405).
 * AppendObject has no rule of its own in docs/FORMAT.md §9; the strict reading holds an append that uses CSE to
 * PutObject's rules, since it writes an object just as PutObject does.
 */
export function checkPutObjectCse(headers: Readonly<Record<string, string>>, operation: 'PutObject' | 'AppendObject'): void {
  if (usesCse(headers)) checkEnvelopeHeaders(headers, operation);
}

/**
 * InitiateMultipartUpload: when it uses CSE, the envelope headers plus data-size and part-size, both integers, at
 * most 10,000 parts (0005-00000401..410).
 * @returns the parameters the upload's parts are held to, or undefined for a plain upload
 */
export function checkInitiateCse(headers: Readonly<Record<string, string>>): CseUploadParams | undefined {
  if (!usesCse(headers)) return undefined;
  return checkFullSet(headers, 'InitiateMultipartUpload');
}

/**
 * UploadPart, before its body is read. The open question "must a part carry the headers at all" takes the
 * stand-in's strict reading from docs/FORMAT.md §9: a part may carry none, but a part that carries any must carry
 * the full set Initiate needed (0005-00000401..410, which the table lists for UploadPart too) and every value must
 * equal Initiate's (0005-00000412..418). A part of a plain upload that carries CSE headers is held to the same
 * completeness rules and, having no Initiate values to match, refused as differing from them.
 */
export function checkUploadPartCseHeaders(headers: Readonly<Record<string, string>>, upload: CseUploadParams | undefined): void {
  if (!usesCse(headers)) return;
  const part = checkFullSet(headers, 'UploadPart');
  const initiated: Partial<CseUploadParams> = upload ?? {};
  const differs: [keyof CseUploadParams, string, string][] = [
    ['key', 'key', CSE_EC.partKeyDiffers],
    ['start', 'start', CSE_EC.partStartDiffers],
    ['cekAlg', 'cek-alg', CSE_EC.partCekAlgDiffers],
    ['wrapAlg', 'wrap-alg', CSE_EC.partWrapAlgDiffers],
    ['magicNumberHmac', 'magic-number-hmac', CSE_EC.partMagicNumberHmacDiffers],
    ['dataSize', 'data-size', CSE_EC.partDataSizeDiffers],
    ['partSize', 'part-size', CSE_EC.partPartSizeDiffers],
  ];
  for (const [field, header, ec] of differs) {
    if (part[field] !== initiated[field]) {
      // 412, 414 and 415 have no stored page; the strict reading refuses these differences like 413/417/418.
      throw cseError(
        ec,
        `UploadPart: ${CSE_HEADER_PREFIX}${header} differs from the value given at InitiateMultipartUpload${
          upload ? '' : ' (which started a plain upload)'
        }; every part must use its upload's client-side-encryption parameters.`,
      );
    }
  }
}

/**
 * UploadPart of a CSE upload, once the body's size is known: every part before the last is exactly part-size bytes
 * (0005-00000419) and the last one, part number ceil(data-size / part-size) in the strict reading of
 * docs/FORMAT.md §9, makes the parts add up to data-size (0005-00000420). A part numbered past the last could only
 * make them add up to more than data-size, so the strict reading refuses it as 420 too.
 */
export function checkUploadPartCseSize(upload: CseUploadParams | undefined, partNumber: number, size: number): void {
  if (!upload) return;
  if (partNumber < upload.partCount) {
    if (size !== upload.partSize) {
      throw cseError(
        CSE_EC.partNotPartSize,
        `UploadPart: part ${partNumber} of ${upload.partCount} is ${size} bytes; every part but the last must be exactly the ${upload.partSize} bytes of ${CSE_HEADER_PREFIX}part-size.`,
      );
    }
    return;
  }
  const expected = upload.dataSize - (upload.partCount - 1) * upload.partSize;
  if (partNumber > upload.partCount || size !== expected) {
    throw cseError(
      CSE_EC.lastPartWrongSize,
      partNumber > upload.partCount
        ? `UploadPart: part ${partNumber} lies past the last part (${upload.partCount}) of ${upload.dataSize} bytes in ${upload.partSize}-byte parts declared at InitiateMultipartUpload.`
        : `UploadPart: the last part (${partNumber}) is ${size} bytes; ${expected} bytes make the parts add up to the ${upload.dataSize} bytes of ${CSE_HEADER_PREFIX}data-size.`,
    );
  }
}

/**
 * CompleteMultipartUpload: data-size and part-size, when the request carries them, are integers
 * (0005-00000408/409); the body lists no more parts than ceil(data-size / part-size) from Initiate (0005-00000411).
 */
export function checkCompleteCse(headers: Readonly<Record<string, string>>, upload: CseUploadParams | undefined, listedParts: number): void {
  integerHeader(headers, 'data-size', CSE_EC.dataSizeNotInteger, 'CompleteMultipartUpload');
  integerHeader(headers, 'part-size', CSE_EC.partSizeNotInteger, 'CompleteMultipartUpload');
  if (upload && listedParts > upload.partCount) {
    throw cseError(
      CSE_EC.completeListsTooManyParts,
      `CompleteMultipartUpload lists ${listedParts} parts; the ${upload.dataSize} bytes in ${upload.partSize}-byte parts declared at InitiateMultipartUpload make ${upload.partCount}.`,
    );
  }
}

/** The attributes CopyObject compares: what a REPLACE would leave on the object. */
export interface CopyAttributes {
  contentType: string;
  meta: Readonly<Record<string, string>>;
  headers: Readonly<Record<string, string>>;
}

/**
 * CopyObject must not modify the metadata of a client-side-encrypted object (0005-00000421). The open question
 * "does this cover REPLACE onto a different key" takes the strict stand-in's reading from docs/FORMAT.md §9:
 * refuse only copies onto the source's own key that change anything of its metadata (user metadata, Content-Type,
 * or the standard headers OSS stores); copies to other keys keep working, as does a same-key copy that changes
 * nothing.
 */
export function checkCopyObjectCse(
  source: CopyAttributes & { bucket: string; key: string },
  target: { bucket: string; key: string },
  result: CopyAttributes,
): void {
  if (!isCseMeta(source.meta) || source.bucket !== target.bucket || source.key !== target.key) return;
  const same =
    source.contentType === result.contentType && sameRecord(source.meta, result.meta) && sameRecord(source.headers, result.headers);
  if (!same) {
    throw cseError(
      CSE_EC.copyModifiesEncryptedMetadata,
      'CopyObject would modify the metadata of a client-side-encrypted object, which OSS does not allow; upload the object again with the new metadata.',
    );
  }
}

/** UploadPartCopy refuses a client-side-encrypted source object (0042-00000309). */
export function checkUploadPartCopyCse(sourceMeta: Readonly<Record<string, string>>): void {
  if (isCseMeta(sourceMeta)) {
    throw cseError(
      CSE_EC.partCopyFromEncrypted,
      'UploadPartCopy: the x-oss-copy-source object is client-side encrypted, and its ciphertext cannot be copied into another upload.',
    );
  }
}

// ---------------------------------------------------------------------------------------------------------
// helpers

function cseError(ec: string, message: string): OssError {
  return new OssError(400, 'InvalidArgument', message, { EC: ec });
}

/** 0005-00000401..405: the headers every request that uses CSE carries. */
function checkEnvelopeHeaders(headers: Readonly<Record<string, string>>, operation: string): Pick<CseUploadParams, 'key' | 'start' | 'cekAlg' | 'wrapAlg' | 'magicNumberHmac'> {
  const required: [string, string][] = [
    ['key', CSE_EC.keyMissing],
    ['start', CSE_EC.startMissing],
    ['cek-alg', CSE_EC.cekAlgMissing],
    ['wrap-alg', CSE_EC.wrapAlgMissing],
  ];
  for (const [name, ec] of required) {
    if (headers[CSE_HEADER_PREFIX + name] === undefined) {
      throw cseError(ec, `${operation} uses client-side encryption but lacks ${CSE_HEADER_PREFIX}${name}.`);
    }
  }
  const wrapAlg = headers[`${CSE_HEADER_PREFIX}wrap-alg`];
  const magicNumberHmac = headers[`${CSE_HEADER_PREFIX}magic-number-hmac`];
  if (wrapAlg === 'rsa' && magicNumberHmac === undefined) {
    throw cseError(
      CSE_EC.magicNumberHmacMissing,
      `${operation} uses the deprecated "rsa" wrap-alg but lacks ${CSE_HEADER_PREFIX}magic-number-hmac.`,
    );
  }
  return {
    key: headers[`${CSE_HEADER_PREFIX}key`],
    start: headers[`${CSE_HEADER_PREFIX}start`],
    cekAlg: headers[`${CSE_HEADER_PREFIX}cek-alg`],
    wrapAlg,
    ...(magicNumberHmac === undefined ? {} : { magicNumberHmac }),
  };
}

/** 0005-00000401..410 for InitiateMultipartUpload and UploadPart. */
function checkFullSet(headers: Readonly<Record<string, string>>, operation: string): CseUploadParams {
  const envelope = checkEnvelopeHeaders(headers, operation);
  if (headers[`${CSE_HEADER_PREFIX}data-size`] === undefined) {
    throw cseError(CSE_EC.dataSizeMissing, `${operation} uses client-side encryption but lacks ${CSE_HEADER_PREFIX}data-size, the total size of the object.`);
  }
  if (headers[`${CSE_HEADER_PREFIX}part-size`] === undefined) {
    throw cseError(CSE_EC.partSizeMissing, `${operation} uses client-side encryption but lacks ${CSE_HEADER_PREFIX}part-size.`);
  }
  const dataSize = integerHeader(headers, 'data-size', CSE_EC.dataSizeNotInteger, operation) as number;
  const partSize = integerHeader(headers, 'part-size', CSE_EC.partSizeNotInteger, operation) as number;
  // A part-size of 0 would need unboundedly many parts: the strict reading refuses it under the part-count rule.
  const partCount = partSize === 0 ? Infinity : Math.max(1, Math.ceil(dataSize / partSize));
  if (partCount > MAX_PART_NUMBER) {
    throw cseError(
      CSE_EC.tooManyParts,
      `${operation}: ${dataSize} bytes in ${partSize}-byte parts need more than OSS's ${MAX_PART_NUMBER} parts.`,
    );
  }
  // The user guide says part-size is a multiple of 16 (CTR counter blocks) without naming an EC: the strict reading
  // refuses it all the same, as an InvalidArgument without an EC element.
  if (partSize % 16 !== 0) {
    throw new OssError(400, 'InvalidArgument', `${operation}: ${CSE_HEADER_PREFIX}part-size must be a multiple of 16, got ${partSize}.`);
  }
  return { ...envelope, dataSize, partSize, partCount };
}

/** The header as a non-negative integer, undefined when absent; anything else is refused with `ec`. */
function integerHeader(headers: Readonly<Record<string, string>>, name: string, ec: string, operation: string): number | undefined {
  const raw = headers[CSE_HEADER_PREFIX + name];
  if (raw === undefined) return undefined;
  const value = /^[0-9]+$/.test(raw.trim()) ? Number(raw.trim()) : NaN;
  if (!Number.isSafeInteger(value)) {
    throw cseError(ec, `${operation}: ${CSE_HEADER_PREFIX}${name} must be an integer, got "${raw}".`);
  }
  return value;
}

function sameRecord(a: Readonly<Record<string, string>>, b: Readonly<Record<string, string>>): boolean {
  const keys = Object.keys(a);
  return keys.length === Object.keys(b).length && keys.every((k) => Object.hasOwn(b, k) && a[k] === b[k]);
}
