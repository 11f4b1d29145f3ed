/**
 * The jobs the workbench runs. `import`: DICOM files / folders / zips -> archive, volumes, labelmaps.
 * `nifti`: a NIfTI image (+ optional labelmap) -> a new DICOM series + DICOM-SEG + volumes + previews, one job
 * (the original viewer's upload). Each reports percent + step; each can be re-run after a restart (the runner
 * purges what the interrupted run stored first).
 */
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { setImmediate as yieldToEventLoop } from 'node:timers/promises';
import type { ImageModality } from '../core/dicom/image-instance.ts';
import { MedvoxError } from '../core/errors.ts';
import { checkInstance, ingestFiles, storeInstances } from '../ops/ingest.ts';
import type { JobContext, JobHandler } from './runner.ts';

// The volume, SEG and NIfTI code is loaded when a job first needs it: `medvox import` stores and indexes every
// instance before it builds a volume, and does not wait for those modules to load first.
const derivations = () => import('../ops/archive-derive.ts');

export interface ImportParams {
  /** Files, folders or zips to ingest. */
  inputs: string[];
  /** Instances an upload already wrote to the blob store (checked on arrival): indexed, not written again. */
  blobs?: Array<{ key: string; size: number; name: string }>;
  /** Staging folder of an upload (removed when the job ends). */
  staging?: string;
  /** Render every slice's preview (as the NIfTI upload does); else previews are rendered when asked for. */
  previews?: boolean;
}

export interface NiftiParams {
  staging: string;
  image: string;
  mask?: string;
  modality: ImageModality;
  studyInstanceUID: string;
  patientName?: string;
  patientId?: string;
  seriesDescription?: string;
}

function checkCancelled(context: JobContext): void {
  if (context.signal.aborted) throw new MedvoxError('CANCELLED', 'the job was cancelled');
}

/** Volumes + labelmaps of what an ingest touched; percent runs from `from` to `to`. */
async function derive(
  context: JobContext,
  series: string[],
  studies: string[],
  from: number,
  to: number,
): Promise<{ volumes: string[]; labelmaps: string[]; warnings: string[] }> {
  const { archive, job } = context;
  const { buildLabelmaps, buildSeriesVolumes } = await derivations();
  const volumes: string[] = [];
  const warnings: string[] = [];
  for (const [n, uid] of series.entries()) {
    checkCancelled(context);
    context.progress(from + ((to - from) * 0.9 * n) / Math.max(series.length, 1), `volume ${n + 1}/${series.length}`);
    try {
      const rows = await buildSeriesVolumes(archive, uid, { jobId: job.id, decodePool: context.decodePool });
      volumes.push(...rows.map((row) => row.id));
    } catch (error) {
      warnings.push(`series ${uid}: ${(error as Error).message}`);
    }
  }
  const labelmaps: string[] = [];
  for (const study of studies) {
    context.progress(from + (to - from) * 0.9, 'segmentations');
    const built = await buildLabelmaps(archive, study, { jobId: job.id });
    labelmaps.push(...built.volumes.map((row) => row.id));
    warnings.push(...built.warnings);
  }
  context.progress(to, 'volumes built');
  return { volumes, labelmaps, warnings };
}

export const importJob: JobHandler = async (context) => {
  const params = context.job.params as unknown as ImportParams;
  context.progress(0, 'reading files');
  const { archive } = context;
  const fromBlobs = (params.blobs ?? []).map(({ key, size, name }) => ({
    name,
    size,
    blob: { key, size },
    read: () => archive.blobs.get(key),
  }));
  const blobShare = fromBlobs.length > 0 && params.inputs.length > 0 ? 30 : fromBlobs.length > 0 ? 60 : 0;
  const ingested = await ingestFiles(archive, fromBlobs, {
    jobId: context.job.id,
    signal: context.signal,
    onProgress: ({ done, total }) =>
      context.progress((blobShare * done) / Math.max(total, 1), `stored ${done}/${total} files`),
  });
  if (params.inputs.length > 0) {
    const more = await ingestFiles(archive, params.inputs, {
      jobId: context.job.id,
      signal: context.signal,
      onProgress: ({ done, total }) =>
        context.progress(blobShare + ((60 - blobShare) * done) / Math.max(total, 1), `stored ${done}/${total} files`),
    });
    ingested.stored += more.stored;
    ingested.duplicates += more.duplicates;
    ingested.notDicom.push(...more.notDicom);
    ingested.failed.push(...more.failed);
    ingested.instances.push(...more.instances);
    ingested.studies = [...new Set([...ingested.studies, ...more.studies])];
    ingested.series = [...new Set([...ingested.series, ...more.series])];
  }
  context.progress(60, 'instances stored');
  // Let the event go out (SSE, the CLI) before the volumes, whose assembly holds the thread for a while.
  await yieldToEventLoop();
  const storedSeries = new Set(ingested.instances.filter((i) => !i.duplicate).map((i) => i.seriesInstanceUID));
  const missingVolume = ingested.series.filter(
    (uid) => context.archive.index.volumes({ seriesInstanceUID: uid }).length === 0,
  );
  const derived = await derive(
    context,
    [...new Set([...storedSeries, ...missingVolume])],
    ingested.studies,
    60,
    params.previews ? 80 : 100,
  );
  let previews = 0;
  if (params.previews) {
    const { storePreviews } = await derivations();
    for (const study of ingested.studies) {
      previews += await storePreviews(context.archive, study, {
        jobId: context.job.id,
        signal: context.signal,
        onProgress: (done, total) => context.progress(80 + (20 * done) / total, `preview ${done}/${total}`),
      });
    }
  }
  return {
    stored: ingested.stored,
    duplicates: ingested.duplicates,
    notDicom: ingested.notDicom,
    failed: ingested.failed.map((error) => ({ code: error.code, message: error.describe() })),
    studies: ingested.studies,
    series: ingested.series,
    volumes: derived.volumes,
    labelmaps: derived.labelmaps,
    previews,
    warnings: derived.warnings,
  };
};

export const niftiJob: JobHandler = async (context) => {
  const params = context.job.params as unknown as NiftiParams;
  const { archive, job } = context;
  const [
    { writeDicom },
    { writeFileAtomic },
    { readNiftiFile },
    { storePreviews },
    { maskToSeg },
    { seriesFromNifti },
  ] = await Promise.all([
    import('../core/dicom/writer.ts'),
    import('../io/atomic.ts'),
    import('../io/nifti-file.ts'),
    derivations(),
    import('../ops/mask-to-seg.ts'),
    import('../ops/nifti-to-series.ts'),
  ]);
  context.progress(2, 'reading the NIfTI image');
  const image = await readNiftiFile(params.image);
  checkCancelled(context);
  context.progress(10, 'building the DICOM series');
  const { files } = seriesFromNifti(
    image,
    {
      modality: params.modality,
      studyInstanceUID: params.studyInstanceUID,
      patientName: params.patientName ?? 'Anonymous',
      patientId: params.patientId ?? `MEDVOX-${params.studyInstanceUID.slice(-8)}`,
      seriesDescription: params.seriesDescription ?? 'NIfTI upload',
    },
    params.image,
  );
  const seriesDir = join(params.staging, `series-${job.attempts}`);
  await mkdir(seriesDir, { recursive: true });
  const checked = [];
  for (const [k, file] of files.entries()) {
    checkCancelled(context);
    const bytes = writeDicom(file);
    const path = join(seriesDir, `${String(k + 1).padStart(5, '0')}.dcm`);
    await writeFileAtomic(path, bytes);
    checked.push(checkInstance(bytes, path));
    context.progress(10 + (25 * (k + 1)) / files.length, `slice ${k + 1}/${files.length}`);
  }
  await storeInstances(archive, checked, { jobId: job.id });
  const seriesUIDs = [checked[0]!.seriesInstanceUID];
  let segmentation: Record<string, unknown> | undefined;
  if (params.mask) {
    checkCancelled(context);
    context.progress(40, 'building the DICOM-SEG');
    const output = join(params.staging, `seg-${job.attempts}.dcm`);
    const seg = await maskToSeg({ image: seriesDir, mask: params.mask, output, autoLabel: true });
    const ingested = await ingestFiles(archive, [output], { jobId: job.id });
    if (ingested.failed.length > 0) throw ingested.failed[0]!;
    seriesUIDs.push(seg.seriesInstanceUID);
    segmentation = { sopInstanceUID: seg.sopInstanceUID, segments: seg.segments.length, warnings: seg.warnings };
  }
  const derived = await derive(context, seriesUIDs, [params.studyInstanceUID], 55, 75);
  const previews = await storePreviews(archive, params.studyInstanceUID, {
    jobId: job.id,
    signal: context.signal,
    onProgress: (done, total) => context.progress(75 + (25 * done) / total, `preview ${done}/${total}`),
  });
  return {
    studyInstanceUID: params.studyInstanceUID,
    seriesInstanceUID: seriesUIDs[0],
    instances: files.length,
    segmentation,
    volumes: derived.volumes,
    labelmaps: derived.labelmaps,
    previews,
    warnings: derived.warnings,
  };
};

export const JOB_HANDLERS: Record<string, JobHandler> = { import: importJob, nifti: niftiJob };

/** Volumes and labelmaps for series stored without a job (STOW-RS). */
export const deriveJob: JobHandler = async (context) => {
  const { series, studies } = context.job.params as unknown as { series: string[]; studies: string[] };
  return derive(context, series, studies, 0, 100);
};

JOB_HANDLERS.derive = deriveJob;
