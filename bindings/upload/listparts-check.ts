/**
 * Does a resumed upload's checkpoint belong to the upload OSS holds? (issue 12 §1; docs/FORMAT.md §5:
 * ListParts lists an encrypted upload's `ClientEncryption*` fields.) A checkpoint file is integrity-critical: whoever can edit it chooses the wrapped
 * key the remaining parts are encrypted under, or points `uploadId` at another upload. OSS's ListParts answer for
 * a client-side-encrypted upload carries the upload's own envelope fields as children of `<ListPartsResult>`
 * (`ClientEncryptionKey`, `…Start`, `…CekAlg`, `…WrapAlg`, `…DataSize`, `…PartSize`, as Initiate set them); this
 * module compares them with the checkpoint and refuses any difference, naming the field.
 *
 * Pure: the caller fetches ListParts (ali-oss's `listParts` drops these fields, so the raw XML is read with
 * {@link listPartsEncryptionFields}) and decides what to do when OSS sent none (`absent`: an OSS or stand-in that
 * does not list them, or a plain upload). Deliberately not here: the request, and the checks on the local file
 * (upload/checkpoint.ts).
 * @module
 */
import { CEK_ALG } from '../envelope/headers.js';
import { CheckpointError } from '../errors.js';

/**
 * The `ClientEncryption*` fields of a ListParts answer, as text (any may be absent).
 * @example
 *   const listed: ListedEncryptionFields = { ClientEncryptionKey: '…', ClientEncryptionDataSize: '1048576' };
 */
export type ListedEncryptionFields = Partial<Record<(typeof FIELDS)[number], string>>;

/** What a checkpoint (or a multipart crypto context) says about its upload. */
export interface CheckpointEnvelopeFields {
  readonly wrapAlg: string;
  readonly wrappedKey: string;
  readonly wrappedStart: string;
  readonly dataSize: number;
  readonly partSize: number;
}

const FIELDS = [
  'ClientEncryptionKey',
  'ClientEncryptionStart',
  'ClientEncryptionCekAlg',
  'ClientEncryptionWrapAlg',
  'ClientEncryptionDataSize',
  'ClientEncryptionPartSize',
] as const;

/**
 * The `ClientEncryption*` children of `<ListPartsResult>` in a raw ListParts answer (those inside `<Part>` are not
 * looked at). XML's five predefined entities and numeric character references are decoded.
 * @param xml the response body
 * @returns the fields present; an empty object when there are none
 * @example
 *   listPartsEncryptionFields('<ListPartsResult><ClientEncryptionPartSize>1048576</ClientEncryptionPartSize></ListPartsResult>')
 *   // { ClientEncryptionPartSize: '1048576' }
 */
export function listPartsEncryptionFields(xml: string): ListedEncryptionFields {
  if (typeof xml !== 'string') throw new TypeError(`"xml" expected a string, got ${typeof xml}`);
  // Cut the <Part> elements out first: only top-level fields describe the upload.
  const top = xml.replace(/<Part>[\s\S]*?<\/Part>/g, '');
  const out: ListedEncryptionFields = {};
  for (const name of FIELDS) {
    const m = new RegExp(`<${name}>([^<]*)</${name}>`).exec(top);
    if (m) out[name] = decodeXmlText(m[1]);
  }
  return out;
}

/**
 * Compares a checkpoint with what OSS lists for its upload.
 * @param checkpoint the checkpoint's (or context's) wrapped key, wrap-alg and sizes
 * @param listed the fields ListParts returned
 * @returns `match` when every field is there and equal; `absent` when OSS listed none of them
 * @throws {CheckpointError} `CHECKPOINT_MISMATCH` naming each field that differs or is missing while others are
 *   present
 * @example
 *   if (compareWithListedUpload(cp, listPartsEncryptionFields(xml)) === 'absent') { ... policy: refuse or continue ... }
 */
export function compareWithListedUpload(checkpoint: CheckpointEnvelopeFields, listed: ListedEncryptionFields): 'match' | 'absent' {
  const present = FIELDS.filter((f) => listed[f] !== undefined);
  if (present.length === 0) return 'absent';
  const expected: Record<(typeof FIELDS)[number], string> = {
    ClientEncryptionKey: checkpoint.wrappedKey,
    ClientEncryptionStart: checkpoint.wrappedStart,
    ClientEncryptionCekAlg: CEK_ALG.ctr,
    ClientEncryptionWrapAlg: checkpoint.wrapAlg,
    ClientEncryptionDataSize: String(checkpoint.dataSize),
    ClientEncryptionPartSize: String(checkpoint.partSize),
  };
  const problems: string[] = [];
  for (const f of FIELDS) {
    const got = listed[f];
    if (got === undefined) problems.push(`${f} is missing from ListParts while other encryption fields are listed`);
    // Wrapped values are not quoted: a message may be logged, and naming the field is what the operator needs.
    else if (got !== expected[f]) {
      problems.push(f === 'ClientEncryptionKey' || f === 'ClientEncryptionStart' ? `${f} differs` : `${f} is ${JSON.stringify(got)}, the checkpoint says ${JSON.stringify(expected[f])}`);
    }
  }
  if (problems.length > 0) {
    throw new CheckpointError(
      'CHECKPOINT_MISMATCH',
      `the checkpoint does not belong to the upload OSS holds under its uploadId: ${problems.join('; ')}. ` +
        'The checkpoint file was edited or points at another upload; start a new upload instead of resuming',
    );
  }
  return 'match';
}

function decodeXmlText(text: string): string {
  return text.replace(/&(lt|gt|amp|quot|apos|#[0-9]+|#x[0-9a-fA-F]+);/g, (_, e: string) => {
    switch (e) {
      case 'lt': return '<';
      case 'gt': return '>';
      case 'amp': return '&';
      case 'quot': return '"';
      case 'apos': return "'";
      default: {
        const code = e[1] === 'x' ? parseInt(e.slice(2), 16) : parseInt(e.slice(1), 10);
        return code <= 0x10ffff ? String.fromCodePoint(code) : '\uFFFD';
      }
    }
  });
}
