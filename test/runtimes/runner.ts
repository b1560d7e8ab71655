/**
 * Runs the runtime scenario (scenario.ts) in a real JavaScript runtime: bundles it once with esbuild (ESM, one
 * self-contained file), writes the runtime's small entry beside it, starts the runtime's binary from
 * node_modules/.bin (npm packages `deno`, `bun`, `workerd`; Node is the one running the tests; Chromium is
 * Debian's, driven by playwright-core), hands it the stand-ins' addresses and collects the per-step results it
 * prints (workerd answers over HTTP, Chromium returns them from the page).
 *
 * A runtime whose binary is missing or does not start here is reported as not started, with the reason, so the
 * tests can be skipped saying why instead of passing. Each run is bounded in time; a process that overstays
 * is killed (its own pid only).
 * @module
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer as createHttpServer } from 'node:http';
import { createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as esbuild from 'esbuild';
import { RELEASE_WASM_BASE64 } from '../../bindings/wasm/core.wasm.js';
import type { ScenarioEnv, StepResult } from './scenario.js';

/** The runtimes the scenario runs in. */
export const RUNTIMES = ['node', 'deno', 'bun', 'workerd', 'chromium'] as const;
export type Runtime = (typeof RUNTIMES)[number];

const ROOT = resolve(fileURLToPath(new URL('../..', import.meta.url)));
const SCENARIO = join(ROOT, 'test/runtimes/scenario.ts');
const RUN_LIMIT_MS = 120_000;
const RESULT_MARK = 'SCENARIO_RESULT ';

/** Whether a runtime can start here: its version line, or why not. */
export interface Probe {
  runtime: Runtime;
  started: boolean;
  version?: string;
  reason?: string;
}

/** Debian's Chromium (as test/browser.test.ts uses it); BROWSER_TEST_CHROMIUM overrides the path. */
const CHROMIUM = process.env.BROWSER_TEST_CHROMIUM ?? '/usr/bin/chromium';
const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  // Only loopback resolves: the page reaches nothing but the stand-ins.
  '--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1',
];

/** The binary of a runtime (Node: the one running us; Chromium: Debian's, driven by playwright-core). */
export function binaryOf(runtime: Runtime): string {
  if (runtime === 'node') return process.execPath;
  if (runtime === 'chromium') return CHROMIUM;
  return join(ROOT, 'node_modules/.bin', runtime);
}

/** Starts `<binary> --version` and reports whether it answered. */
export function probe(runtime: Runtime): Probe {
  const binary = binaryOf(runtime);
  if (!existsSync(binary)) {
    const install = runtime === 'chromium' ? "apt-get install chromium" : `npm ci installs the devDependency "${runtime}"`;
    return { runtime, started: false, reason: `${binary} is not installed (${install})` };
  }
  const r = spawnSync(binary, ['--version'], { encoding: 'utf8', timeout: 30_000 });
  if (r.error || r.status !== 0) {
    const why = r.error ? r.error.message : `exit ${r.status}${r.signal ? ` (${r.signal})` : ''}: ${(r.stderr || r.stdout).trim().split('\n')[0]}`;
    return { runtime, started: false, reason: `${runtime} --version failed: ${why}` };
  }
  return { runtime, started: true, version: r.stdout.trim().split('\n')[0] };
}

/** Bundles scenario.ts into `dir/scenario.mjs` (ESM, browser platform: no Node builtin may be reached). */
export async function bundleScenario(dir: string): Promise<void> {
  await esbuild.build({
    entryPoints: [SCENARIO],
    bundle: true,
    format: 'esm',
    platform: 'browser',
    target: 'es2022',
    outfile: join(dir, 'scenario.mjs'),
    logLevel: 'silent',
  });
}

/** A scratch directory holding the bundle and the entries. */
export function scratchDir(): string {
  return mkdtempSync(join(tmpdir(), 'runtimes-'));
}

/**
 * Runs the bundled scenario (in `dir`) in `runtime` and returns its step results.
 * @throws {Error} when the runtime exits without results, or overstays the limit (its output is quoted)
 */
export async function runIn(runtime: Runtime, dir: string, env: ScenarioEnv): Promise<StepResult[]> {
  if (runtime === 'workerd') return runInWorkerd(dir, env);
  if (runtime === 'chromium') return runInChromium(dir, env);
  const entry = join(dir, `main-${runtime}.mjs`);
  const argsOf = runtime === 'deno' ? 'Deno.args[0]' : 'process.argv[2]';
  writeFileSync(entry, `import { runScenario } from './scenario.mjs';\nconst results = await runScenario(JSON.parse(${argsOf}));\nconsole.log(${JSON.stringify(RESULT_MARK)} + JSON.stringify(results));\n`);
  const args =
    runtime === 'deno'
      ? ['run', '--no-prompt', '--no-config', '--no-lock', '--allow-net=127.0.0.1', entry, JSON.stringify(env)]
      : runtime === 'bun'
        ? ['run', entry, JSON.stringify(env)]
        : [entry, JSON.stringify(env)];
  const { stdout, stderr, code } = await runProcess(binaryOf(runtime), args, { ...process.env, DENO_DIR: join(dir, 'deno-cache'), NO_COLOR: '1' });
  const line = stdout.split('\n').find((l) => l.startsWith(RESULT_MARK));
  if (line === undefined) throw new Error(`${runtime} exited ${code} without results:\n${tail(stderr || stdout)}`);
  return JSON.parse(line.slice(RESULT_MARK.length)) as StepResult[];
}

/** workerd serves the scenario as a Worker on a loopback socket; outbound fetches may reach 127.0.0.1. */
async function runInWorkerd(dir: string, env: ScenarioEnv): Promise<StepResult[]> {
  const port = await freePort();
  // Workers compile WebAssembly only from modules the platform loads: the core goes in as a wasm module.
  writeFileSync(join(dir, 'core.wasm'), Buffer.from(RELEASE_WASM_BASE64, 'base64'));
  writeFileSync(
    join(dir, 'worker.mjs'),
    `import { runScenario } from './scenario.mjs';\nimport core from './core.wasm';\nexport default { async fetch(request) { return Response.json(await runScenario(await request.json(), { wasmModule: core })); } };\n`,
  );
  writeFileSync(
    join(dir, 'config.capnp'),
    `using Workerd = import "/workerd/workerd.capnp";
const config :Workerd.Config = (
  services = [
    (name = "main", worker = .scenarioWorker),
    (name = "loopback", network = (allow = ["public", "private", "local"])),
  ],
  sockets = [ (name = "http", address = "127.0.0.1:${port}", http = (), service = "main") ],
);
const scenarioWorker :Workerd.Worker = (
  modules = [
    (name = "worker.mjs", esModule = embed "worker.mjs"),
    (name = "scenario.mjs", esModule = embed "scenario.mjs"),
    (name = "core.wasm", wasm = embed "core.wasm"),
  ],
  compatibilityDate = "2024-09-23",
  globalOutbound = "loopback",
);
`,
  );
  const child = spawn(binaryOf('workerd'), ['serve', join(dir, 'config.capnp')], { stdio: ['ignore', 'pipe', 'pipe'] });
  const output = collect(child);
  try {
    const deadline = Date.now() + 30_000;
    for (;;) {
      if (child.exitCode !== null) throw new Error(`workerd exited ${child.exitCode} before serving:\n${tail(output.text())}`);
      try {
        const res = await fetch(`http://127.0.0.1:${port}/`, { method: 'POST', body: JSON.stringify(env), signal: AbortSignal.timeout(RUN_LIMIT_MS) });
        const text = await res.text();
        if (res.status !== 200) throw new Error(`workerd answered ${res.status}: ${text.slice(0, 2000)}\n${tail(output.text())}`);
        return JSON.parse(text) as StepResult[];
      } catch (err) {
        const refused = (err as { cause?: { code?: string } }).cause?.code === 'ECONNREFUSED';
        if (!refused || Date.now() > deadline) throw err;
        await new Promise((r) => setTimeout(r, 200));
      }
    }
  } finally {
    child.kill('SIGTERM');
  }
}

/**
 * Chromium loads the bundle as a module into a page served from its own loopback origin, so every request to the
 * stand-ins is cross-origin and goes through their CORS answers (preflights included).
 */
async function runInChromium(dir: string, env: ScenarioEnv): Promise<StepResult[]> {
  const scenario = readFileSync(join(dir, 'scenario.mjs'), 'utf8');
  const pages = createHttpServer((req, res) => {
    if (req.url === '/scenario.mjs') res.writeHead(200, { 'content-type': 'text/javascript; charset=utf-8', 'cache-control': 'no-store' }).end(scenario);
    else res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' }).end('<!doctype html><meta charset="utf-8"><title>runtime scenario</title>');
  });
  await new Promise<void>((resolvePromise) => pages.listen(0, '127.0.0.1', resolvePromise));
  const origin = `http://127.0.0.1:${(pages.address() as AddressInfo).port}`;
  const { chromium } = await import('playwright-core');
  const browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS, timeout: 60_000 });
  try {
    const page = await browser.newPage();
    const errors: string[] = [];
    page.on('pageerror', (err) => errors.push(String(err)));
    await page.goto(`${origin}/`);
    page.setDefaultTimeout(RUN_LIMIT_MS);
    try {
      return await page.evaluate(async (scenarioEnv) => {
        const m = (await import('/scenario.mjs' as string)) as { runScenario(e: unknown): Promise<StepResult[]> };
        return m.runScenario(scenarioEnv);
      }, env);
    } catch (err) {
      throw new Error(`the page failed: ${(err as Error).message}; page errors: ${errors.join(' | ')}`);
    }
  } finally {
    await browser.close();
    pages.closeAllConnections();
    await new Promise((resolvePromise) => pages.close(resolvePromise));
  }
}

function runProcess(binary: string, args: string[], env: NodeJS.ProcessEnv): Promise<{ stdout: string; stderr: string; code: number | null }> {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(binary, args, { stdio: ['ignore', 'pipe', 'pipe'], env });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`${binary} ran longer than ${RUN_LIMIT_MS} ms:\n${tail(stderr || stdout)}`));
    }, RUN_LIMIT_MS);
    child.on('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
    child.on('close', (code) => {
      clearTimeout(timer);
      resolvePromise({ stdout, stderr, code });
    });
  });
}

function collect(child: ChildProcess): { text: () => string } {
  let text = '';
  child.stdout?.on('data', (c: Buffer) => (text += c.toString()));
  child.stderr?.on('data', (c: Buffer) => (text += c.toString()));
  return { text: () => text };
}

function freePort(): Promise<number> {
  return new Promise((resolvePromise, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolvePromise(port));
    });
  });
}

function tail(text: string): string {
  return text.trim().split('\n').slice(-15).join('\n');
}
