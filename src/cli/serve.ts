/** `medvox serve`, `medvox import DIR`, `medvox demo`: the workbench server and its archive from the command line. */
import { resolve } from 'node:path';
import type { Command } from 'commander';
import { MedvoxError } from '../core/errors.ts';

function port(value: string): number {
  const parsed = Number(value);
  if (!Number.isInteger(parsed) || parsed < 0 || parsed > 65535)
    throw new MedvoxError('USAGE', `--port must be 0..65535 (got ${value})`);
  return parsed;
}

function bytes(value: string): number {
  const match = /^(\d+(?:\.\d+)?)\s*([kmgt]?)i?b?$/i.exec(value.trim());
  if (!match) throw new MedvoxError('USAGE', `not a size: ${value} (e.g. 512M, 2G)`);
  const scale = { '': 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3, t: 1024 ** 4 }[match[2]!.toLowerCase()] ?? 1;
  return Math.round(Number(match[1]) * scale);
}

export function registerServe(program: Command): void {
  program
    .command('serve')
    .description(
      'start the workbench: REST API, DICOMweb, uploads and background jobs (imports the demo study into an empty archive)',
    )
    .option('--port <port>', 'port to listen on', port, 8080)
    .option('--host <host>', 'address to bind (anything but loopback needs --token)', '127.0.0.1')
    .option('--data <dir>', 'archive folder (index + blobs)', './medvox-data')
    .option('--token <token>', 'require Authorization: Bearer <token> on every request (default: MEDVOX_TOKEN)')
    .option('--max-file-size <size>', 'largest uploaded file', bytes, 1024 ** 3)
    .option('--max-upload <size>', 'largest upload (all files of one request)', bytes, 4 * 1024 ** 3)
    .option('--no-demo', 'do not import the demo study into an empty archive')
    .option('--jobs <n>', 'jobs run at once', (value) => Number(value), 2)
    .option('--log', 'log every request')
    .option('--templates <dir>', 'metadata downloads: tag templates overriding the built-in ones (docs/metadata.md)')
    .option('--mr-config <file>', 'metadata downloads: MR normalisation rules (mr_clean_config.json)')
    .action(
      async (options: {
        port: number;
        host: string;
        data: string;
        token?: string;
        maxFileSize: number;
        maxUpload: number;
        demo: boolean;
        jobs: number;
        log?: boolean;
        templates?: string;
        mrConfig?: string;
      }) => {
        const { startServer } = await import('../server/serve.ts');
        const server = await startServer({
          port: options.port,
          host: options.host,
          data: options.data,
          token: options.token,
          demo: options.demo,
          concurrency: options.jobs,
          limits: { maxFileSize: options.maxFileSize, maxUploadSize: options.maxUpload },
          logger: options.log,
          ...(options.templates ? { templates: resolve(options.templates) } : {}),
          ...(options.mrConfig ? { mrConfig: resolve(options.mrConfig) } : {}),
        });
        process.stdout.write(`medvox serving ${resolve(options.data)} at ${server.url}\n`);
        if (server.requeued.length > 0)
          process.stdout.write(`re-queued ${server.requeued.length} interrupted job(s)\n`);
        if (server.demoJob) process.stdout.write('empty archive: importing the demo study\n');
        const stop = async (): Promise<void> => {
          await server.close();
          process.exit(0);
        };
        process.once('SIGINT', () => void stop());
        process.once('SIGTERM', () => void stop());
      },
    );

  program
    .command('import')
    .description('import DICOM files, folders and zips into the archive (duplicates are recognised)')
    .argument('<inputs...>', 'files, folders or zip archives')
    .option('--data <dir>', 'archive folder', './medvox-data')
    .action(async (inputs: string[], options: { data: string }) => {
      const { openArchive } = await import('../store/archive.ts');
      const { JobRunner } = await import('../jobs/runner.ts');
      const { JOB_HANDLERS } = await import('../jobs/handlers.ts');
      const archive = await openArchive(resolve(options.data));
      const runner = new JobRunner(archive, JOB_HANDLERS);
      try {
        const job = runner.submit('import', { inputs: inputs.map((input) => resolve(input)) });
        // Said as soon as every instance is stored and indexed (the viewer volumes are built after that).
        const started = performance.now();
        runner.on('event', (event: { jobId: string; step: string }) => {
          if (event.jobId === job.id && event.step === 'instances stored')
            process.stdout.write(
              `instances stored and indexed in ${((performance.now() - started) / 1000).toFixed(2)} s; building the viewer volumes\n`,
            );
        });
        await runner.start();
        const done = await runner.waitFor(job.id);
        if (done.state !== 'done') {
          throw new MedvoxError((done.error?.code as 'INTERNAL') ?? 'INTERNAL', done.error?.message ?? 'import failed');
        }
        const result = done.result as {
          stored: number;
          duplicates: number;
          notDicom: string[];
          failed: Array<{ message: string }>;
          studies: string[];
        };
        for (const failure of result.failed) process.stderr.write(`${failure.message}\n`);
        process.stdout.write(
          `stored ${result.stored}, duplicates ${result.duplicates}, not DICOM ${result.notDicom.length}, failed ${result.failed.length}; studies: ${result.studies.length}\n`,
        );
        if (result.failed.length > 0) process.exitCode = 1;
      } finally {
        await runner.close();
        archive.close();
      }
    });

  program
    .command('demo')
    .description('write the demo study (synthetic phantom CT + multi-label DICOM-SEG) as DICOM files')
    .option('--output <dir>', 'output folder', './medvox-demo')
    .action(async (options: { output: string }) => {
      const { writeDemo } = await import('../ops/demo.ts');
      const result = await writeDemo({ output: resolve(options.output) });
      process.stdout.write(
        `wrote ${result.files.length} files to ${resolve(options.output)} (study ${result.studyInstanceUID})\n`,
      );
    });
}
