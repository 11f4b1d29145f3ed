// Loads a CLI command bundle (dist/cli/<command>.cjs, tools/build-cli.mjs) with a V8 code cache beside it.
//
// Why: a command spends ~40 ms of its start compiling its bundle, and compiles each function again on its first
// call (Node 20 has no compile cache; Node 22's module.enableCompileCache does this). The first run of a command
// saves V8's code for everything it compiled to `<bundle>.<V8 version>-<arch>.cache`; later runs start from it
// (~20 ms faster for `medvox metadata` over 3,000 files). V8 checks the cache against the source and its own
// version and flags and rejects a stale one, which is then written again. The cache lives only next to the
// bundle, whose trust it shares; a folder that is not writable simply gets no cache.
'use strict';
const { readFileSync, renameSync, rmSync, writeFileSync } = require('node:fs');
const { createRequire, Module } = require('node:module');
const { dirname } = require('node:path');
const vm = require('node:vm');

/** The cache file of a bundle for this Node (V8 version and CPU). */
function cachePath(bundle) {
  return `${bundle}.${process.versions.v8}-${process.arch}.cache`;
}

/**
 * Load `bundle` (a CommonJS file). Gives its exports, whether a cache was used, and `save()`, which writes the
 * cache when there was none or V8 rejected it (call it after a run, when the run's functions are compiled).
 */
function loadBundle(bundle) {
  const source = readFileSync(bundle, 'utf8');
  const cacheFile = cachePath(bundle);
  let cachedData;
  try {
    cachedData = readFileSync(cacheFile);
  } catch {
    cachedData = undefined;
  }
  // The bundles have no import() (tools/build-cli.mjs makes them require calls); should one appear, it resolves
  // as in any module of the process.
  const importModuleDynamically = vm.constants?.USE_MAIN_CONTEXT_DEFAULT_LOADER;
  if (!importModuleDynamically) {
    // An older Node 20 without it: a plain require, no cache.
    return { exports: createRequire(bundle)(bundle), cached: false, save() {} };
  }
  const script = new vm.Script(Module.wrap(source), { filename: bundle, cachedData, importModuleDynamically });
  const module = { exports: {}, filename: bundle, id: bundle, loaded: false };
  script
    .runInThisContext()
    .call(module.exports, module.exports, createRequire(bundle), module, bundle, dirname(bundle));
  module.loaded = true;
  const cached = cachedData !== undefined && !script.cachedDataRejected;
  return {
    exports: module.exports,
    cached,
    save() {
      if (cached) return;
      const temporary = `${cacheFile}.${process.pid}.tmp`;
      try {
        writeFileSync(temporary, script.createCachedData());
        renameSync(temporary, cacheFile);
      } catch {
        try {
          rmSync(temporary, { force: true });
        } catch {
          // nothing was written
        }
      }
    },
  };
}

module.exports = { loadBundle };
