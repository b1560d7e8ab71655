/**
 * The multipart OSS calls of the fetch transport: InitiateMultipartUpload, UploadPart, CompleteMultipartUpload
 * (the part list in XML), AbortMultipartUpload and ListParts (with the client-side-encryption fields OSS keeps
 * for the upload). Headers given to Initiate and UploadPart (the CSE headers, `x-oss-forbid-overwrite`...) are
 * sent as they are.
 * @module
 */
import type { OssBody, OssHttp } from './http.js';
import type { CallOptions } from './objects.js';
import { objectResultOf, resultOf, type ObjectResult, type OssResult } from './results.js';
import { child, childrenNamed, childText, escapeXml, parseXml } from './xml.js';

/** A part as Complete takes it and ListParts reports it. */
export interface PartInfo {
  readonly partNumber: number;
  /** As OSS sent it on UploadPart (quoted). */
  readonly etag: string;
}

/** A listed part. */
export interface ListedPart extends PartInfo {
  readonly size: number;
  readonly lastModified: string;
}

/** A page of ListParts. */
export interface ListPartsResult extends OssResult {
  readonly parts: ListedPart[];
  readonly isTruncated: boolean;
  readonly nextPartNumberMarker: number | undefined;
  /** The ListPartsResult's other top-level fields (e.g. the `ClientEncryption*` ones), by element name. */
  readonly fields: Readonly<Record<string, string>>;
}

/** InitiateMultipartUpload: the upload id. */
export async function initiateMultipartUpload(http: OssHttp, key: string, options: CallOptions = {}): Promise<OssResult & { uploadId: string }> {
  const res = await http.send({ method: 'POST', key, query: [['uploads', '']], headers: options.headers, read: 'text', signal: options.signal });
  const uploadId = childText(parseXml(res.text as string), 'UploadId');
  if (uploadId === undefined || uploadId === '') throw new TypeError(`InitiateMultipartUpload of ${JSON.stringify(key)}: the answer has no UploadId`);
  return { ...resultOf(res), uploadId };
}

/** UploadPart: the part's ETag and CRC-64. */
export async function uploadPart(http: OssHttp, key: string, uploadId: string, partNumber: number, body: OssBody, options: CallOptions = {}): Promise<ObjectResult> {
  if (!Number.isInteger(partNumber) || partNumber < 1 || partNumber > 10000) throw new RangeError(`"partNumber" expected an integer 1..10000, got ${String(partNumber)}`);
  const query: Array<[string, string]> = [['partNumber', String(partNumber)], ['uploadId', uploadId]];
  return objectResultOf(await http.send({ method: 'PUT', key, query, headers: options.headers, body, read: 'none', signal: options.signal }));
}

/** CompleteMultipartUpload with the parts in ascending order. */
export async function completeMultipartUpload(http: OssHttp, key: string, uploadId: string, parts: readonly PartInfo[], options: CallOptions = {}): Promise<ObjectResult & { location: string | undefined }> {
  const sorted = [...parts].sort((a, b) => a.partNumber - b.partNumber);
  const xml =
    '<?xml version="1.0" encoding="UTF-8"?>\n<CompleteMultipartUpload>' +
    sorted.map((p) => `<Part><PartNumber>${p.partNumber}</PartNumber><ETag>${escapeXml(p.etag)}</ETag></Part>`).join('') +
    '</CompleteMultipartUpload>';
  const headers = { 'content-type': 'application/xml', ...(options.headers ?? {}) };
  const res = await http.send({ method: 'POST', key, query: [['uploadId', uploadId]], headers, body: xml, read: 'text', signal: options.signal });
  const root = res.text ? parseXml(res.text) : undefined;
  return { ...objectResultOf(res), etag: (root && childText(root, 'ETag')) ?? res.headers.etag, location: root && childText(root, 'Location') };
}

/** AbortMultipartUpload. */
export async function abortMultipartUpload(http: OssHttp, key: string, uploadId: string, options: CallOptions = {}): Promise<OssResult> {
  return resultOf(await http.send({ method: 'DELETE', key, query: [['uploadId', uploadId]], headers: options.headers, read: 'none', signal: options.signal }));
}

/** One page of ListParts. */
export async function listParts(http: OssHttp, key: string, uploadId: string, page: { partNumberMarker?: number; maxParts?: number } = {}, options: CallOptions = {}): Promise<ListPartsResult> {
  const query: Array<[string, string]> = [['uploadId', uploadId]];
  if (page.maxParts !== undefined) query.push(['max-parts', String(page.maxParts)]);
  if (page.partNumberMarker !== undefined) query.push(['part-number-marker', String(page.partNumberMarker)]);
  const res = await http.send({ method: 'GET', key, query, headers: options.headers, read: 'text', signal: options.signal });
  const root = parseXml(res.text as string);
  const parts = childrenNamed(root, 'Part').map((p) => ({
    partNumber: Number(childText(p, 'PartNumber')),
    etag: childText(p, 'ETag') ?? '',
    size: Number(childText(p, 'Size') ?? 0),
    lastModified: childText(p, 'LastModified') ?? '',
  }));
  const fields: Record<string, string> = {};
  for (const c of root.children) if (c.name !== 'Part' && c.children.length === 0) fields[c.name] = c.text;
  const next = child(root, 'NextPartNumberMarker')?.text;
  return { ...resultOf(res), parts, isTruncated: childText(root, 'IsTruncated') === 'true', nextPartNumberMarker: next ? Number(next) : undefined, fields };
}
