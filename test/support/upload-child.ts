/**
 * Child-process side of the multipart tests: another process (a separate Node, its own ali-oss client, its own
 * key material) that uploads parts of an encrypted multipart upload, or runs a whole `multipartUpload` until the
 * parent kills it. The parent runs the OSS and KMS stand-ins; children reach them over loopback.
 *
 * Run: `node --import tsx test/support/upload-child.ts <job.json>`; the job is a {@link ChildJob}. The child
 * writes one JSON object per line on stdout: `{"event":"part","number":N,...}` per uploaded part and
 * `{"event":"done",...}` at the end (`{"event":"error","name","code","message"}` on failure, exit code 1).
 *
 * Also exports {@link materialFromSpec} / {@link cryptoClientFromSpec}, so parent and children build key
 * material and clients the same way. Key material travels as a path to a PEM file (the interop fixture keys) or
 * as KMS connection details; no content key ever leaves a process.
 * @module
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createDecipheriv } from 'node:crypto';
import { open, readFile } from 'node:fs/promises';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import OSS from 'ali-oss';
import { nativeBackend } from '../../bindings/cipher/native.js';
import { wasmBackend } from '../../bindings/cipher/wasm.js';
import { CryptoClient } from '../../bindings/client/crypto-client.js';
import type { KeyWrapper } from '../../bindings/keys/types.js';
import { KeyRing } from '../../bindings/keys/keyring.js';
import { decodeEnvelope } from '../../bindings/envelope/codec.js';
import { kmsKeyWrapper } from '../../bindings/keys/kms.js';
import { rsaKeyWrapper } from '../../bindings/keys/rsa.js';
import { parseMultipartCryptoContext, planOf } from '../../bindings/upload/checkpoint.js';

/** How to build a key wrapper, in JSON. */
export type MaterialSpec =
  | { kind: 'rsa'; privateKeyPath: string; padding: 'pkcs1' | 'oaep' }
  | {
      kind: 'kms';
      endpoint: string;
      accessKeyId: string;
      accessKeySecret: string;
      keyId: string;
      blobLayout: 'go' | 'oss2';
      passphrase?: string;
    };

/** What a child does. */
export type ChildJob = {
  /** ali-oss options (the stand-in's `clientOptions(bucket)`). */
  oss: Record<string, unknown>;
  material: MaterialSpec;
  backend: 'wasm' | 'native';
  retry?: { retries: number; baseDelayMs: number; maxDelayMs: number };
} & (
  | {
      /** Upload the given parts of a low-level upload whose crypto context JSON is at `contextPath`. */
      mode: 'parts';
      contextPath: string;
      /** The whole plaintext; each part is read at its planned offset. */
      dataPath: string;
      parts: number[];
    }
  | {
      /** `multipartUpload(name, file, { checkpoint, partSize, parallel })`. */
      mode: 'upload';
      name: string;
      file: string;
      checkpoint: string;
      partSize: number;
      parallel: number;
    }
);

/**
 * The key wrapper a spec describes.
 * @example
 *   const w = await materialFromSpec({ kind: 'rsa', privateKeyPath: pem, padding: 'oaep' });
 */
export async function materialFromSpec(spec: MaterialSpec): Promise<KeyWrapper> {
  if (spec.kind === 'rsa') {
    return rsaKeyWrapper({ privateKey: await readFile(spec.privateKeyPath, 'utf8'), padding: spec.padding });
  }
  return kmsKeyWrapper({
    keyId: spec.keyId,
    endpoint: spec.endpoint,
    protocol: 'http',
    region: 'cn-hangzhou',
    accessKeyId: spec.accessKeyId,
    accessKeySecret: spec.accessKeySecret,
    blobLayout: spec.blobLayout,
    ...(spec.passphrase === undefined ? {} : { passphrase: spec.passphrase }),
  });
}

/**
 * A CryptoClient over a new ali-oss client, as a job describes it.
 * @example
 *   const client = await cryptoClientFromSpec(job.oss, job.material, 'native');
 */
export async function cryptoClientFromSpec(
  oss: Record<string, unknown>,
  material: MaterialSpec,
  backend: 'wasm' | 'native',
  retry = { retries: 3, baseDelayMs: 1, maxDelayMs: 5 },
): Promise<CryptoClient> {
  return new CryptoClient(new OSS(oss as any) as any, {
    material: await materialFromSpec(material),
    retry,
    // Each engine named: the client's own default is node:crypto in Node on x64/arm64 (transfer/default-backend.ts).
    backend: backend === 'native' ? nativeBackend : wasmBackend(),
  });
}

/** The 2048-bit RSA private key of the interop fixtures (oss2 RsaProvider test key), PKCS#1 PEM. */
export const RSA_KEY_PATH = fileURLToPath(new URL('../fixtures/interop/keys/rsaprovider-main-rsa2048.private.pem', import.meta.url));

/** The four kinds of material every multipart feature is proven with: RSA both paddings, KMS both layerings. */
export function standardMaterialSpecs(kms: {
  endpoint: string;
  credentials: { accessKeyId: string; accessKeySecret: string };
  keyId: string;
}): Array<{ name: string; wrapAlg: string; spec: MaterialSpec }> {
  const k = { kind: 'kms' as const, endpoint: kms.endpoint, ...kms.credentials, keyId: kms.keyId };
  return [
    { name: 'rsa-pkcs1', wrapAlg: 'RSA/NONE/PKCS1Padding', spec: { kind: 'rsa', privateKeyPath: RSA_KEY_PATH, padding: 'pkcs1' } },
    { name: 'rsa-oaep', wrapAlg: 'RSA/NONE/OAEPWithSHA-1AndMGF1Padding', spec: { kind: 'rsa', privateKeyPath: RSA_KEY_PATH, padding: 'oaep' } },
    { name: 'kms-go', wrapAlg: 'KMS/ALICLOUD', spec: { ...k, blobLayout: 'go' } },
    { name: 'kms-oss2', wrapAlg: 'KMS/ALICLOUD', spec: { ...k, blobLayout: 'oss2', passphrase: 'multipart pass' } },
  ];
}

/**
 * Decrypts stored bytes without the client: the codec reads the envelope, a KeyRing over the spec's material
 * unwraps, node:crypto's AES-256-CTR decrypts (an engine independent of ours).
 * @example
 *   const plain = await decryptStored(stored.body!, stored.headers, spec);
 */
export async function decryptStored(body: Uint8Array, headers: Record<string, string>, spec: MaterialSpec): Promise<Buffer> {
  const envelope = decodeEnvelope(headers);
  if (envelope === null) throw new Error('the stored object has no encryption metadata');
  const content = await new KeyRing({ default: await materialFromSpec(spec) }).unwrap(envelope.wrapped);
  const d = createDecipheriv('aes-256-ctr', content.key, content.iv);
  return Buffer.concat([d.update(body), d.final()]);
}

/** Path of this file, to spawn it. */
export const UPLOAD_CHILD_PATH = fileURLToPath(import.meta.url);

/** A running child: its process and the JSON events it printed so far. */
export interface ChildHandle {
  readonly process: ChildProcess;
  readonly events: Array<Record<string, any>>;
  /** Resolves on the first event `accept` returns true for (rejects if the child exits first). */
  waitFor(accept: (e: Record<string, any>) => boolean): Promise<Record<string, any>>;
  /** Resolves with the exit code (or the signal name) and stderr. */
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null; stderr: string }>;
}

/**
 * Starts a child for `jobPath` (a JSON {@link ChildJob}).
 * @example
 *   const child = startChild(jobPath);
 *   await child.waitFor((e) => e.event === 'done');
 */
export function startChild(jobPath: string): ChildHandle {
  const proc = spawn(process.execPath, ['--import', 'tsx', UPLOAD_CHILD_PATH, jobPath], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const events: Array<Record<string, any>> = [];
  const waiters: Array<{ accept: (e: Record<string, any>) => boolean; resolve: (e: Record<string, any>) => void; reject: (e: Error) => void }> = [];
  let stderr = '';
  proc.stderr!.on('data', (d) => (stderr += d));
  createInterface({ input: proc.stdout! }).on('line', (line) => {
    let e: Record<string, any>;
    try {
      e = JSON.parse(line);
    } catch {
      return;
    }
    events.push(e);
    for (const w of waiters.splice(0)) {
      if (w.accept(e)) w.resolve(e);
      else waiters.push(w);
    }
  });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null; stderr: string }>((resolve) => {
    proc.on('exit', (code, signal) => {
      // Let the last stdout lines be parsed first.
      setImmediate(() => {
        for (const w of waiters.splice(0)) w.reject(new Error(`child exited (${code ?? signal}) before the awaited event; stderr: ${stderr}`));
        resolve({ code, signal, stderr });
      });
    });
  });
  return {
    process: proc,
    events,
    exited,
    waitFor(accept) {
      const seen = events.find(accept);
      if (seen !== undefined) return Promise.resolve(seen);
      return new Promise((resolve, reject) => waiters.push({ accept, resolve, reject }));
    },
  };
}

async function main(jobPath: string): Promise<void> {
  const job = JSON.parse(await readFile(jobPath, 'utf8')) as ChildJob;
  const client = await cryptoClientFromSpec(job.oss, job.material, job.backend, job.retry);
  const print = (e: Record<string, unknown>) => process.stdout.write(JSON.stringify(e) + '\n');
  if (job.mode === 'parts') {
    const context = parseMultipartCryptoContext(await readFile(job.contextPath, 'utf8'));
    const plan = planOf(context);
    const file = await open(job.dataPath, 'r');
    try {
      const results = await Promise.all(
        job.parts.map(async (n) => {
          const { start, length } = plan.parts[n - 1];
          const data = Buffer.alloc(length);
          await file.read(data, 0, length, start);
          const r = await client.uploadPart(context.name, context.uploadId, n, data, context);
          print({ event: 'part', ...r.part });
          return r.part;
        }),
      );
      print({ event: 'done', parts: results });
    } finally {
      await file.close();
    }
    return;
  }
  const result = await client.multipartUpload(job.name, job.file, {
    checkpoint: job.checkpoint,
    partSize: job.partSize,
    parallel: job.parallel,
    progress: (p, cp) => {
      if (cp !== null) print({ event: 'part', p, done: cp.doneParts.map((d) => d.number) });
    },
  });
  print({ event: 'done', etag: result.etag });
}

if (process.argv[1] !== undefined && fileURLToPath(import.meta.url) === process.argv[1]) {
  main(process.argv[2]).catch((err) => {
    process.stdout.write(JSON.stringify({ event: 'error', name: err?.name, code: err?.code, message: String(err?.message) }) + '\n');
    process.exitCode = 1;
  });
}
