/**
 * Helpers for the client tests: the interop fixtures (test/fixtures/interop) loaded into the OSS stand-in
 * exactly as the official SDKs stored them, and a loopback proxy that rewrites the stand-in's answers (a wrong
 * CRC header, a Content-Range that does not match, a body byte flipped) to prove what the client does when a
 * server or network misbehaves in ways the stand-in's own fault injection does not cover.
 *
 * Deliberately not here: assertions; the tests decide what to expect.
 * @module
 */
import { createServer, request, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import type { OssServer } from './oss-server.js';
import { ciphertextOf, type InteropVector } from './interop.js';

export * from './interop.js';

/**
 * Stores a vector in the stand-in as the SDK stored it: its bytes under key `key` (default: its name) with every
 * `x-oss-meta-*` header as returned by OSS.
 */
export function putVector(oss: OssServer, bucket: string, v: InteropVector, key = v.name): void {
  oss.putObjectRaw(bucket, key, ciphertextOf(v), v.headers);
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
