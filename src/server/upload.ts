/**
 * Uploads: multipart parts are streamed to a staging folder under generated names (a client's file name is never
 * a path), checked whole before anything is stored (every DICOM parses and has its UIDs, zips are safe, NIfTI
 * headers read and the mask fits its image), and only then handed to a job. A bad upload is answered with a 4xx
 * and leaves nothing behind.
 */
import { createHash, randomUUID } from 'node:crypto';
import { type FileHandle, mkdir, open, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { FastifyRequest } from 'fastify';
import type { ImageModality } from '../core/dicom/image-instance.ts';
import { generateUid } from '../core/dicom/uid.ts';
import { MedvoxError, toMedvoxError } from '../core/errors.ts';
import { niftiShape } from '../core/nifti/index.ts';
import { detachFile } from '../io/dicom-file.ts';
import { readNiftiFile } from '../io/nifti-file.ts';
import { scanInputs } from '../io/scan.ts';
import { checkZip, type ZipLimits } from '../io/zip-check.ts';
import { checkInstance, rememberArrived } from '../ops/ingest.ts';
import type { Archive } from '../store/archive.ts';
import type { BlobRef, BlobStore } from '../store/types.ts';
import { FormDataParser, type FormEvent, formDataBoundary } from './form-data.ts';

export interface UploadLimits {
  /** Largest single file (bytes). */
  maxFileSize: number;
  /** Largest whole upload (bytes). */
  maxUploadSize: number;
  maxFiles: number;
  zip: ZipLimits;
}

interface StagedFile {
  field: string;
  path: string;
  kind: 'zip' | 'gzip' | 'other';
  /** The client's name, for messages only. */
  clientName: string;
}

export type StagedUpload =
  | {
      kind: 'dicom';
      staging: string;
      studies: string[];
      instances: number;
      stored: StoredPart[];
      hasStagedFiles: boolean;
    }
  | {
      kind: 'nifti';
      staging: string;
      image: string;
      mask?: string;
      modality: ImageModality;
      studyInstanceUID: string;
      patientName?: string;
      patientId?: string;
    };

const MODALITIES: Record<string, ImageModality> = { CT: 'CT', MR: 'MR', MRI: 'MR' };

async function sniff(path: string): Promise<StagedFile['kind']> {
  const handle = await open(path, 'r');
  try {
    const head = new Uint8Array(4);
    await handle.read(head, 0, 4, 0);
    if (head[0] === 0x50 && head[1] === 0x4b && head[2] === 0x03 && head[3] === 0x04) return 'zip';
    if (head[0] === 0x1f && head[1] === 0x8b) return 'gzip';
    return 'other';
  } finally {
    await handle.close();
  }
}

/** Parts smaller than this are checked in memory and go straight into the blob store; larger ones are staged. */
const IN_MEMORY = 64 * 1024 * 1024;
const MAX_WRITES_IN_FLIGHT = 16;
const MAX_FIELDS = 100;
/** Part buffers up to this size are kept for the next parts (larger ones are rare: let them go). */
const REUSED_BUFFER = 8 * 1024 * 1024;
const MAX_FIELD_SIZE = 1024 * 1024;

interface Received {
  staging: string;
  /** Staged files (zips, NIfTI, DICOM parts too large for memory). */
  files: StagedFile[];
  fields: Map<string, string>;
  /** DICOM parts checked on arrival and stored as blobs (the job indexes them). */
  stored: StoredPart[];
}

export interface StoredPart {
  key: string;
  size: number;
  name: string;
  studyInstanceUID: string;
}

/** One file part while it arrives. */
interface OpenPart {
  field: string;
  clientName: string;
  chunks: Buffer[];
  size: number;
  /** Where a part larger than IN_MEMORY goes (written as it arrives). */
  spill?: FileHandle;
  base: string;
}

/**
 * Receive the multipart/form-data body (our streaming parser over the raw request: form-data.ts). A DICOM part is
 * parsed and checked as soon as it has arrived, then hashed and written once, into the blob store, by the blob
 * writer threads while the next parts arrive; zips, NIfTI files and very large parts go to a staging folder.
 * `created` collects the blobs this upload wrote, so a refused upload can remove them.
 */
async function receive(
  request: FastifyRequest,
  body: { boundary: string } | { single: string },
  stagingRoot: string,
  blobs: BlobStore,
  limits: UploadLimits,
  created: string[],
): Promise<Received> {
  const staging = join(stagingRoot, randomUUID());
  const received: Received = { staging, files: [], fields: new Map(), stored: [] };
  let total = 0;
  let count = 0;
  let fields = 0;
  const slots: Array<StoredPart | undefined> = [];
  const inFlight = new Set<Promise<void>>();
  const free: Uint8Array[] = [];
  let part: OpenPart | undefined;
  let field: { name: string; chunks: Buffer[]; size: number } | undefined;
  await mkdir(staging, { recursive: true });

  const openPart = (event: Extract<FormEvent, { type: 'part' }>): void => {
    if (event.filename === undefined) {
      if (++fields > MAX_FIELDS) throw new MedvoxError('BAD_REQUEST', `more than ${MAX_FIELDS} form fields`);
      field = { name: event.name, chunks: [], size: 0 };
      return;
    }
    if (++count > limits.maxFiles)
      throw new MedvoxError('UPLOAD_TOO_LARGE', `more than ${limits.maxFiles} files in one upload`);
    part = {
      field: event.name,
      clientName: event.filename || event.name,
      chunks: [],
      size: 0,
      base: join(staging, String(count).padStart(6, '0')),
    };
  };

  const data = async (bytes: Buffer): Promise<void> => {
    total += bytes.length;
    if (total > limits.maxUploadSize) {
      throw new MedvoxError('UPLOAD_TOO_LARGE', `the upload is over ${limits.maxUploadSize} bytes`, {
        hint: 'split the upload or raise --max-upload',
      });
    }
    if (field) {
      field.size += bytes.length;
      if (field.size > MAX_FIELD_SIZE) throw new MedvoxError('BAD_REQUEST', `form field ${field.name} is over 1 MiB`);
      field.chunks.push(bytes);
      return;
    }
    if (!part) return;
    part.size += bytes.length;
    if (part.size > limits.maxFileSize) {
      throw new MedvoxError('UPLOAD_TOO_LARGE', `file "${part.clientName}" is over ${limits.maxFileSize} bytes`, {
        hint: 'raise --max-file-size or split the data',
      });
    }
    if (part.spill) await part.spill.write(bytes);
    else {
      part.chunks.push(bytes);
      if (part.size > IN_MEMORY) {
        part.spill = await open(`${part.base}.part`, 'w');
        await part.spill.writev(part.chunks);
        part.chunks = [];
      }
    }
  };

  const close = async (): Promise<void> => {
    if (field) {
      received.fields.set(field.name, Buffer.concat(field.chunks).toString('utf8'));
      field = undefined;
      return;
    }
    const done = part;
    part = undefined;
    if (!done) return;
    if (done.spill) {
      await done.spill.close();
      done.spill = undefined;
      const kind = await sniff(`${done.base}.part`);
      const named = `${done.base}${kind === 'zip' ? '.zip' : kind === 'gzip' ? '.gz' : '.dcm'}`;
      await rename(`${done.base}.part`, named);
      received.files.push({ field: done.field, path: named, kind, clientName: done.clientName });
      return;
    }
    // One copy, into a buffer of its own (it is handed whole to a blob writer thread, which gives it back for the
    // next part: no fresh memory, and no page faults, per part).
    const reused = free.findIndex((buffer) => buffer.byteLength >= done.size);
    const buffer = reused >= 0 ? free.splice(reused, 1)[0]!.buffer : Buffer.allocUnsafeSlow(done.size).buffer;
    const bytes = new Uint8Array(buffer, 0, done.size);
    let offset = 0;
    for (const chunk of done.chunks) {
      bytes.set(chunk, offset);
      offset += chunk.length;
    }
    const kind = kindOf(bytes);
    const nifti = done.field === 'image_file' || done.field === 'mask_file';
    if (kind !== 'other' || nifti) {
      const named = `${done.base}${kind === 'zip' ? '.zip' : kind === 'gzip' ? '.gz' : '.bin'}`;
      await writeFile(named, bytes);
      received.files.push({ field: done.field, path: named, kind, clientName: done.clientName });
      return;
    }
    const checked = checkInstance(bytes, done.clientName);
    const { studyInstanceUID } = checked;
    // Its values copied out of `bytes` (which goes to a writer thread): the import job indexes it from memory.
    detachFile(checked.file);
    const position = slots.length;
    slots.push(undefined);
    const stored: Promise<BlobRef & { buffer?: Uint8Array }> = blobs.putTransfer
      ? blobs.putTransfer(bytes)
      : blobs.put(bytes, createHash('sha256').update(bytes).digest('hex'));
    const write = stored.then((blob) => {
      if (blob.buffer && blob.buffer.byteLength <= REUSED_BUFFER && free.length < MAX_WRITES_IN_FLIGHT)
        free.push(blob.buffer);
      if (blob.created) created.push(blob.key);
      slots[position] = { key: blob.key, size: blob.size, name: done.clientName, studyInstanceUID };
      rememberArrived({ ...checked, blob: { key: blob.key, size: blob.size } });
    });
    inFlight.add(write);
    void write.catch(() => undefined).finally(() => inFlight.delete(write));
    if (inFlight.size >= MAX_WRITES_IN_FLIGHT) await Promise.race(inFlight);
  };

  try {
    if ('boundary' in body) {
      const parser = new FormDataParser(body.boundary);
      for await (const chunk of request.raw as AsyncIterable<Buffer>) {
        for (const event of parser.push(chunk)) {
          if (event.type === 'part') openPart(event);
          else if (event.type === 'data') await data(event.bytes);
          else await close();
        }
        if (parser.finished) break;
      }
      parser.finish();
    } else {
      // One file as the whole body: application/octet-stream arrives parsed (a Buffer), the others as a stream.
      openPart({ type: 'part', name: 'files', filename: body.single, contentType: undefined });
      if (Buffer.isBuffer(request.body)) await data(request.body);
      else for await (const chunk of request.raw as AsyncIterable<Buffer>) await data(chunk);
      await close();
    }
    await Promise.all(inFlight);
    received.stored = slots.filter((slot): slot is StoredPart => slot !== undefined);
  } catch (error) {
    await part?.spill?.close();
    await Promise.allSettled(inFlight);
    await rm(staging, { recursive: true, force: true });
    throw error;
  }
  return received;
}

function kindOf(head: Uint8Array): StagedFile['kind'] {
  if (head[0] === 0x50 && head[1] === 0x4b && head[2] === 0x03 && head[3] === 0x04) return 'zip';
  if (head[0] === 0x1f && head[1] === 0x8b) return 'gzip';
  return 'other';
}

/** Content types of an upload that is one file, the whole body (a DICOM instance, or a zip of them). */
export const SINGLE_FILE_TYPES =
  /^(application\/dicom|application\/zip|application\/x-zip-compressed|application\/octet-stream)\s*(;|$)/i;

/** A single-file upload's name for messages: Content-Disposition's filename, else `upload`. */
function singleFileName(request: FastifyRequest): string {
  const disposition = request.headers['content-disposition'] ?? '';
  return /filename="?([^";]+)"?/i.exec(disposition)?.[1] ?? 'upload';
}

/** Receive and check an upload: DICOM files / zips, or the NIfTI form (image_file, mask_file, radiography_type). */
export async function stageUpload(
  request: FastifyRequest,
  archive: Pick<Archive, 'staging' | 'blobs'>,
  limits: UploadLimits,
): Promise<StagedUpload> {
  const contentType = request.headers['content-type'];
  const boundary = formDataBoundary(contentType);
  const single = boundary === undefined && SINGLE_FILE_TYPES.test(contentType ?? '');
  if (boundary === undefined && !single) {
    throw new MedvoxError(
      'BAD_REQUEST',
      'an upload is a multipart/form-data request (with a boundary), or one file sent as application/dicom, application/zip or application/octet-stream',
      { hint: 'send files as form fields (curl -F file=@image.dcm) or one file as the body (curl --data-binary)' },
    );
  }
  const created: string[] = [];
  let received: Received | undefined;
  try {
    received = await receive(
      request,
      boundary === undefined ? { single: singleFileName(request) } : { boundary },
      archive.staging,
      archive.blobs,
      limits,
      created,
    );
    const { staging, files, fields, stored } = received;
    if (files.length === 0 && stored.length === 0) throw new MedvoxError('BAD_REQUEST', 'the upload holds no file');
    const image = files.find((file) => file.field === 'image_file');
    if (image)
      return await checkNifti(
        staging,
        image,
        files.find((file) => file.field === 'mask_file'),
        fields,
      );
    return await checkDicom(staging, files, stored, limits);
  } catch (error) {
    if (received) await rm(received.staging, { recursive: true, force: true });
    for (const key of created) await archive.blobs.delete(key);
    throw error;
  }
}

async function checkDicom(
  staging: string,
  files: StagedFile[],
  stored: StoredPart[],
  limits: UploadLimits,
): Promise<StagedUpload> {
  const studies = new Set<string>(stored.map((part) => part.studyInstanceUID));
  let instances = stored.length;
  for (const file of files) {
    if (file.kind === 'zip') await checkZip(file.path, file.clientName, limits.zip);
    for await (const input of scanInputs([file.path])) {
      const shown = file.kind === 'zip' ? `${file.clientName}!/${input.name.split('!/')[1]}` : file.clientName;
      let bytes: Uint8Array;
      try {
        bytes = await input.read();
      } catch (error) {
        throw new MedvoxError('ZIP_UNSAFE', `cannot read ${shown}: ${(error as Error).message}`, { file: shown });
      }
      const checked = checkInstance(bytes, shown);
      studies.add(checked.studyInstanceUID);
      instances++;
    }
  }
  if (instances === 0) throw new MedvoxError('NOT_DICOM', 'the upload holds no DICOM file');
  return { kind: 'dicom', staging, studies: [...studies], instances, stored, hasStagedFiles: files.length > 0 };
}

async function checkNifti(
  staging: string,
  image: StagedFile,
  mask: StagedFile | undefined,
  fields: Map<string, string>,
): Promise<StagedUpload> {
  const requested = (fields.get('radiography_type') ?? fields.get('modality') ?? 'CT').trim().toUpperCase();
  const modality = MODALITIES[requested];
  if (!modality) {
    throw new MedvoxError('BAD_REQUEST', `radiography_type "${requested}" is not one of CT, MR`, {
      hint: 'radiography_type=CT or MR',
    });
  }
  const rename2 = async (file: StagedFile, base: string): Promise<string> => {
    const target = join(staging, file.kind === 'gzip' ? `${base}.nii.gz` : `${base}.nii`);
    await rename(file.path, target);
    return target;
  };
  const imagePath = await rename2(image, 'image');
  const imageNifti = await readNiftiFile(imagePath).catch((error: unknown) => {
    throw toMedvoxError(error, image.clientName).withFile(image.clientName);
  });
  const imageShape = niftiShape(imageNifti.header);
  let maskPath: string | undefined;
  if (mask) {
    maskPath = await rename2(mask, 'mask');
    const maskNifti = await readNiftiFile(maskPath).catch((error: unknown) => {
      throw toMedvoxError(error, mask.clientName).withFile(mask.clientName);
    });
    const maskShape = niftiShape(maskNifti.header);
    const spatial = (shape: number[]) => [...shape.slice(0, 3)].sort((a, b) => a - b).join('x');
    if (spatial(maskShape) !== spatial(imageShape) || maskShape.slice(3).some((size) => size !== 1)) {
      throw new MedvoxError(
        'GRID_MISMATCH',
        `the mask is ${maskShape.join('x')}, the image ${imageShape.join('x')}: the mask does not fit its image`,
        { file: mask.clientName, hint: 'resample the mask onto the image grid first' },
      );
    }
  }
  return {
    kind: 'nifti',
    staging,
    image: imagePath,
    mask: maskPath,
    modality,
    studyInstanceUID: generateUid(),
    patientName: fields.get('patient_name'),
    patientId: fields.get('patient_id'),
  };
}
