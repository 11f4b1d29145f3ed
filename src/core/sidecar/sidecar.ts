/**
 * The NIfTI sidecar (`<name>.json`, documented in docs/sidecar.md): dcm2niix's BIDS summary fields, the source of
 * every slice, and the complete DICOM JSON model of the source instances (every attribute but the pixel data,
 * private tags and sequences included) so that NIfTI -> DICOM can rebuild the series with nothing lost.
 * Stored compactly: attributes equal in all instances once (`DicomCommon`), the others per instance.
 * DS / IS keep their exact text (`exactNumbers`), binary values are InlineBinary.
 */
import { type DicomJsonElement, type DicomJsonObject, elementJson, selectedToJson } from '../dicom/json.ts';
import type { DataElement, Dataset, DicomFile } from '../dicom/model.ts';
import type { StackWarning } from '../geometry/stack.ts';
import { bidsSummary } from './bids.ts';

export const SIDECAR_VERSION = 1;

export interface SidecarSlice {
  SOPInstanceUID: string;
  /** Index into DicomPerInstance. */
  Instance: number;
  /** Frame of a multi-frame instance (0 for single-frame). */
  Frame: number;
  /** Tile of a Siemens mosaic frame (0-based; mosaics only). */
  Tile?: number;
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
  /** Which pixel element the sources hold, when not Pixel Data: float images come back as float (absent: PixelData). */
  SourcePixelData?: 'FloatPixelData' | 'DoubleFloatPixelData';
  Slices: SidecarSlice[];
  DicomMetaCommon: DicomJsonObject;
  DicomCommon: DicomJsonObject;
  DicomPerInstance: DicomJsonObject[];
  DicomMetaPerInstance: DicomJsonObject[];
  /** The scaling written into the NIfTI header: integer voxels with it are the original stored values. */
  MedvoxNifti?: { sclSlope: number; sclInter: number };
  [key: string]: unknown;
}

/** Pixel Data and its offset tables: in the NIfTI, not in the sidecar. */
const PIXEL_TAGS = new Set([0x7fe00010, 0x7fe00008, 0x7fe00009, 0x7fe00001, 0x7fe00002]);
const JSON_OPTIONS = { exactNumbers: true, bulkDataThreshold: Number.POSITIVE_INFINITY };

/**
 * Split datasets into the JSON of the attributes all share and the JSON of the others, per dataset. Attributes
 * whose bytes are identical everywhere (under one character set) are shared without encoding each copy; the rest
 * are compared by their JSON, so that the result is what comparing every attribute's JSON would give, only faster.
 */
export function splitCommonDatasets(datasets: Dataset[]): { common: DicomJsonObject; rest: DicomJsonObject[] } {
  const first = datasets[0];
  if (!first) return { common: {}, rest: [] };
  const charset = first.characterSet.join('\\');
  const sameCharset = datasets.every((dataset) => dataset.characterSet.join('\\') === charset);
  const shared = new Set<number>();
  for (const element of first.elements.values()) {
    if (PIXEL_TAGS.has(element.tag)) continue;
    if (sameCharset && datasets.every((dataset) => sameElement(dataset.get(element.tag), element))) {
      shared.add(element.tag);
      continue;
    }
    // Equal bytes or not, equal JSON is shared (padding, say). Compared one instance at a time: a value that differs
    // (a UID, a position) usually does so at the second instance, and the others need not be encoded.
    const text = (dataset: Dataset): string => JSON.stringify(elementJson(dataset, element.tag, JSON_OPTIONS) ?? null);
    const firstText = text(first);
    if (datasets.every((dataset) => dataset === first || text(dataset) === firstText)) shared.add(element.tag);
  }
  const own = (tag: number): boolean => !shared.has(tag) && !PIXEL_TAGS.has(tag);
  return {
    common: selectedToJson(first, (tag) => shared.has(tag), JSON_OPTIONS),
    rest: datasets.map((dataset) => selectedToJson(dataset, own, JSON_OPTIONS)),
  };
}

function sameElement(a: DataElement | undefined, b: DataElement): boolean {
  if (!a || a.vr !== b.vr) return false;
  if (a.items || b.items) {
    if (!a.items || !b.items || a.items.length !== b.items.length) return false;
    return a.items.every((item, index) => sameDataset(item, b.items![index]!));
  }
  if (a.fragments || b.fragments || a.deferred || b.deferred) return false;
  return sameBytes(a.bytes, b.bytes);
}

function sameDataset(a: Dataset, b: Dataset): boolean {
  if (a.size !== b.size || a.characterSet.join('\\') !== b.characterSet.join('\\')) return false;
  for (const element of a.elements.values()) if (!sameElement(b.get(element.tag), element)) return false;
  return true;
}

function sameBytes(a: Uint8Array | undefined, b: Uint8Array | undefined): boolean {
  if (a === b) return true;
  if (!a || !b || a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

export interface SidecarInput {
  /** Source instances, in the order the Slices refer to them. */
  instances: DicomFile[];
  slices: SidecarSlice[];
  warnings: StackWarning[];
  version: string;
  nifti?: { sclSlope: number; sclInter: number };
  /**
   * The pixel element the sources hold (see `sourcePixelElement`); taken from the first instance when absent. Pass
   * it when the pixel data may have been released already (the converter builds the sidecar while it streams).
   */
  sourcePixelData?: SourcePixelElement;
}

export type SourcePixelElement = 'PixelData' | 'FloatPixelData' | 'DoubleFloatPixelData';

/** Which pixel element a dataset holds: float images come back as float. */
export function sourcePixelElement(dataset: Dataset): SourcePixelElement {
  if (dataset.has(0x7fe00008)) return 'FloatPixelData';
  if (dataset.has(0x7fe00009)) return 'DoubleFloatPixelData';
  return 'PixelData';
}

export function buildSidecar(input: SidecarInput): Sidecar {
  const first = input.instances[0]!;
  const pixelElement = input.sourcePixelData ?? sourcePixelElement(first.dataset);
  const data = splitCommonDatasets(input.instances.map((file) => file.dataset));
  const meta = splitCommonDatasets(input.instances.map((file) => file.meta));
  return {
    ...bidsSummary(first.dataset),
    ConversionSoftware: 'medvox',
    ConversionSoftwareVersion: input.version,
    MedvoxSidecarVersion: SIDECAR_VERSION,
    MedvoxWarnings: input.warnings,
    SourceTransferSyntaxUID: first.transferSyntaxUID,
    ...(pixelElement === 'PixelData' ? {} : { SourcePixelData: pixelElement }),
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
