/**
 * The runtime scenario (scenario.ts) in each real runtime: Node (through the fetch path), Deno, Bun,
 * Cloudflare's workerd and headless Chromium (cross-origin, through the stand-ins' CORS), against the OSS and KMS stand-ins this file starts on 127.0.0.1. One test per runtime and
 * step; a runtime that cannot start here has its tests skipped, the reason in their names, never passed.
 * `npm run test:runtimes` runs this file alone.
 * @module
 */
import { generateKeyPairSync } from 'node:crypto';
import { readFileSync, rmSync } from 'node:fs';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { startKmsServer, type KmsServer } from '../support/kms-server.js';
import { startOssServer, TEST_ACCESS_KEY_ID, TEST_ACCESS_KEY_SECRET, type OssServer } from '../support/oss-server.js';
import { bundleScenario, probe, RUNTIMES, runIn, scratchDir, type Runtime } from './runner.js';
import { STEPS, type ScenarioEnv, type StepResult } from './scenario.js';
import { fixturePath } from '../_util.js';

/** The oss2-written object every runtime reads: oss2 2.19.1 RsaProvider put_object, 100 KiB + 3 bytes. */
const FIXTURE = 'v2-rsa-pkcs1-put-102403';
const BUCKET = 'runtimes';
const rsaPem = () => generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({ type: 'pkcs8', format: 'pem' }) as string;
const keys = { writer: rsaPem(), wrong: rsaPem() };

/** Serves the fixture as oss2 stored it (body and headers) and says how to check it. */
function storeFixture(oss: OssServer): ScenarioEnv['fixture'] {
  const manifest = JSON.parse(readFileSync(fixturePath('interop', 'manifest.json'), 'utf8')) as {
    vectors: Array<{ name: string; headers: Record<string, string>; ciphertext_file: string; plaintext_sha256: string; plaintext_length: number; keys: { rsa_private_pem_file: string } }>;
  };
  const vector = manifest.vectors.find((v) => v.name === FIXTURE);
  if (vector === undefined) throw new Error(`test/fixtures/interop has no vector ${FIXTURE}`);
  const key = `fixtures/${FIXTURE}`;
  oss.putObjectRaw(BUCKET, key, new Uint8Array(readFileSync(fixturePath('interop', vector.ciphertext_file))), vector.headers);
  return {
    key,
    privateKey: readFileSync(fixturePath('interop', vector.keys.rsa_private_pem_file), 'utf8'),
    plaintextSha256: vector.plaintext_sha256,
    plaintextLength: vector.plaintext_length,
  };
}

const stands = { oss: undefined as unknown as OssServer, kms: undefined as unknown as KmsServer, dir: '', bundled: undefined as Promise<void> | undefined };
const runs = new Map<Runtime, Promise<StepResult[]>>();

/** Runs the scenario once per runtime (the first step's test starts it; the others wait for it). */
function resultsOf(runtime: Runtime): Promise<StepResult[]> {
  let run = runs.get(runtime);
  if (run === undefined) {
    stands.bundled ??= bundleScenario(stands.dir);
    const env: ScenarioEnv = {
      ossEndpoint: stands.oss.endpoint,
      region: stands.oss.region,
      bucket: BUCKET,
      ossCredentials: { accessKeyId: TEST_ACCESS_KEY_ID, accessKeySecret: TEST_ACCESS_KEY_SECRET },
      kmsEndpoint: stands.kms.endpoint,
      kmsCredentials: stands.kms.credentials,
      kmsKeyId: stands.kms.createKey(),
      prefix: runtime,
      rsaPrivateKey: keys.writer,
      wrongRsaPrivateKey: keys.wrong,
      fixture: storeFixture(stands.oss),
    };
    run = stands.bundled.then(() => runIn(runtime, stands.dir, env));
    runs.set(runtime, run);
  }
  return run;
}

for (const runtime of RUNTIMES) {
  const test = suite(`runtime ${runtime}`);
  const probed = probe(runtime);
  test.before(async () => {
    stands.oss ??= await startOssServer();
    stands.kms ??= await startKmsServer();
    stands.dir ||= scratchDir();
  });
  if (!probed.started) {
    console.log(`runtime ${runtime}: did not start, its ${STEPS.length} tests are skipped: ${probed.reason}`);
    for (const step of STEPS) test.skip(`${step} [skipped: ${probed.reason}]`, () => {});
  } else {
    for (const step of STEPS) {
      test(`${step} (${probed.version})`, async () => {
        const result = (await resultsOf(runtime)).find((r) => r.step === step);
        assert.ok(result, `${runtime} reported no result for "${step}"`);
        assert.ok(result.ok, `${runtime}: ${result.error}`);
      });
    }
  }
  test.after(async () => {
    const run = runs.get(runtime);
    if (run === undefined) return;
    const results = await run.catch((err: Error) => err);
    if (results instanceof Error) return console.log(`\nruntime ${runtime} (${probed.version}): started, the scenario failed: ${results.message}`);
    const passed = results.filter((r) => r.ok).length;
    const figures = results.filter((r) => r.figure !== undefined).map((r) => r.figure);
    console.log(
      `\nruntime ${runtime} (${probed.version}): started, ${passed}/${results.length} steps passed; ms per step: ${results.map((r) => r.ms).join(' ')}` +
        (figures.length > 0 ? `; measured: ${figures.join('; ')}` : ''),
    );
  });
  if (runtime === RUNTIMES[RUNTIMES.length - 1]) {
    test.after(async () => {
      await stands.oss?.close();
      await stands.kms?.close();
      if (stands.dir) rmSync(stands.dir, { recursive: true, force: true });
    });
  }
  test.run();
}
