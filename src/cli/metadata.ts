/** `medvox metadata --input DIR --output report.xlsx`: the metadata workbook (docs/metadata.md). */
import { join } from 'node:path';
import type { Command } from 'commander';
import { MedvoxError } from '../core/errors.ts';
import { loadMrConfigFile, loadTemplates, userConfigDir, writeDefaultConfig } from '../io/metadata-config.ts';
import type { ReportFormat } from '../io/report-sink.ts';
import { type MetadataProgress, metadataReport } from '../ops/metadata-report.ts';

interface MetadataFlags {
  input?: string[];
  output?: string;
  format?: string;
  study?: string;
  templates?: string;
  mrConfig?: string;
  initConfig?: string | boolean;
}

async function progressBar(): Promise<{ update: (progress: MetadataProgress) => void; stop: () => void }> {
  if (!process.stderr.isTTY) return { update: () => {}, stop: () => {} };
  // Loaded only on a terminal (start-up counts for small reports).
  const { SingleBar } = await import('cli-progress');
  const bar = new SingleBar({
    format: ' reading headers [{bar}] {value}/{total}',
    hideCursor: true,
    stream: process.stderr,
  });
  let started = false;
  return {
    update: (progress) => {
      if (progress.phase !== 'read') return;
      if (!started) {
        bar.start(progress.total, 0);
        started = true;
      }
      bar.update(progress.done);
    },
    stop: () => started && bar.stop(),
  };
}

export async function runMetadata(flags: MetadataFlags): Promise<number> {
  const configDir = userConfigDir();
  if (flags.initConfig) {
    const dir = typeof flags.initConfig === 'string' ? flags.initConfig : configDir;
    for (const path of await writeDefaultConfig(dir)) process.stdout.write(`${path}\n`);
    return 0;
  }
  if (!flags.input?.length) {
    const hint = flags.study
      ? 'the archive is not built yet: give the folder holding the study with --input, and --study to pick it'
      : 'medvox metadata --help';
    throw new MedvoxError('USAGE', '--input is required', { hint });
  }
  let format: ReportFormat | undefined;
  if (flags.format) {
    if (!['xlsx', 'csv', 'json'].includes(flags.format))
      throw new MedvoxError('USAGE', `--format must be xlsx, csv or json, not ${flags.format}`);
    format = flags.format as ReportFormat;
  }
  const output =
    flags.output ?? (format === 'csv' ? 'metadata' : format === 'json' ? 'metadata.json' : 'metadata.xlsx');
  const templates = await loadTemplates([
    ...(flags.templates ? [{ dir: flags.templates, required: true }] : []),
    { dir: join(configDir, 'templates'), required: false },
  ]);
  const mrConfig = await loadMrConfigFile(flags.mrConfig, configDir);
  const progress = await progressBar();
  const result = await metadataReport({
    inputs: flags.input,
    output,
    templates,
    mrConfig,
    ...(format ? { format } : {}),
    ...(flags.study ? { studyInstanceUID: flags.study } : {}),
    onProgress: progress.update,
  });
  progress.stop();
  for (const path of result.outputs) process.stdout.write(`${path}\n`);
  process.stdout.write(
    `${result.instances} instances, ${result.series} series, ${result.mrRows} MR_Cleaned rows (templates: ${result.templates.join(', ') || 'none'}; MR rules: ${result.rulesSource})\n`,
  );
  if (flags.study && result.instances === 0)
    process.stderr.write(`no instance of study ${flags.study} in ${flags.input.join(', ')}\n`);
  for (const name of result.notDicom) process.stderr.write(`ignored (not DICOM): ${name}\n`);
  for (const error of result.errors) process.stderr.write(`${error.describe()}\n`);
  if (result.errors.length === 0) return 0;
  return result.instances > 0 ? 1 : Math.max(...result.errors.map((error) => error.exitCode));
}

export function registerMetadata(program: Command): void {
  program
    .command('metadata')
    .description('metadata report: a workbook with DICOM_Metadata, Series_Summary and MR_Cleaned sheets')
    .option('-i, --input <paths...>', 'input folders, files or zip archives (scanned recursively)')
    .option('-o, --output <path>', 'the .xlsx / .json file, or the folder for --format csv (default metadata.xlsx)')
    .option('--format <xlsx|csv|json>', 'output format (default: json for a .json output, else xlsx)')
    .option('--study <uid>', 'only the instances of this StudyInstanceUID')
    .option(
      '--templates <dir>',
      'folder of tag templates (mr.json, ct.json, dx.json, mg.json, default.json, <modality>.json) overriding the built-in ones file by file',
    )
    .option(
      '--mr-config <file>',
      'MR normalisation rules (mr_clean_config.json); its sections replace the built-in ones',
    )
    .option(
      '--init-config [dir]',
      'write the built-in templates and rules file into DIR (default: the user config folder) for editing, then exit',
    )
    .addHelpText(
      'after',
      `
Configuration:
  Templates and rules are read from --templates / --mr-config, then from the user config folder
  ($MEDVOX_CONFIG_DIR, else $XDG_CONFIG_HOME/medvox, else ~/.config/medvox: templates/*.json and
  mr_clean_config.json), then from the built-in files. Formats: docs/metadata.md.

Examples:
  medvox metadata --input ./dicom --output report.xlsx
  medvox metadata --input ./archive --study 1.2.840.113619.2.1 --output study.xlsx
  medvox metadata --input ./dicom --format csv --output ./report-csv
  medvox metadata --init-config            (then edit ~/.config/medvox/templates/mr.json)`,
    )
    .action(async (flags: MetadataFlags) => {
      process.exitCode = await runMetadata(flags);
    });
}
