/**
 * Builds the browser bundle of the core path (bindings/core.ts) with esbuild, and is the core-path check: the
 * build FAILS when anything reachable from the entry imports a Node builtin (`node:*` or a bare builtin name
 * such as `fs`) or a Node-only package (ali-oss, @alicloud/*), naming the import chain that reached it.
 *
 * Bundle: ESM for `platform: 'browser'`, the WebAssembly core embedded (bindings/wasm/core.wasm.ts holds it as
 * base64, so loading needs no fetch and no file system), node-forge included. A dependency's own `browser`
 * field may stub a builtin out (node-forge maps `crypto` to `false` and only touches it when it detects Node);
 * such stubs are allowed and reported in `stubbedBuiltins`, because the package author, not us, decided the
 * browser build works without it. Anything else that would need Node is a build error.
 *
 * Used by `npm run build:browser` (writes dist/browser/ali-oss-crypto.js), test/core-path.test.ts and
 * test/browser.test.ts (which build in memory so they never test a stale file).
 * Usage: `node --import tsx test/browser/bundle.ts [--outfile PATH] [--no-minify]`
 *
 * Deliberately not here: a bundle of the client (it needs Node) and any bundler other than esbuild.
 * @module
 */
import { builtinModules } from 'node:module';
import { relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as esbuild from 'esbuild';

/** The repository root. */
export const REPO_ROOT = resolve(fileURLToPath(new URL('../..', import.meta.url)));
/** The core-path entry point. */
export const CORE_ENTRY = resolve(REPO_ROOT, 'bindings/core.ts');
/** Where `npm run build:browser` writes the bundle. */
export const DEFAULT_OUTFILE = resolve(REPO_ROOT, 'dist/browser/ali-oss-crypto.js');

/** Packages that exist only for Node and must never be reached from the core path. */
const NODE_ONLY_PACKAGES = ['ali-oss', '@alicloud/'];

/** Options of {@link buildCoreBundle}. */
export interface CoreBundleOptions {
  /** Entry file (default bindings/core.ts); tests point it at deliberately broken entries. */
  entry?: string;
  /** `esm` (default; what ships) or `iife` (a script that sets `globalThis[globalName]`, for `vm`). */
  format?: 'esm' | 'iife';
  /** Global variable of an `iife` bundle. Default `AliOssCrypto`. */
  globalName?: string;
  /** Minify (default true). */
  minify?: boolean;
  /** Write here as well as returning the text. */
  outfile?: string;
}

/** What {@link buildCoreBundle} produced. */
export interface CoreBundle {
  /** The bundle's JavaScript. */
  code: string;
  /** esbuild's metafile (inputs, their imports, outputs). */
  metafile: esbuild.Metafile;
  /** Builtins that a dependency's `browser` field replaced with an empty module, and who imported them. */
  stubbedBuiltins: { specifier: string; importer: string }[];
  /** Repository-relative paths of every input file. */
  inputs: string[];
}

/** The build failed because the core path reaches Node; `chains` says how, one line per offending import. */
export class CorePathError extends Error {
  constructor(readonly chains: string[]) {
    super(`the core path imports Node-only modules:\n  ${chains.join('\n  ')}`);
    this.name = 'CorePathError';
  }
}

/**
 * Bundles the core path for browsers; fails if it reaches a Node builtin or a Node-only package.
 * @throws {CorePathError} when something reachable from the entry imports Node (message: each import chain)
 * @throws {Error} any other esbuild failure
 * @example
 *   const { code, stubbedBuiltins } = await buildCoreBundle({ outfile: 'dist/browser/ali-oss-crypto.js' });
 */
export async function buildCoreBundle(options: CoreBundleOptions = {}): Promise<CoreBundle> {
  const entry = resolve(options.entry ?? CORE_ENTRY);
  const guard = coreGuard();
  let result: esbuild.BuildResult & { metafile: esbuild.Metafile; outputFiles: esbuild.OutputFile[] };
  try {
    result = await esbuild.build({
      entryPoints: [entry],
      bundle: true,
      format: options.format ?? 'esm',
      globalName: options.format === 'iife' ? (options.globalName ?? 'AliOssCrypto') : undefined,
      platform: 'browser',
      target: ['es2022'],
      minify: options.minify ?? true,
      // Resolve the way browsers' bundlers do: a package's `browser` field first.
      mainFields: ['browser', 'module', 'main'],
      conditions: ['browser'],
      legalComments: 'eof',
      metafile: true,
      write: false,
      outfile: options.outfile ?? DEFAULT_OUTFILE,
      logLevel: 'silent',
      plugins: [guard.plugin],
    });
  } catch (err) {
    if (guard.offences.length > 0) throw new CorePathError(guard.offences.map((o) => guard.chain(o)));
    throw err;
  }
  const code = result.outputFiles.find((f) => f.path.endsWith('.js'))!.text;
  if (options.outfile !== undefined) {
    const { mkdir, writeFile } = await import('node:fs/promises');
    const out = resolve(options.outfile);
    await mkdir(resolve(out, '..'), { recursive: true });
    await writeFile(out, code);
  }
  return {
    code,
    metafile: result.metafile,
    stubbedBuiltins: guard.stubbed,
    inputs: Object.keys(result.metafile.inputs).map((p) => relative(REPO_ROOT, resolve(REPO_ROOT, p))),
  };
}

/**
 * True for `node:x`, and for the bare name of a Node builtin (`fs`, `fs/promises`, `crypto`...). A bare name
 * counts even where an npm polyfill of that name exists (`buffer`, `events`, `util`): the core path needs none.
 */
export function isNodeBuiltin(specifier: string): boolean {
  if (specifier.startsWith('node:')) return true;
  const name = specifier.split('/')[0];
  return builtinModules.includes(name) || builtinModules.includes(specifier);
}

// ---------------------------------------------------------------------------------------------------------------

interface Offence {
  specifier: string;
  importer: string;
  why: string;
}

/** The esbuild plugin that records the import graph and turns every Node import into a build error. */
function coreGuard() {
  // First importer of each file: enough to print one chain from the entry to an offending import.
  const parent = new Map<string, string>();
  const offences: Offence[] = [];
  const stubbed: { specifier: string; importer: string }[] = [];
  const rel = (p: string) => relative(REPO_ROOT, p) || p;

  const plugin: esbuild.Plugin = {
    name: 'core-path-guard',
    setup(build) {
      build.onResolve({ filter: /.*/ }, async (args) => {
        if (args.kind === 'entry-point' || (args.pluginData as { inner?: boolean } | undefined)?.inner) return undefined;
        const forbiddenPackage = NODE_ONLY_PACKAGES.find((p) => args.path === p || args.path.startsWith(p.endsWith('/') ? p : p + '/'));
        if (forbiddenPackage !== undefined) {
          offences.push({ specifier: args.path, importer: args.importer, why: 'a Node-only package' });
          return { errors: [{ text: `core path imports the Node-only package "${args.path}"` }] };
        }
        const resolved = await build.resolve(args.path, {
          kind: args.kind,
          importer: args.importer,
          resolveDir: args.resolveDir,
          pluginData: { inner: true },
        });
        if (isNodeBuiltin(args.path)) {
          // esbuild resolves a builtin only when the importing package's `browser` field maps it away (to
          // `false`: an empty module, reported with an empty namespace). Everything else is a Node import.
          if (resolved.errors.length === 0 && !resolved.external && resolved.namespace === '' && !args.path.startsWith('node:')) {
            stubbed.push({ specifier: args.path, importer: rel(args.importer) });
            return undefined;
          }
          offences.push({ specifier: args.path, importer: args.importer, why: 'a Node builtin' });
          return { errors: [{ text: `core path imports the Node builtin "${args.path}"` }] };
        }
        if (resolved.errors.length === 0 && resolved.path !== '' && !parent.has(resolved.path)) parent.set(resolved.path, args.importer);
        return undefined;
      });
    },
  };

  const chain = (o: Offence): string => {
    const files = [o.importer];
    for (let p = parent.get(o.importer); p !== undefined && files.length < 50; p = parent.get(p)) files.unshift(p);
    return `${files.map(rel).join(' → ')} → "${o.specifier}" (${o.why})`;
  };
  return { plugin, offences, stubbed, chain };
}

// `npm run build:browser`
if (process.argv[1] !== undefined && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const argv = process.argv.slice(2);
  const at = argv.indexOf('--outfile');
  const outfile = at >= 0 ? argv[at + 1] : DEFAULT_OUTFILE;
  try {
    const bundle = await buildCoreBundle({ outfile, minify: !argv.includes('--no-minify') });
    const stubs = bundle.stubbedBuiltins.map((s) => `${s.specifier} (${s.importer})`).join(', ');
    console.log(`wrote ${relative(process.cwd(), resolve(outfile))}: ${bundle.code.length} bytes from ${bundle.inputs.length} files`);
    if (stubs !== '') console.log(`builtins stubbed out by their packages' "browser" field: ${stubs}`);
  } catch (err) {
    console.error(err instanceof CorePathError ? err.message : err);
    process.exitCode = 1;
  }
}
