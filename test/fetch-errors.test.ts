/**
 * OssRequestError's `details` (bindings/oss/fetch/errors.ts): the XML body's other fields by name, and printable
 * as text, so a test runner that prints an error's `details` (uvu) reports a failing fetch-store test instead of
 * crashing and hiding the tests after it.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { ossErrorFromResponse } from '../bindings/oss/fetch/errors.js';

const SIGNATURE_XML =
  '<?xml version="1.0" encoding="UTF-8"?><Error><Code>SignatureDoesNotMatch</Code><Message>The request signature does not match</Message>' +
  '<RequestId>R1</RequestId><HostId>h</HostId><StringToSign>OSS4-HMAC-SHA256\n20261207T000000Z</StringToSign><CanonicalRequest>GET\n/b/a</CanonicalRequest></Error>';

test('details holds the XML fields alone (keys, spread, JSON), frozen, and prints as Name: value lines', () => {
  const err = ossErrorFromResponse(403, {}, SIGNATURE_XML);
  assert.equal(Object.keys(err.details), ['StringToSign', 'CanonicalRequest']);
  assert.equal(JSON.parse(JSON.stringify(err.details)), { StringToSign: 'OSS4-HMAC-SHA256\n20261207T000000Z', CanonicalRequest: 'GET\n/b/a' });
  assert.equal({ ...err.details }, { StringToSign: 'OSS4-HMAC-SHA256\n20261207T000000Z', CanonicalRequest: 'GET\n/b/a' });
  assert.ok(Object.isFrozen(err.details));
  assert.is(String(err.details), 'StringToSign: OSS4-HMAC-SHA256\n20261207T000000Z\nCanonicalRequest: GET\n/b/a');
  const asText = err.details as unknown as { split(separator: string): string[] };
  assert.equal(asText.split('\n'), ['StringToSign: OSS4-HMAC-SHA256', '20261207T000000Z', 'CanonicalRequest: GET', '/b/a']);
  // An error without extra fields prints nothing.
  assert.is(String(ossErrorFromResponse(404, {}, '<Error><Code>NoSuchKey</Code><Message>m</Message></Error>').details), '');
});

test('uvu reports a test failing with an OssRequestError, details included, and runs the tests after it', () => {
  const dir = mkdtempSync(join(tmpdir(), 'fetch-errors-'));
  try {
    const errorsModule = fileURLToPath(new URL('../bindings/oss/fetch/errors.ts', import.meta.url));
    const script = join(dir, 'suite.mts');
    writeFileSync(
      script,
      `import { test } from ${JSON.stringify(import.meta.resolve('uvu'))};\n` +
        `import { ossErrorFromResponse } from ${JSON.stringify(errorsModule)};\n` +
        `test('fails with an OSS error', () => { throw ossErrorFromResponse(403, {}, ${JSON.stringify(SIGNATURE_XML)}); });\n` +
        `test('runs after it', () => { console.log('LATER TEST RAN'); });\n` +
        `test.run();\n`,
    );
    const run = spawnSync(process.execPath, ['--import', 'tsx', script], { encoding: 'utf8', cwd: fileURLToPath(new URL('..', import.meta.url)), timeout: 60_000 });
    const out = run.stdout + run.stderr;
    assert.not.match(out, /details\.split is not a function/, out);
    assert.match(out, /LATER TEST RAN/, out);
    assert.match(out, /StringToSign: OSS4-HMAC-SHA256/, out);
    assert.match(out, /Total:\s+2/, out);
    assert.match(out, /Passed:\s+1/, out);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test.run();
