/**
 * Bundle the CLI: one self-contained CommonJS file per command module in dist/cli/ (esbuild; npm packages stay
 * external), plus the decode worker, and dist/cli/commands.json (command -> bundle) for bin/medvox.js.
 *
 * Why: start-up is a large part of a typical command (a 300-slice conversion takes ~0.3 s). Loading ~40 compiled
 * modules costs resolution, file reads and linking for each; one file per command compiles and links once.
 * Run by `npm run build` (and so by `npm ci` through `prepare`); `node tools/build-cli.mjs DIR` builds into DIR
 * instead (the bundle test).
 */
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as esbuild from 'esbuild';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const outdir = process.argv[2] ?? join(root, 'dist', 'cli');

/** Command -> [module in src/cli, its register function]. Checked against src/cli/main.ts by test/cli/bundle.test.ts. */
const COMMANDS = {
  convert: ['convert', 'registerConvert'],
  dump: ['dump', 'registerDump'],
  seg: ['seg', 'registerSeg'],
  rtstruct: ['rtstruct', 'registerRtstruct'],
  export: ['export', 'registerExport'],
  metadata: ['metadata', 'registerMetadata'],
  serve: ['serve', 'registerServe'],
  import: ['serve', 'registerServe'],
  demo: ['serve', 'registerServe'],
};

const modules = new Map(Object.values(COMMANDS));
const entry = {
  name: 'medvox-command-entry',
  setup(build) {
    build.onResolve({ filter: /^medvox-command:/ }, (args) => ({ path: args.path.slice(15), namespace: 'command' }));
    build.onLoad({ filter: /.*/, namespace: 'command' }, (args) => ({
      contents: `import { createProgram, runProgram } from './src/cli/program.ts';
import { ${modules.get(args.path)} as register } from './src/cli/${args.path}.ts';
export const run = (argv) => runProgram(createProgram([register]), argv);\n`,
      loader: 'ts',
      resolveDir: root,
    }));
  },
};

rmSync(outdir, { recursive: true, force: true });
mkdirSync(outdir, { recursive: true });
const common = { bundle: true, platform: 'node', target: 'node20', outdir, logLevel: 'warning' };
// Small pure-JavaScript packages every command loads go into the bundles (and so into their code cache); native,
// WebAssembly and server packages stay in node_modules.
const external = ['@cornerstonejs/*', '@fastify/*', 'better-sqlite3', 'fastify', 'tsx', 'tsx/*', 'yauzl'];
// Commands as CommonJS: bin/bundle.js compiles them with a V8 code cache (Node 20 has no module compile cache), and
// CommonJS skips the ES module loader's start-up. import.meta.url (worker and web paths) becomes the file's URL.
// (import.meta.resolve is only reached when running from TypeScript sources.)
await esbuild.build({
  ...common,
  entryPoints: [...modules.keys()].map((name) => ({ in: `medvox-command:${name}`, out: name })),
  format: 'cjs',
  // import() of a package becomes require() (all of them load as CommonJS): a dynamic import inside a vm.Script
  // needs the experimental vm loader, which prints a warning.
  supported: { 'dynamic-import': false },
  external,
  outExtension: { '.js': '.cjs' },
  define: { 'import.meta.url': '__medvoxModuleUrl', 'import.meta.resolve': '__medvoxResolve' },
  banner: {
    js: [
      'var __medvoxModuleUrl = require("node:url").pathToFileURL(__filename).href;',
      'var __medvoxResolve = (specifier) => require("node:url").pathToFileURL(require.resolve(specifier)).href;',
    ].join('\n'),
  },
  plugins: [entry],
});
// Found next to the bundle by src/io/worker-start.ts (new URL('./<name>.js', import.meta.url)).
await esbuild.build({
  ...common,
  entryPoints: [
    { in: join(root, 'src', 'io', 'decode-worker.ts'), out: 'decode-worker' },
    { in: join(root, 'src', 'io', 'slice-worker.ts'), out: 'slice-worker' },
  ],
  format: 'esm',
  packages: 'external',
});
const table = Object.fromEntries(Object.entries(COMMANDS).map(([command, [module]]) => [command, `${module}.cjs`]));
writeFileSync(join(outdir, 'commands.json'), `${JSON.stringify(table, null, 2)}\n`);
