/**
 * Where the metadata templates and the MR rules file come from: `--templates DIR` / `--mr-config FILE`, then the
 * user config folder (`$MEDVOX_CONFIG_DIR`, else `$XDG_CONFIG_HOME/medvox`, else `~/.config/medvox`), then the
 * files shipped with medvox. Templates override file by file; the rules file section by section (docs/metadata.md).
 */
import { existsSync } from 'node:fs';
import { readdir, readFile, writeFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { basename, join } from 'node:path';
import { MedvoxError } from '../core/errors.ts';
import { DEFAULT_MR_CONFIG_JSON, loadMrConfig, type MrCleanConfig } from '../core/metadata/mr-config.ts';
import { BUILT_IN_TEMPLATES, TemplateSet } from '../core/metadata/template.ts';
import { ensureDirectory } from './atomic.ts';

export const RULES_FILE_NAME = 'mr_clean_config.json';

/** The user config folder (it need not exist). */
export function userConfigDir(env: NodeJS.ProcessEnv = process.env): string {
  if (env.MEDVOX_CONFIG_DIR) return env.MEDVOX_CONFIG_DIR;
  if (env.XDG_CONFIG_HOME) return join(env.XDG_CONFIG_HOME, 'medvox');
  return join(homedir(), '.config', 'medvox');
}

async function readJson(path: string, code: 'TEMPLATE_INVALID' | 'RULES_INVALID'): Promise<unknown> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    throw new MedvoxError('IO_ERROR', `cannot read: ${(error as Error).message}`, { file: path, cause: error });
  }
  try {
    return JSON.parse(text.replace(/^\ufeff/, ''));
  } catch (error) {
    throw new MedvoxError(code, `(top level): not valid JSON: ${(error as Error).message}`, { file: path });
  }
}

/**
 * The templates in force: built-ins, overridden by the `*.json` files of `dirs` (later folders first, so the first
 * folder wins). `required` folders must exist (a --templates folder given by the user).
 */
export async function loadTemplates(dirs: ReadonlyArray<{ dir: string; required: boolean }>): Promise<TemplateSet> {
  const overrides: Array<{ name: string; source: string; json: unknown }> = [];
  for (const { dir, required } of [...dirs].reverse()) {
    if (!existsSync(dir)) {
      if (required) throw new MedvoxError('USAGE', 'the templates folder does not exist', { file: dir });
      continue;
    }
    const names = (await readdir(dir)).filter((name) => name.toLowerCase().endsWith('.json')).sort();
    for (const name of names) {
      const path = join(dir, name);
      overrides.push({
        name: basename(name, name.slice(-5)).toLowerCase(),
        source: path,
        json: await readJson(path, 'TEMPLATE_INVALID'),
      });
    }
  }
  return TemplateSet.build(overrides);
}

/** The MR rules in force: `file` when given (it must exist), else the user config folder's, else the built-in. */
export async function loadMrConfigFile(file: string | undefined, configDir?: string): Promise<MrCleanConfig> {
  if (file) {
    if (!existsSync(file)) throw new MedvoxError('USAGE', 'the MR rules file does not exist', { file });
    return loadMrConfig(await readJson(file, 'RULES_INVALID'), file);
  }
  if (configDir) {
    const path = join(configDir, RULES_FILE_NAME);
    if (existsSync(path)) return loadMrConfig(await readJson(path, 'RULES_INVALID'), path);
  }
  return loadMrConfig();
}

/** Copy the shipped templates and rules file into `dir` (templates/*.json, mr_clean_config.json) for editing. */
export async function writeDefaultConfig(dir: string): Promise<string[]> {
  const written: string[] = [];
  const templatesDir = join(dir, 'templates');
  await ensureDirectory(templatesDir);
  const write = async (path: string, json: unknown): Promise<void> => {
    if (existsSync(path))
      throw new MedvoxError('USAGE', 'already exists: not overwritten', { file: path, hint: 'move it away first' });
    await writeFile(path, `${JSON.stringify(json, null, 2)}\n`);
    written.push(path);
  };
  for (const [name, json] of Object.entries(BUILT_IN_TEMPLATES)) await write(join(templatesDir, `${name}.json`), json);
  await write(join(dir, RULES_FILE_NAME), DEFAULT_MR_CONFIG_JSON);
  return written;
}
