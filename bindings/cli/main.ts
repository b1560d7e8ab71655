#!/usr/bin/env node
/**
 * The `oss-crypto` executable (package.json `bin` → `dist/bindings/cli/main.js`; from source:
 * `node --import tsx bindings/cli/main.ts`). Wires the process into {@link runCli}: argv, environment, standard
 * streams, and SIGINT/SIGTERM to an AbortSignal, so an interrupted transfer stops cleanly and keeps its
 * checkpoint (a second signal exits at once).
 * @module
 */
import { CliUsageError, parseCliArgs } from './args.js';
import { runCli } from './run.js';

// `oss-crypto serve` (serve.ts) runs the loopback stand-ins until a signal exits the process; loaded only for it.
// Its flags are scanned by the common parser first, so a typo gets the same "did you mean" as elsewhere.
if (process.argv[2] === 'serve') {
  try {
    parseCliArgs(process.argv.slice(2), process.env);
  } catch (err) {
    if (!(err instanceof CliUsageError)) throw err;
    process.stderr.write(`error USAGE: ${err.message}\n`);
    process.exit(2);
  }
  process.exit(await (await import('./serve.js')).serveMain(process.argv.slice(3)));
}

// urllib (under ali-oss) console.warns "callback twice" with its socket bookkeeping whenever a connection is
// refused; the CLI promises exactly one `error CODE: message` line, which already says what happened.
const warn = console.warn.bind(console);
console.warn = (...args: unknown[]) => {
  if (typeof args[0] === 'string' && args[0].startsWith('[urllib:warn]')) return;
  warn(...args);
};

const controller = new AbortController();
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.on(signal, () => {
    if (controller.signal.aborted) process.exit(130);
    controller.abort(new Error(`interrupted by ${signal}`));
  });
}

// EPIPE on stdout (e.g. `oss-crypto get ... - | head`) means the reader is gone: stop quietly.
process.stdout.on('error', (err: NodeJS.ErrnoException) => {
  if (err.code === 'EPIPE') process.exit(0);
  throw err;
});

process.exitCode = await runCli({
  argv: process.argv.slice(2),
  env: process.env,
  stdin: process.stdin,
  stdout: process.stdout,
  stderr: process.stderr,
  signal: controller.signal,
});
