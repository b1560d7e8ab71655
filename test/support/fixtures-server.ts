/**
 * Helpers for the client tests: the interop fixtures (test/fixtures/interop) loaded into the OSS stand-in
 * exactly as the official SDKs stored them, and a loopback proxy that rewrites the stand-in's answers (a wrong
 * CRC header, a Content-Range that does not match, a body byte flipped) to prove what the client does when a
 * server or network misbehaves in ways the stand-in's own fault injection does not cover.
 *
 * Deliberately not here: assertions; the tests decide what to expect.
 * @module
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createServer, request, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { fixturePath } from '../_util.js';
import type { OssServer } from './oss-server.js';

/** One vector of test/fixtures/interop/manifest.json (the fields the client tests use). */
export interface InteropVector {
  name: string;
  format: 'v1' | 'v2';
  wrap_alg: string;
  headers: Record<string, string>;
  ciphertext_file: string;
  ciphertext_sha256: string;
  plaintext_file?: string;
  plaintext?: { kind: 'repeat'; byte: number; length: number };
  plaintext_sha256: string;
  plaintext_length: number;
  keys: { rsa_private_pem_file?: string; rsa_public_pem_file?: string; kms_key_id?: string; kms_passphrase?: string | null };
  multipart?: { part_size: number; data_size: number; parts: number; part_lengths: number[] };
  oss_object: { etag?: string; 'x-oss-object-type'?: string; 'x-oss-hash-crc64ecma'?: string };
}

/** One case of test/fixtures/interop/ranges.json. */
export interface InteropRange {
  vector: string;
  range: string;
  start: number;
  end: number;
  expected_length: number;
  expected_sha256: string;
  content_range: string;
}

/** Absolute path of a file under test/fixtures/interop/. */
export const interopPath = (...parts: string[]): string => fixturePath('interop', ...parts);

/** The manifest's vectors. */
export function interopVectors(): InteropVector[] {
  return (JSON.parse(readFileSync(interopPath('manifest.json'), 'utf8')) as { vectors: InteropVector[] }).vectors;
}

/** The ranged-read cases. */
export function interopRanges(): InteropRange[] {
  return (JSON.parse(readFileSync(interopPath('ranges.json'), 'utf8')) as { cases: InteropRange[] }).cases;
}

/** The stored bytes of a vector, checked against the manifest's SHA-256. */
export function ciphertextOf(v: InteropVector): Buffer {
  const bytes = readFileSync(interopPath(v.ciphertext_file));
  if (sha256(bytes) !== v.ciphertext_sha256) throw new Error(`fixture ${v.ciphertext_file} does not match its sha256`);
  return bytes;
}

/** The expected plaintext of a vector. */
export function plaintextOf(v: InteropVector): Buffer {
  if (v.plaintext_file !== undefined) return readFileSync(interopPath(v.plaintext_file));
  return Buffer.alloc(v.plaintext!.length, v.plaintext!.byte);
}

/** A PEM file of the fixture set, by the path the manifest gives. */
export function fixtureKey(relative: string): string {
  return readFileSync(interopPath(relative), 'utf8');
}

/**
 * Stores a vector in the stand-in as the SDK stored it: its bytes under key `key` (default: its name) with every
 * `x-oss-meta-*` header as returned by OSS.
 */
export function putVector(oss: OssServer, bucket: string, v: InteropVector, key = v.name): void {
  oss.putObjectRaw(bucket, key, ciphertextOf(v), v.headers);
}

/** Lower-case hex SHA-256. */
export function sha256(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

/** What a rewrite hook sees of the request. */
export interface ProxiedRequest {
  method: string;
  url: string;
  headers: IncomingHttpHeaders;
}

/** What a rewrite hook may change in the answer: status, headers (lower-case names) and the body bytes. */
export interface ProxiedResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: Buffer;
}

/** A running rewriting proxy. */
export interface RewritingProxy {
  /** `http://127.0.0.1:PORT`: give it to ali-oss as `endpoint` instead of the stand-in's. */
  readonly endpoint: string;
  /** The hook; replace it between tests. Returning nothing forwards the answer unchanged. */
  rewrite: (req: ProxiedRequest, res: ProxiedResponse) => ProxiedResponse | void;
  close(): Promise<void>;
}

/**
 * Starts a loopback proxy in front of `target` (the stand-in's endpoint). Each answer is read whole, passed to
 * `rewrite`, and sent with a Content-Length matching the (possibly changed) body unless the hook set one.
 * @example
 *   const proxy = await startRewritingProxy(oss.endpoint);
 *   proxy.rewrite = (req, res) => { if (req.method === 'GET') res.headers['x-oss-hash-crc64ecma'] = '1'; return res; };
 *   const client = new OSS({ ...oss.clientOptions('bkt'), endpoint: proxy.endpoint });
 */
export async function startRewritingProxy(target: string): Promise<RewritingProxy> {
  const to = new URL(target);
  const sockets = new Set<Socket>();
  const proxy: RewritingProxy = {
    endpoint: '',
    rewrite: () => undefined,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      const headers = { ...req.headers };
      delete headers['transfer-encoding'];
      if (body.length > 0 || req.headers['content-length'] !== undefined) headers['content-length'] = String(body.length);
      const up = request(
        { host: to.hostname, port: to.port, method: req.method, path: req.url, headers },
        (upRes) => {
          const out: Buffer[] = [];
          upRes.on('data', (c: Buffer) => out.push(c));
          upRes.on('end', () => {
            let answer: ProxiedResponse = { status: upRes.statusCode ?? 502, headers: { ...upRes.headers }, body: Buffer.concat(out) };
            answer = proxy.rewrite({ method: req.method ?? 'GET', url: req.url ?? '/', headers: req.headers }, answer) ?? answer;
            const h = { ...answer.headers };
            delete h['transfer-encoding'];
            delete h.connection;
            if (req.method !== 'HEAD' && h['content-length'] === undefined) h['content-length'] = String(answer.body.length);
            res.writeHead(answer.status, h as Record<string, string | string[]>);
            res.end(req.method === 'HEAD' ? undefined : answer.body);
          });
          upRes.on('error', () => res.destroy());
        },
      );
      up.on('error', () => res.destroy());
      up.end(body);
    });
  });
  server.on('connection', (s: Socket) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  (proxy as { endpoint: string }).endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return proxy;
}
