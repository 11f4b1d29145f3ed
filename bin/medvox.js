#!/usr/bin/env node
// The medvox CLI. Runs the command's bundle from dist/cli/ (built by `npm run build`, which `npm ci` runs through
// `prepare`; see tools/build-cli.mjs) when it is at least as new as every source file; the full help runs the
// compiled modules in dist/src/; an edited checkout runs the TypeScript sources through tsx, so it never runs stale
// code. Bundles load with a V8 code cache (bin/bundle.js). Start-up of `medvox convert`: ~0.1 s from its bundle,
// ~0.18 s from dist/src, ~0.5 s through tsx.
// CommonJS (bin/package.json): an ES module entry point costs Node ~5 ms more to start.
'use strict';
const { existsSync, readdirSync, readFileSync, statSync } = require('node:fs');
const { join } = require('node:path');
const { loadBundle } = require('./bundle.js');

// `medvox dump ... | head` closes the pipe early: that is not an error.
process.stdout.on('error', (error) => {
  if (error.code === 'EPIPE') process.exit(0);
  throw error;
});

const root = join(__dirname, '..');

function newestSource(dir) {
  let newest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    newest = Math.max(newest, entry.isDirectory() ? newestSource(path) : statSync(path).mtimeMs);
  }
  return newest;
}

let sources;
/** True when `built` exists and is at least as new as every file in src/ (walked once, on first need). */
function current(built) {
  if (!existsSync(built)) return false;
  sources ??= newestSource(join(root, 'src'));
  return statSync(built).mtimeMs >= sources;
}

async function main() {
  const command = process.argv[2];
  const table = join(root, 'dist', 'cli', 'commands.json');
  const bundles = command && current(table) ? JSON.parse(readFileSync(table, 'utf8')) : {};
  const compiled = join(root, 'dist', 'src', 'cli', 'main.js');
  if (Object.hasOwn(bundles, command)) {
    const bundle = loadBundle(join(root, 'dist', 'cli', bundles[command]));
    await bundle.exports.run(process.argv);
    // A run that got here (not help, not an early exit) has compiled what the command uses: keep it for next time.
    if (!process.exitCode) bundle.save();
  } else if (current(compiled)) {
    const { main } = await import(compiled);
    await main(process.argv);
  } else {
    const { register } = await import('tsx/esm/api');
    register();
    const { main } = await import('../src/cli/main.ts');
    await main(process.argv);
  }
}

// A failure that escaped the command's own handling ends the process as an uncaught error would (exit code 1).
main().catch((error) => {
  process.nextTick(() => {
    throw error;
  });
});
