/**
 * The one error catalogue of medvox. Every failure a user can meet is a MedvoxError with a stable `code`
 * (documented in docs/errors.md), a message a person can act on, and the file it concerns when there is one.
 * Nothing in medvox throws strings or bare Errors across a module boundary.
 */

export const ErrorCodes = {
  // ---- input files (DICOM) ----
  /** The file is empty (0 bytes). */
  EMPTY_FILE: { exit: 3, summary: 'file is empty' },
  /** The bytes are not DICOM (no DICM magic, and no plausible dataset start). */
  NOT_DICOM: { exit: 3, summary: 'not a DICOM file' },
  /** The file ends inside the meta header or the dataset. */
  TRUNCATED: { exit: 3, summary: 'file is truncated' },
  /** An element's length runs past its container, or a length field is impossible. */
  BAD_LENGTH: { exit: 3, summary: 'invalid element length' },
  /** A VR is not one of the 34 defined by PS3.5 6.2 where an explicit VR is required. */
  BAD_VR: { exit: 3, summary: 'invalid value representation' },
  /** A value cannot be parsed for its VR (e.g. non-numeric DS). */
  BAD_VALUE: { exit: 3, summary: 'invalid value' },
  /** A required attribute is missing (e.g. Rows for pixel data). */
  MISSING_ATTRIBUTE: { exit: 3, summary: 'required attribute missing' },
  /** Pixel Data is shorter than Rows x Columns x Samples x Bits x Frames requires. */
  PIXEL_DATA_LENGTH: { exit: 3, summary: 'pixel data length does not match the image attributes' },
  /** The file has no Pixel Data where an image is needed. */
  NO_PIXEL_DATA: { exit: 3, summary: 'no pixel data' },
  /** The transfer syntax is not supported for pixel decoding (e.g. 12-bit JPEG extended). */
  UNSUPPORTED_TRANSFER_SYNTAX: { exit: 4, summary: 'unsupported transfer syntax' },
  /** A codec failed to decode a frame. */
  DECODE_FAILED: { exit: 4, summary: 'pixel data could not be decoded' },
  /** An object medvox cannot write (e.g. a DICOMDIR). */
  UNSUPPORTED_SOP_CLASS: { exit: 4, summary: 'unsupported SOP class for this operation' },
  /** A pixel format (bits, samples, photometric interpretation) medvox cannot represent. */
  UNSUPPORTED_PIXEL_FORMAT: { exit: 4, summary: 'unsupported pixel format' },

  // ---- NIfTI ----
  NIFTI_BAD_HEADER: { exit: 3, summary: 'invalid NIfTI header' },
  NIFTI_TRUNCATED: { exit: 3, summary: 'NIfTI voxel data is truncated' },
  NIFTI_UNSUPPORTED_DATATYPE: { exit: 4, summary: 'unsupported NIfTI datatype' },
  /** A .nii.gz whose gzip stream is damaged (bad header, checksum or deflate data; a cut stream is NIFTI_TRUNCATED). */
  NIFTI_BAD_COMPRESSION: { exit: 3, summary: 'NIfTI gzip stream is damaged' },

  // ---- geometry / volumes ----
  /** Instances cannot be assembled into a volume (no orientation, mixed sizes, ...). */
  GEOMETRY_INCONSISTENT: { exit: 5, summary: 'inconsistent geometry' },
  /** A mask or derived object does not sit on its reference grid. */
  GRID_MISMATCH: { exit: 5, summary: 'grid mismatch' },
  /** A derived object (RTSTRUCT, SEG) refers to images other than the ones given (no Frame of Reference, series or instance in common). */
  REFERENCE_MISMATCH: { exit: 5, summary: 'the object refers to other images' },

  // ---- masks and label tables ----
  /** A mask holds no labelled voxel where one is needed (e.g. to write contours). */
  EMPTY_MASK: { exit: 5, summary: 'the mask is empty' },
  /** A mask holds label values the label table does not define. */
  LABEL_NOT_IN_TABLE: { exit: 5, summary: 'mask label missing from the label table' },

  // ---- segmentations and structures (docs/segmentation.md) ----
  /** A label table JSON that is not valid (the message names the JSON path, e.g. `$.segments[2].color`). */
  LABELS_INVALID: { exit: 3, summary: 'invalid label table' },
  /** A SEG / RTSTRUCT references images that are not among the ones given (or not on their frame of reference). */
  REFERENCE_MISSING: { exit: 5, summary: 'referenced images not given' },
  /** Segments overlap where one labelmap cannot hold them (use one mask per segment). */
  SEGMENT_OVERLAP: { exit: 5, summary: 'segments overlap' },

  // ---- configuration (metadata templates, MR rules) ----
  /** A metadata tag template is malformed or names an unknown keyword / tag (docs/metadata.md). */
  TEMPLATE_INVALID: { exit: 2, summary: 'invalid metadata template' },
  /** The MR normalisation rules file (mr_clean_config.json) is malformed; the message gives the JSON path. */
  RULES_INVALID: { exit: 2, summary: 'invalid MR rules file' },

  // ---- archive and server (docs/api.md gives the HTTP status of each) ----
  /** No study / series / instance / volume / job with that id. */
  NOT_FOUND: { exit: 6, summary: 'not found' },
  /** A search or a dataset that selects no instance (a metadata download of nothing). */
  EMPTY_SELECTION: { exit: 6, summary: 'nothing selected' },
  /** A request the server cannot act on (missing field, unknown option value, wrong content type). */
  BAD_REQUEST: { exit: 2, summary: 'bad request' },
  /** The request body (or one file of it) is over the configured size limit. */
  UPLOAD_TOO_LARGE: { exit: 6, summary: 'upload over the size limit' },
  /** The request body ended before its end (a multipart form cut short). */
  UPLOAD_TRUNCATED: { exit: 6, summary: 'upload truncated' },
  /** A zip archive medvox refuses to open: entries escaping the folder (`../`, absolute) or a zip bomb. */
  ZIP_UNSAFE: { exit: 3, summary: 'unsafe zip archive' },
  /** The server requires a token (non-loopback bind) and the request has none or another. */
  UNAUTHORIZED: { exit: 2, summary: 'missing or wrong token' },
  /** The job was cancelled. */
  CANCELLED: { exit: 1, summary: 'cancelled' },

  // ---- usage / environment ----
  USAGE: { exit: 2, summary: 'invalid command-line usage' },
  IO_ERROR: { exit: 6, summary: 'file system error' },
  INTERNAL: { exit: 70, summary: 'internal error' },
} as const;

export type ErrorCode = keyof typeof ErrorCodes;

export interface MedvoxErrorOptions {
  /** The file the error concerns, as the user named it. */
  file?: string;
  /** What the user can do about it. */
  hint?: string;
  cause?: unknown;
}

export class MedvoxError extends Error {
  readonly code: ErrorCode;
  readonly file: string | undefined;
  readonly hint: string | undefined;

  constructor(code: ErrorCode, message: string, options: MedvoxErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'MedvoxError';
    this.code = code;
    this.file = options.file;
    this.hint = options.hint;
  }

  /** CLI exit code for this error (docs/errors.md). */
  get exitCode(): number {
    return ErrorCodes[this.code].exit;
  }

  /** A copy of this error naming `file` (used when a file-agnostic parser error crosses into file-level code). */
  withFile(file: string): MedvoxError {
    if (this.file === file) return this;
    const copy = new MedvoxError(this.code, this.message, { file, hint: this.hint, cause: this.cause });
    copy.stack = this.stack;
    return copy;
  }

  /** One line for a person: `CODE: file: message (hint)`. */
  describe(): string {
    const where = this.file ? `${this.file}: ` : '';
    const hint = this.hint ? ` (${this.hint})` : '';
    return `${this.code}: ${where}${this.message}${hint}`;
  }
}

export function isMedvoxError(error: unknown): error is MedvoxError {
  return error instanceof MedvoxError;
}

/** A file that is not DICOM at all (empty, or no DICOM structure): skipped by scans, not reported as damaged. */
export function isNotDicom(error: unknown): boolean {
  return error instanceof MedvoxError && (error.code === 'NOT_DICOM' || error.code === 'EMPTY_FILE');
}

/** Wrap anything thrown into a MedvoxError, keeping an existing one (and attaching the file name). */
export function toMedvoxError(error: unknown, file?: string): MedvoxError {
  if (error instanceof MedvoxError) return file ? error.withFile(file) : error;
  const message = error instanceof Error ? error.message : String(error);
  return new MedvoxError('INTERNAL', message, { file, cause: error });
}
