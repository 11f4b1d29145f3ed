/**
 * The NIfTI sidecar (`<name>.json`, documented in docs/sidecar.md): dcm2niix's BIDS summary fields, the source of
 * every slice, and the complete DICOM JSON model of the source instances (every attribute but the pixel data,
 * private tags and sequences included) so that NIfTI -> DICOM can rebuild the series with nothing lost.
 * Stored compactly: attributes equal in all instances once (`DicomCommon`), the others per instance.
 * DS / IS keep their exact text (`exactNumbers`), binary values are InlineBinary.
 */
import { type DicomJsonElement, type DicomJsonObject, datasetToJson } from '../dicom/json.ts';
import type { DicomFile } from '../dicom/model.ts';
import type { StackWarning } from '../geometry/stack.ts';
import { bidsSummary } from './bids.ts';

export const SIDECAR_VERSION = 1;

export interface SidecarSlice {
  SOPInstanceUID: string;
  /** Index into DicomPerInstance. */
  Instance: number;
  /** Frame of a multi-frame instance (0 for single-frame). */
  Frame: number;
  /** Voxel indices (k slice, t volume) of this frame in the NIfTI. */
  k: number;
  t: number;
  ImagePositionPatient: number[];
}

export interface Sidecar {
  ConversionSoftware: string;
  ConversionSoftwareVersion: string;
  MedvoxSidecarVersion: number;
  MedvoxWarnings: StackWarning[];
  /** Source transfer syntax of each instance is in DicomMetaPerInstance; this is the first one's. */
  SourceTransferSyntaxUID: string;
  Slices: SidecarSlice[];
  DicomMetaCommon: DicomJsonObject;
  DicomCommon: DicomJsonObject;
  DicomPerInstance: DicomJsonObject[];
  DicomMetaPerInstance: DicomJsonObject[];
  /** The scaling written into the NIfTI header: integer voxels with it are the original stored values. */
  MedvoxNifti?: { sclSlope: number; sclInter: number };
  [key: string]: unknown;
}

const PIXEL_TAGS = new Set(['7FE00010', '7FE00008', '7FE00009', '7FE00001', '7FE00002']);

function fullJson(file: DicomFile, meta: boolean): DicomJsonObject {
  const json = datasetToJson(meta ? file.meta : file.dataset, {
    exactNumbers: true,
    bulkDataThreshold: Number.POSITIVE_INFINITY,
  });
  for (const tag of PIXEL_TAGS) delete json[tag];
  return json;
}

/** Split per-instance JSON objects into the part all share and the differences. */
export function splitCommon(objects: DicomJsonObject[]): { common: DicomJsonObject; rest: DicomJsonObject[] } {
  const common: DicomJsonObject = {};
  const first = objects[0] ?? {};
  const serialised = objects.map(
    (object) => new Map(Object.entries(object).map(([tag, value]) => [tag, JSON.stringify(value)])),
  );
  for (const [tag, value] of Object.entries(first)) {
    const text = serialised[0]!.get(tag);
    if (serialised.every((entries) => entries.get(tag) === text)) common[tag] = value;
  }
  const rest = objects.map((object) => {
    const own: DicomJsonObject = {};
    for (const [tag, value] of Object.entries(object)) if (!(tag in common)) own[tag] = value;
    return own;
  });
  return { common, rest };
}

export interface SidecarInput {
  /** Source instances, in the order the Slices refer to them. */
  instances: DicomFile[];
  slices: SidecarSlice[];
  warnings: StackWarning[];
  version: string;
  nifti?: { sclSlope: number; sclInter: number };
}

export function buildSidecar(input: SidecarInput): Sidecar {
  const first = input.instances[0]!;
  const data = splitCommon(input.instances.map((file) => fullJson(file, false)));
  const meta = splitCommon(input.instances.map((file) => fullJson(file, true)));
  return {
    ...bidsSummary(first.dataset),
    ConversionSoftware: 'medvox',
    ConversionSoftwareVersion: input.version,
    MedvoxSidecarVersion: SIDECAR_VERSION,
    MedvoxWarnings: input.warnings,
    SourceTransferSyntaxUID: first.transferSyntaxUID,
    Slices: input.slices,
    DicomMetaCommon: meta.common,
    DicomCommon: data.common,
    DicomPerInstance: data.rest,
    DicomMetaPerInstance: meta.rest,
    ...(input.nifti ? { MedvoxNifti: input.nifti } : {}),
  };
}

/** The full DICOM JSON model of instance `index` (common + own attributes). */
export function instanceJson(sidecar: Sidecar, index: number): DicomJsonObject {
  return { ...sidecar.DicomCommon, ...(sidecar.DicomPerInstance[index] ?? {}) };
}

export function isSidecar(value: unknown): value is Sidecar {
  const object = value as Partial<Sidecar> | undefined;
  return Boolean(object && object.MedvoxSidecarVersion !== undefined && Array.isArray(object.DicomPerInstance));
}

export type { DicomJsonElement };
