/**
 * The OSS operations of the stand-in (test/support/oss-server.ts), one handler per request kind: they read the
 * request through an {@link Exchange}, apply OSS's rules through the {@link OssStore}, and answer with the
 * headers and XML that OSS (and therefore ali-oss) uses. docs/FORMAT.md §5, §6, §8.
 * @module
 */
import type { IncomingMessage } from 'node:http';
import { Exchange, joinSegments, sliceSegments, writeSegments } from './oss-exchange.js';
import type { OssRequestKind } from './oss-faults.js';
import {
  checkCompleteCse,
  checkCopyObjectCse,
  checkInitiateCse,
  checkPutObjectCse,
  checkUploadPartCopyCse,
  checkUploadPartCseHeaders,
  checkUploadPartCseSize,
} from './oss-cse-rules.js';
import { evaluateConditions, resolveRange } from './oss-range.js';
import { decodePath, NEUTRAL_QUERY, RESPONSE_OVERRIDES } from './oss-routing.js';
import {
  compareKeys,
  CSE_LISTPARTS_FIELDS,
  digestOf,
  MAX_PART_NUMBER,
  OssError,
  type BodyDigest,
  type ObjectAttributes,
  type StoredObject,
} from './oss-store.js';
import { doc, el, isoDate, ownerXml, parseCompleteBody } from './oss-xml.js';

// Standard headers OSS stores with an object and returns on GET/HEAD.
const STORED_HEADERS = ['cache-control', 'content-disposition', 'content-encoding', 'content-language', 'expires'];

// Kinds whose request carries a body (an injected reset cuts them while it arrives).
export const BODY_KINDS = new Set<OssRequestKind>(['put', 'append', 'uploadPart', 'complete']);

/** The handler of every request kind; a handler either answers through the exchange or throws an OssError. */
export const OPERATIONS: Record<OssRequestKind, (ex: Exchange) => Promise<void>> = {
  preflight: async (ex) => preflight(ex),
  unsupported: async (ex) => {
    await ex.drain();
    const extra = [...ex.route.query.keys()].filter((k) => !NEUTRAL_QUERY.has(k));
    throw new OssError(
      501,
      'NotImplemented',
      `The OSS stand-in does not implement ${ex.req.method} ${ex.route.bucket ? 'on a bucket' : 'without a bucket'}${
        ex.route.key ? ' object' : ''
      }${extra.length ? ` with sub-resource ${extra.join(', ')}` : ''}.`,
    );
  },
  put: putObject,
  append: appendObject,
  get: (ex) => getObject(ex),
  head: (ex) => getObject(ex),
  delete: deleteObject,
  copy: copyObject,
  list: listObjects,
  initiate: initiateUpload,
  uploadPart,
  uploadPartCopy,
  complete: completeUpload,
  abort: abortUpload,
  listParts,
  listUploads,
  createBucket: async (ex) => {
    await ex.drain();
    ex.state.store.createBucket(ex.bucket);
    ex.send(200, { 'Content-Length': 0 });
  },
  deleteBucket: async (ex) => {
    ex.state.store.deleteBucket(ex.bucket);
    ex.send(204, {});
  },
};

function preflight(ex: Exchange): void {
  const requested = ex.header('access-control-request-headers');
  ex.send(200, {
    'Access-Control-Allow-Methods': 'GET, PUT, POST, DELETE, HEAD',
    'Access-Control-Allow-Headers': requested && requested.trim() !== '' ? requested : '*',
    'Access-Control-Max-Age': 600,
    'Content-Length': 0,
  });
}

async function putObject(ex: Exchange): Promise<void> {
  const { store } = ex.state;
  store.bucket(ex.bucket);
  checkKey(ex.key);
  requireLength(ex);
  await refuseWriteConditions(ex);
  const headers = lowerHeaders(ex.req);
  checkPutObjectCse(headers, 'PutObject');
  if (forbidsOverwrite(ex)) {
    await ex.drain();
    throw fileAlreadyExists();
  }
  const body = await ex.receive(store.options.storeBodies);
  checkContentMd5(ex, body);
  const object = store.putObject(ex.bucket, ex.key, body, attributesFrom(headers));
  ex.send(200, {
    ETag: object.etag,
    'x-oss-hash-crc64ecma': object.crc64.toString(),
    'Content-MD5': body.md5.toString('base64'),
    'Content-Length': 0,
  });
}

/**
 * AppendObject: `POST /key?append&position=N`. Creates an Appendable object at position 0 and adds to it when N is
 * its current length (else 409 PositionNotEqualToLength, with the length in x-oss-next-append-position); a Normal or
 * Multipart object cannot be appended to (409 ObjectNotAppendable). Attributes come from the first append.
 */
async function appendObject(ex: Exchange): Promise<void> {
  const { store } = ex.state;
  store.bucket(ex.bucket);
  checkKey(ex.key);
  requireLength(ex);
  const position = intParam(ex.route.query, 'position', NaN, 0, Number.MAX_SAFE_INTEGER);
  if (Number.isNaN(position)) throw new OssError(400, 'InvalidArgument', 'AppendObject needs the position parameter.', { ArgumentName: 'position' });
  const headers = lowerHeaders(ex.req);
  checkPutObjectCse(headers, 'AppendObject');
  const existing = store.buckets.get(ex.bucket)?.get(ex.key);
  if (existing && existing.type !== 'Appendable') {
    throw new OssError(409, 'ObjectNotAppendable', `The object "${ex.key}" is a ${existing.type} object and cannot be appended to.`);
  }
  const length = existing?.size ?? 0;
  if (position !== length) {
    throw new OssError(409, 'PositionNotEqualToLength', `Position is not equal to file length: the object has ${length} bytes, the request appends at ${position}.`);
  }
  const body = await ex.receive(store.options.storeBodies);
  checkContentMd5(ex, body);
  const object = store.append(ex.bucket, ex.key, body, existing ? undefined : attributesFrom(headers));
  ex.send(200, {
    ETag: object.etag,
    'x-oss-next-append-position': String(object.size),
    'x-oss-hash-crc64ecma': object.crc64.toString(),
    'Content-Length': 0,
  });
}

async function getObject(ex: Exchange): Promise<void> {
  const object = ex.state.store.getObject(ex.bucket, ex.key);
  const conditional = evaluateConditions((n) => ex.header(n), object, '');
  const headers = objectHeaders(object);
  ex.exposeExtra = Object.keys(object.meta).map((k) => `x-oss-meta-${k}`);
  if (conditional === 304) {
    ex.send(304, { ETag: headers.ETag, 'Last-Modified': headers['Last-Modified'] });
    return;
  }
  if (ex.req.method === 'HEAD') {
    ex.send(200, { ...headers, 'Content-Length': object.size });
    return;
  }
  for (const [param, header] of Object.entries(RESPONSE_OVERRIDES)) {
    const value = ex.route.query.get(param);
    if (value !== null) headers[headerCase(header)] = value;
  }
  if (object.segments === undefined) {
    throw new OssError(501, 'NotImplemented', `The body of "${object.key}" was not kept: this stand-in runs with storeBodies: false.`);
  }
  const standard = ex.header('x-oss-range-behavior')?.toLowerCase() === 'standard';
  const range = resolveRange(ex.header('range'), object.size, standard);
  if (range === 'unsatisfiable') {
    throw new OssError(416, 'InvalidRange', `The requested range cannot be satisfied: ${ex.header('range')} of a ${object.size}-byte object.`, {
      RangeRequested: ex.header('range') ?? '',
      ActualObjectSize: String(object.size),
    });
  }
  ex.beforeSuccess();
  const [start, end] = range === 'whole' ? [0, object.size] : [range.start, range.end + 1];
  const status = range === 'whole' ? 200 : 206;
  if (status === 206) headers['Content-Range'] = `bytes ${start}-${end - 1}/${object.size}`;
  ex.writeHead(status, { ...headers, 'Content-Length': end - start });
  const resetAfter = ex.effect?.reset && !ex.effect.afterApply ? ex.effect.reset.afterBytes : undefined;
  await writeSegments(ex, object.segments, start, end, resetAfter);
}

async function deleteObject(ex: Exchange): Promise<void> {
  // OSS answers 204 whether or not the key existed; only a missing bucket is an error.
  ex.state.store.deleteObject(ex.bucket, ex.key);
  ex.send(204, {});
}

async function copyObject(ex: Exchange): Promise<void> {
  await ex.drain();
  const { store } = ex.state;
  checkKey(ex.key);
  const { bucket: sourceBucket, key: sourceKey } = parseCopySource(ex.header('x-oss-copy-source') as string);
  const source = store.getObject(sourceBucket, sourceKey);
  store.bucket(ex.bucket);
  if (evaluateConditions((n) => ex.header(n), source, 'x-oss-copy-source-') === 304) {
    ex.send(304, { ETag: source.etag });
    return;
  }
  const directive = (ex.header('x-oss-metadata-directive') ?? 'COPY').toUpperCase();
  if (directive !== 'COPY' && directive !== 'REPLACE') {
    throw new OssError(400, 'InvalidArgument', `x-oss-metadata-directive must be COPY or REPLACE, got "${ex.header('x-oss-metadata-directive')}".`);
  }
  const attributes: ObjectAttributes =
    directive === 'REPLACE'
      ? attributesFrom(lowerHeaders(ex.req))
      : { contentType: source.contentType, meta: { ...source.meta }, headers: { ...source.headers } };
  checkCopyObjectCse(source, { bucket: ex.bucket, key: ex.key }, attributes);
  // OSS honours x-oss-forbid-overwrite on CopyObject as on PutObject.
  if (forbidsOverwrite(ex)) throw fileAlreadyExists();
  const copy = store.copyObject(source, ex.bucket, ex.key, attributes);
  ex.send(
    200,
    { ETag: copy.etag, 'x-oss-hash-crc64ecma': copy.crc64.toString() },
    doc('CopyObjectResult', el('ETag', copy.etag), el('LastModified', isoDate(copy.lastModified))),
  );
}

async function listObjects(ex: Exchange): Promise<void> {
  const q = ex.route.query;
  const v2 = q.get('list-type') === '2';
  const prefix = q.get('prefix') ?? '';
  const delimiter = q.get('delimiter') ?? '';
  const maxKeys = intParam(q, 'max-keys', 100, 0, 1000);
  const token = q.get('continuation-token');
  const startAfter = v2 ? (token !== null ? Buffer.from(token, 'base64url').toString('utf8') : (q.get('start-after') ?? '')) : (q.get('marker') ?? '');
  const urlEncode = q.get('encoding-type') === 'url';
  const enc = (s: string) => (urlEncode ? encodeURIComponent(s).replace(/%2F/g, '/') : s);
  const bucket = ex.state.store.bucket(ex.bucket);

  const contents: StoredObject[] = [];
  const prefixes: string[] = [];
  let last = '';
  let truncated = false;
  for (const key of ex.state.store.sortedKeys(ex.bucket)) {
    if (!key.startsWith(prefix) || (startAfter !== '' && compareKeys(key, startAfter) <= 0)) continue;
    let common: string | undefined;
    if (delimiter !== '') {
      const at = key.indexOf(delimiter, prefix.length);
      if (at >= 0) common = key.slice(0, at + delimiter.length);
    }
    if (common !== undefined && (prefixes[prefixes.length - 1] === common || (startAfter !== '' && compareKeys(common, startAfter) <= 0))) continue;
    if (contents.length + prefixes.length >= maxKeys) {
      truncated = true;
      break;
    }
    if (common !== undefined) {
      prefixes.push(common);
      last = common;
    } else {
      contents.push(bucket.get(key) as StoredObject);
      last = key;
    }
  }
  const fetchOwner = !v2 || q.get('fetch-owner') === 'true';
  const children = [
    el('Name', ex.bucket),
    el('Prefix', enc(prefix)),
    v2 ? el('StartAfter', q.get('start-after') ?? undefined) : el('Marker', enc(q.get('marker') ?? '')),
    v2 ? el('ContinuationToken', token ?? undefined) : '',
    el('MaxKeys', maxKeys),
    el('Delimiter', enc(delimiter)),
    urlEncode ? el('EncodingType', 'url') : '',
    el('IsTruncated', truncated),
    truncated ? (v2 ? el('NextContinuationToken', Buffer.from(last, 'utf8').toString('base64url')) : el('NextMarker', enc(last))) : '',
    v2 ? el('KeyCount', contents.length + prefixes.length) : '',
    ...contents.map(
      (o) =>
        `<Contents>${el('Key', enc(o.key))}${el('LastModified', isoDate(o.lastModified))}${el('ETag', o.etag)}${el('Type', o.type)}${el(
          'Size',
          o.size,
        )}${el('StorageClass', 'Standard')}${fetchOwner ? ownerXml() : ''}</Contents>`,
    ),
    ...prefixes.map((p) => `<CommonPrefixes>${el('Prefix', enc(p))}</CommonPrefixes>`),
  ];
  ex.send(200, {}, doc('ListBucketResult', ...children));
}

async function initiateUpload(ex: Exchange): Promise<void> {
  await ex.drain();
  checkKey(ex.key);
  const headers = lowerHeaders(ex.req);
  const cse = checkInitiateCse(headers);
  const upload = ex.state.store.initiate(ex.bucket, ex.key, attributesFrom(headers), cse);
  ex.send(200, {}, doc('InitiateMultipartUploadResult', el('Bucket', ex.bucket), el('Key', ex.key), el('UploadId', upload.uploadId)));
}

async function uploadPart(ex: Exchange): Promise<void> {
  const { store } = ex.state;
  const partNumber = checkPartNumber(ex);
  const upload = store.upload(ex.bucket, ex.key, ex.route.query.get('uploadId') as string);
  requireLength(ex);
  checkUploadPartCseHeaders(lowerHeaders(ex.req), upload.cse);
  const body = await ex.receive(store.options.storeBodies);
  checkContentMd5(ex, body);
  checkUploadPartCseSize(upload.cse, partNumber, body.size);
  const part = store.putPart(upload, partNumber, body);
  ex.send(200, {
    ETag: part.etag,
    'x-oss-hash-crc64ecma': part.crc64.toString(),
    'Content-MD5': part.md5.toString('base64'),
    'Content-Length': 0,
  });
}

async function uploadPartCopy(ex: Exchange): Promise<void> {
  await ex.drain();
  const { store } = ex.state;
  const partNumber = checkPartNumber(ex);
  const upload = store.upload(ex.bucket, ex.key, ex.route.query.get('uploadId') as string);
  const { bucket, key } = parseCopySource(ex.header('x-oss-copy-source') as string);
  const source = store.getObject(bucket, key);
  checkUploadPartCopyCse(source.meta);
  if (evaluateConditions((n) => ex.header(n), source, 'x-oss-copy-source-') === 304) {
    throw new OssError(412, 'PreconditionFailed', 'At least one of the pre-conditions you specified did not hold.', { Condition: 'x-oss-copy-source-if-none-match' });
  }
  if (source.segments === undefined) {
    throw new OssError(501, 'NotImplemented', `The body of "${source.key}" was not kept: this stand-in runs with storeBodies: false.`);
  }
  const rangeHeader = ex.header('x-oss-copy-source-range');
  const range = rangeHeader === undefined ? 'whole' : resolveRange(rangeHeader, source.size, true);
  if (range === 'unsatisfiable') {
    throw new OssError(416, 'InvalidRange', `The requested range cannot be satisfied: ${rangeHeader} of a ${source.size}-byte object.`);
  }
  const [start, end] = range === 'whole' ? [0, source.size] : [range.start, range.end + 1];
  const bytes = joinSegments(sliceSegments(source.segments, start, end)) ?? Buffer.alloc(0);
  const part = store.putPart(upload, partNumber, digestOf(bytes, store.options.storeBodies));
  ex.send(
    200,
    { ETag: part.etag, 'x-oss-hash-crc64ecma': part.crc64.toString() },
    doc('CopyPartResult', el('LastModified', isoDate(part.lastModified)), el('ETag', part.etag)),
  );
}

async function completeUpload(ex: Exchange): Promise<void> {
  const { store } = ex.state;
  const upload = store.upload(ex.bucket, ex.key, ex.route.query.get('uploadId') as string);
  const text = await ex.receiveText();
  const listed = parseCompleteBody(text);
  if (typeof listed === 'string') {
    throw new OssError(400, 'MalformedXML', `The XML you provided was not well-formed or did not validate against our published schema: ${listed}.`);
  }
  checkCompleteCse(lowerHeaders(ex.req), upload.cse, listed.length);
  // Checked at Complete (OSS error 0042-00000214): the upload stays, as after any failed Complete.
  if (forbidsOverwrite(ex)) throw fileAlreadyExists();
  const object = store.complete(upload, listed);
  ex.send(
    200,
    { ETag: object.etag, 'x-oss-hash-crc64ecma': object.crc64.toString() },
    doc(
      'CompleteMultipartUploadResult',
      el('Location', `http://${ex.hostId}/${encodeURIComponent(object.key).replace(/%2F/g, '/')}`),
      el('Bucket', object.bucket),
      el('Key', object.key),
      el('ETag', object.etag),
    ),
  );
}

async function abortUpload(ex: Exchange): Promise<void> {
  const { store } = ex.state;
  const upload = store.upload(ex.bucket, ex.key, ex.route.query.get('uploadId') as string);
  store.abort(upload);
  ex.send(204, {});
}

async function listParts(ex: Exchange): Promise<void> {
  const { store } = ex.state;
  const q = ex.route.query;
  const upload = store.upload(ex.bucket, ex.key, q.get('uploadId') as string);
  const maxParts = intParam(q, 'max-parts', 1000, 1, 1000);
  const marker = intParam(q, 'part-number-marker', 0, 0, MAX_PART_NUMBER);
  const all = [...upload.parts.values()].filter((p) => p.partNumber > marker).sort((a, b) => a.partNumber - b.partNumber);
  const shown = all.slice(0, maxParts);
  const truncated = all.length > shown.length;
  const cse = CSE_LISTPARTS_FIELDS.map(([meta, xml]) => el(xml, upload.meta[meta]));
  ex.send(
    200,
    {},
    doc(
      'ListPartsResult',
      el('Bucket', upload.bucket),
      el('Key', upload.key),
      el('UploadId', upload.uploadId),
      ...cse,
      el('PartNumberMarker', marker),
      el('NextPartNumberMarker', shown.length ? shown[shown.length - 1].partNumber : marker),
      el('MaxParts', maxParts),
      el('IsTruncated', truncated),
      ...shown.map(
        (p) =>
          `<Part>${el('PartNumber', p.partNumber)}${el('LastModified', isoDate(p.lastModified))}${el('ETag', p.etag)}${el(
            'HashCrc64ecma',
            p.crc64.toString(),
          )}${el('Size', p.size)}</Part>`,
      ),
    ),
  );
}

async function listUploads(ex: Exchange): Promise<void> {
  const { store } = ex.state;
  store.bucket(ex.bucket);
  const q = ex.route.query;
  const prefix = q.get('prefix') ?? '';
  const keyMarker = q.get('key-marker') ?? '';
  const idMarker = q.get('upload-id-marker') ?? '';
  const maxUploads = intParam(q, 'max-uploads', 1000, 1, 1000);
  const all = [...store.uploads.values()]
    .filter((u) => u.bucket === ex.bucket && u.key.startsWith(prefix))
    .filter((u) => keyMarker === '' || compareKeys(u.key, keyMarker) > 0 || (u.key === keyMarker && idMarker !== '' && u.uploadId > idMarker))
    .sort((a, b) => compareKeys(a.key, b.key) || (a.uploadId < b.uploadId ? -1 : 1));
  const shown = all.slice(0, maxUploads);
  const truncated = all.length > shown.length;
  const lastShown = shown[shown.length - 1];
  ex.send(
    200,
    {},
    doc(
      'ListMultipartUploadsResult',
      el('Bucket', ex.bucket),
      el('KeyMarker', keyMarker),
      el('UploadIdMarker', idMarker),
      el('NextKeyMarker', truncated ? lastShown.key : ''),
      el('NextUploadIdMarker', truncated ? lastShown.uploadId : ''),
      el('Delimiter', q.get('delimiter') ?? ''),
      el('Prefix', prefix),
      el('MaxUploads', maxUploads),
      el('IsTruncated', truncated),
      ...shown.map((u) => `<Upload>${el('Key', u.key)}${el('UploadId', u.uploadId)}${el('Initiated', isoDate(u.initiated))}</Upload>`),
    ),
  );
}

// ---------------------------------------------------------------------------------------------------------
// helpers

/** The headers GET/HEAD answer with for an object (Content-Length aside). */
export function objectHeaders(object: StoredObject): Record<string, string> {
  const headers: Record<string, string> = {
    'Content-Type': object.contentType,
    ETag: object.etag,
    'Last-Modified': object.lastModified.toUTCString(),
    'Accept-Ranges': 'bytes',
    'x-oss-object-type': object.type,
    'x-oss-storage-class': 'Standard',
    'x-oss-hash-crc64ecma': object.crc64.toString(),
  };
  for (const [name, value] of Object.entries(object.headers)) headers[headerCase(name)] = value;
  for (const [name, value] of Object.entries(object.meta)) headers[`x-oss-meta-${name}`] = value;
  return headers;
}

/** Content-Type, user metadata (lower-cased names) and the standard headers OSS keeps, from request headers. */
export function attributesFrom(lower: Record<string, string>): ObjectAttributes {
  const meta: Record<string, string> = {};
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(lower)) {
    if (name.startsWith('x-oss-meta-')) meta[name.slice('x-oss-meta-'.length)] = value;
    else if (STORED_HEADERS.includes(name)) headers[name] = value;
  }
  return { contentType: lower['content-type'] || 'application/octet-stream', meta, headers };
}

function lowerHeaders(req: IncomingMessage): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(req.headers)) if (v !== undefined) out[k.toLowerCase()] = Array.isArray(v) ? v.join(', ') : v;
  return out;
}

function headerCase(name: string): string {
  return name.replace(/(^|-)([a-z])/g, (_, dash: string, c: string) => dash + c.toUpperCase());
}

/**
 * OSS has no conditional PutObject: If-Match, If-None-Match, If-Modified-Since and If-Unmodified-Since on a PUT are
 * 400 NotImplemented (OSS error 0017-00000245), so no client can count on a compare-and-swap write.
 */
async function refuseWriteConditions(ex: Exchange): Promise<void> {
  for (const header of ['If-Match', 'If-None-Match', 'If-Modified-Since', 'If-Unmodified-Since']) {
    if (ex.header(header.toLowerCase()) !== undefined) {
      await ex.drain();
      throw new OssError(400, 'NotImplemented', 'A header you provided implies functionality that is not implemented.', { Header: header, EC: '0017-00000245' });
    }
  }
}

/** OSS needs a length for uploads: Content-Length or chunked transfer encoding. */
function requireLength(ex: Exchange): void {
  if (ex.header('content-length') === undefined && ex.header('transfer-encoding') === undefined) {
    throw new OssError(411, 'MissingContentLength', 'You must provide the Content-Length HTTP header (or send the body chunked).');
  }
}

/** `x-oss-forbid-overwrite: true` on PutObject, CopyObject or CompleteMultipartUpload, and the key exists. */
function forbidsOverwrite(ex: Exchange): boolean {
  return ex.header('x-oss-forbid-overwrite')?.toLowerCase() === 'true' && ex.state.store.buckets.get(ex.bucket)?.has(ex.key) === true;
}

function fileAlreadyExists(): OssError {
  return new OssError(409, 'FileAlreadyExists', 'The object you specified already exists and can not be overwritten (x-oss-forbid-overwrite: true).');
}

function checkKey(key: string): void {
  const bytes = Buffer.byteLength(key, 'utf8');
  if (bytes > 1023) throw new OssError(400, 'InvalidObjectName', `The object name is ${bytes} bytes of UTF-8; OSS allows at most 1023.`);
}

function checkContentMd5(ex: Exchange, body: BodyDigest): void {
  const sent = ex.header('content-md5');
  if (sent !== undefined && sent !== body.md5.toString('base64')) {
    throw new OssError(400, 'InvalidDigest', `The Content-MD5 you specified (${sent}) does not match the MD5 of the ${body.size} bytes received (${body.md5.toString('base64')}).`);
  }
}

function checkPartNumber(ex: Exchange): number {
  const raw = ex.route.query.get('partNumber') ?? '';
  const n = /^[0-9]+$/.test(raw) ? Number(raw) : NaN;
  if (!(n >= 1 && n <= MAX_PART_NUMBER)) {
    throw new OssError(400, 'InvalidArgument', `Part number must be an integer between 1 and ${MAX_PART_NUMBER}, got "${raw}".`, {
      ArgumentName: 'partNumber',
      ArgumentValue: raw,
    });
  }
  return n;
}

function parseCopySource(header: string): { bucket: string; key: string } {
  const withoutVersion = header.replace(/\?versionId=.*$/, '');
  const m = /^\/?([^/]+)\/(.+)$/.exec(withoutVersion);
  if (!m) throw new OssError(400, 'InvalidArgument', `x-oss-copy-source must be /<bucket>/<key>, got "${header}".`);
  return { bucket: decodePath(m[1]), key: decodePath(m[2]) };
}

function intParam(q: URLSearchParams, name: string, fallback: number, min: number, max: number): number {
  const raw = q.get(name);
  if (raw === null || raw === '') return fallback;
  const n = /^[0-9]+$/.test(raw) ? Number(raw) : NaN;
  if (!(n >= min && n <= max)) {
    throw new OssError(400, 'InvalidArgument', `${name} must be an integer between ${min} and ${max}, got "${raw}".`, { ArgumentName: name, ArgumentValue: raw });
  }
  return n;
}
