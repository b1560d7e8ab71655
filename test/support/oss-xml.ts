/**
 * XML bodies of the OSS stand-in (test/support/oss-server.ts): the documents OSS answers with, shaped as
 * ali-oss parses them (xml2js, `explicitArray: false`, root dropped), and the one document OSS receives
 * (CompleteMultipartUpload). docs/FORMAT.md §5 (ListParts CSE fields) and §8.
 *
 * Builders take plain data and escape every text node; they never decide anything about OSS semantics.
 * Deliberately not here: a general XML parser. The only request body we read is CompleteMultipartUpload,
 * whose grammar is small and fixed.
 * @module
 */

/** One element `<name>text</name>`, or nothing when `value` is undefined. */
export function el(name: string, value: string | number | bigint | boolean | undefined): string {
  if (value === undefined) return '';
  return `<${name}>${escapeXml(String(value))}</${name}>`;
}

/** A document with the XML declaration OSS writes and one root element around pre-built children. */
export function doc(root: string, ...children: string[]): string {
  return `<?xml version="1.0" encoding="UTF-8"?>\n<${root}>${children.join('')}</${root}>`;
}

/** Escapes the five XML special characters (and nothing else: keys are UTF-8 text). */
export function escapeXml(text: string): string {
  return text.replace(/[<>&"']/g, (c) => ENTITIES[c]);
}

const ENTITIES: Record<string, string> = { '<': '&lt;', '>': '&gt;', '&': '&amp;', '"': '&quot;', "'": '&apos;' };

/** OSS's error document: Code, Message, RequestId, HostId, then any extra fields (e.g. Key, Condition). */
export function errorXml(code: string, message: string, requestId: string, hostId: string, extra: Record<string, string> = {}): string {
  return doc(
    'Error',
    el('Code', code),
    el('Message', message),
    el('RequestId', requestId),
    el('HostId', hostId),
    ...Object.entries(extra).map(([k, v]) => el(k, v)),
  );
}

/** ISO-8601 with milliseconds, the form of LastModified / Initiated inside OSS XML. */
export function isoDate(date: Date): string {
  return date.toISOString();
}

/** The owner OSS reports on listed objects (ali-oss's `list()` dereferences it unconditionally). */
export function ownerXml(): string {
  return `<Owner>${el('ID', '1000000000000000')}${el('DisplayName', '1000000000000000')}</Owner>`;
}

/** One part of a parsed CompleteMultipartUpload body. */
export interface CompletePartRef {
  partNumber: number;
  etag: string;
}

/**
 * Parses a CompleteMultipartUpload body into its part list, in document order.
 * @returns the parts, or a string describing why the body is malformed (the caller turns it into MalformedXML)
 */
export function parseCompleteBody(xml: string): CompletePartRef[] | string {
  const root = /<CompleteMultipartUpload(?:\s[^>]*)?>([\s\S]*)<\/CompleteMultipartUpload>/.exec(xml);
  if (!root) return 'the body has no <CompleteMultipartUpload> element';
  const parts: CompletePartRef[] = [];
  const partPattern = /<Part>([\s\S]*?)<\/Part>/g;
  for (const match of root[1].matchAll(partPattern)) {
    const number = /<PartNumber>\s*([^<]*?)\s*<\/PartNumber>/.exec(match[1]);
    const etag = /<ETag>([^<]*)<\/ETag>/.exec(match[1]);
    if (!number || !etag) return `part #${parts.length + 1} lacks a PartNumber or an ETag`;
    if (!/^[0-9]+$/.test(number[1])) return `PartNumber "${number[1]}" is not a positive integer`;
    parts.push({ partNumber: Number(number[1]), etag: unescapeXml(etag[1].trim()) });
  }
  return parts;
}

function unescapeXml(text: string): string {
  return text.replace(/&(lt|gt|amp|quot|apos|#[0-9]+|#x[0-9a-fA-F]+);/g, (_, e: string) => {
    if (e[0] === '#') return String.fromCodePoint(e[1] === 'x' ? parseInt(e.slice(2), 16) : parseInt(e.slice(1), 10));
    return { lt: '<', gt: '>', amp: '&', quot: '"', apos: "'" }[e] as string;
  });
}
