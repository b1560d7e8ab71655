/**
 * The browser side of test/browser.test.ts: what a web app using ali-oss-crypto/core with ali-oss's browser build
 * does. Bytes cross `page.evaluate` as base64 text; results come back the same way. Key material never leaves
 * this page except as wrapped keys in object metadata.
 *
 * - `encryptAndUpload`: a KeyRing over an RSA **public** key makes the content key, the WebAssembly core
 *   encrypts (streamed in uneven slices through `aesCtr`), `encodeEnvelope` makes the headers, and ali-oss's
 *   browser client PUTs the ciphertext cross-origin to the OSS stand-in (docs/FORMAT.md §1, §2).
 * - `downloadRangesAndDecrypt`: ali-oss's browser client GETs byte ranges of an object, the page reads the
 *   envelope from the (CORS-exposed) response headers, unwraps with the RSA private key on the WebAssembly RSA
 *   engine (`wasmRsaEngine`, the constant-time private operation) and decrypts each range at its offset
 *   (docs/FORMAT.md §4).
 * @module
 */
import * as L from '/ali-oss-crypto.js';

const status = document.getElementById('status');

try {
  // Synchronous compilation of a module this size is refused on the main thread: instantiate ahead of use.
  await L.initWasm();
  await L.initWasmRsa();
  window.pageApi = { encryptAndUpload, downloadRangesAndDecrypt, backendName: () => L.wasmBackend().name };
  status.textContent = 'ready';
} catch (err) {
  status.textContent = `failed: ${err && err.stack ? err.stack : err}`;
}

/** A browser ali-oss client aimed at the stand-in: path-style addressing, since a page cannot rewrite Host. */
function ossClient(oss) {
  // eslint-disable-next-line no-undef
  return new OSS({
    region: oss.region,
    bucket: oss.bucket,
    endpoint: oss.endpoint,
    accessKeyId: oss.accessKeyId,
    accessKeySecret: oss.accessKeySecret,
    sldEnable: true,
    secure: false,
  });
}

async function encryptAndUpload({ oss, name, dataBase64, publicKeyPem, padding, matdesc, slice }) {
  const data = fromBase64(dataBase64);
  const keyring = new L.KeyRing({ default: L.rsaKeyWrapper({ publicKey: publicKeyPem, padding, matdesc }) });
  const { content, wrapped } = await keyring.createContentKey();

  const ciphertext = new Uint8Array(data.length);
  const stream = L.aesCtr(content.key, content.iv, 0);
  try {
    // Uneven slices: the stream must carry its position across calls that end mid-block.
    for (let at = 0; at < data.length; at += slice) {
      const end = Math.min(data.length, at + slice);
      stream.update(data.subarray(at, end), ciphertext.subarray(at, end));
    }
  } finally {
    stream.dispose();
  }
  const envelope = { format: 'v2', cekAlg: L.CEK_ALG.ctr, wrapped, unencryptedContentLength: data.length };
  const result = await ossClient(oss).put(name, new Blob([ciphertext]), { meta: L.metaFromEnvelope(envelope) });
  return {
    status: result.res.status,
    etag: result.res.headers.etag,
    headers: L.encodeEnvelope(envelope),
    ciphertextBase64: toBase64(ciphertext),
    webCrypto: typeof crypto.subtle === 'object',
  };
}

async function downloadRangesAndDecrypt({ oss, name, privateKeyPem, matdesc, ranges }) {
  const client = ossClient(oss);
  const wrapper = L.rsaKeyWrapper({ privateKey: privateKeyPem, matdesc, engine: L.wasmRsaEngine });
  const reader = new L.KeyRing({ materials: [wrapper] });
  const out = [];
  let content;
  for (const [start, end] of ranges) {
    const result = await client.get(name, { headers: { Range: `bytes=${start}-${end}` } });
    const envelope = L.decodeEnvelope(result.res.headers);
    if (envelope === null) throw new Error(`no encryption metadata visible on ${name}: are the headers exposed?`);
    // One unwrap per object, reused for every range (an RSA private operation each time would be wasteful).
    content ??= await reader.unwrap(envelope.wrapped);
    const body = new Uint8Array(result.content);
    out.push({
      status: result.res.status,
      contentRange: result.res.headers['content-range'],
      plainBase64: toBase64(L.aesCtrXor(content.key, content.iv, body, start)),
      description: L.describeEnvelope(envelope),
      rsaEngine: wrapper.engine.name,
    });
  }
  return out;
}

function fromBase64(text) {
  const binary = atob(text);
  const out = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i++) out[i] = binary.charCodeAt(i);
  return out;
}

function toBase64(bytes) {
  let binary = '';
  for (let i = 0; i < bytes.length; i += 0x8000) binary += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  return btoa(binary);
}
