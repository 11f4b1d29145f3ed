/**
 * Bundle the CLI: one self-contained ES module per command module in dist/cli/ (esbuild; npm packages stay
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
await esbuild.build({
  entryPoints: [
    ...[...modules.keys()].map((name) => ({ in: `medvox-command:${name}`, out: name })),
    // Found next to the bundle by src/io/decode-pool.ts (new URL('./decode-worker.js', import.meta.url)).
    { in: join(root, 'src', 'io', 'decode-worker.ts'), out: 'decode-worker' },
  ],
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  packages: 'external',
  outdir,
  plugins: [entry],
  logLevel: 'warning',
});
const table = Object.fromEntries(Object.entries(COMMANDS).map(([command, [module]]) => [command, `${module}.js`]));
writeFileSync(join(outdir, 'commands.json'), `${JSON.stringify(table, null, 2)}\n`);
