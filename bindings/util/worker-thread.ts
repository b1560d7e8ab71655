/**
 * Starts a worker thread from a module beside the caller, whether the package runs built (`.js`) or from its
 * TypeScript source (tests and benches under `--import tsx`), for the pools that take work off the main thread
 * (cipher/worker-pool.ts, keys/rsa-workers.ts).
 *
 * Node only: it imports `node:worker_threads`.
 * @module
 */
import { Worker } from 'node:worker_threads';

/**
 * Starts the worker module `name` that sits beside `callerUrl`, with the caller's own extension.
 * @param callerUrl the caller's `import.meta.url`
 * @param name the worker module's file name without extension, e.g. `ctr-worker`
 * @param workerData passed to the worker as `workerData`
 * @returns the running worker
 * @example
 *   const worker = startWorkerBeside(import.meta.url, 'rsa-worker');
 */
export function startWorkerBeside(callerUrl: string, name: string, workerData?: unknown): Worker {
  const extension = /\.[cm]?[jt]s$/.exec(new URL(callerUrl).pathname)?.[0] ?? '.js';
  const url = new URL(`./${name}${extension}`, callerUrl);
  if (extension === '.js' || extension === '.mjs') return new Worker(url, { workerData });
  // From TypeScript source: Node 20 does not carry the parent's `--import tsx` loader into a worker's entry, so
  // the worker registers tsx itself, then loads the source. tsx is resolved here, from this package: the worker's
  // evaluated code would resolve it from the working directory, which may be anywhere. Built code never gets here.
  const tsx = import.meta.resolve('tsx/esm/api');
  const bootstrap = `import(${JSON.stringify(tsx)}).then((tsx) => { tsx.register(); return import(${JSON.stringify(url.href)}); });`;
  return new Worker(bootstrap, { eval: true, workerData });
}
