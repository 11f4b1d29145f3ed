/**
 * DICOM_Metadata rows: the identifiers of each instance, then the columns of its modality's template. Columns of
 * several templates are merged by header in the order first met, so a column keeps its place once rows use it.
 */
import type { ReadonlyDataset } from '../dicom/model.ts';
import type { CellValue } from './cells.ts';
import { CellMemo, columnValue, type MetadataTemplate } from './template.ts';

export const IDENTIFIER_COLUMNS = [
  'File',
  'Modality',
  'Template',
  'StudyInstanceUID',
  'SeriesInstanceUID',
  'SOPInstanceUID',
  'SOPClassUID',
  'SeriesNumber',
  'InstanceNumber',
] as const;

const SERIES_NUMBER = 0x00200011;
const INSTANCE_NUMBER = 0x00200013;

const text = (value: string | undefined): CellValue => (value === undefined || value === '' ? null : value);

/** A number when the value is one, else its text. */
function number(dataset: ReadonlyDataset, tag: number): CellValue {
  const value = dataset.number(tag);
  return value !== undefined && Number.isFinite(value) ? value : text(dataset.string(tag));
}

export class InstanceRows {
  readonly headers: string[] = [...IDENTIFIER_COLUMNS];
  private readonly positions = new Map<MetadataTemplate, number[]>();
  private readonly memos = new Map<MetadataTemplate, CellMemo[]>();
  private readonly indexOf = new Map<string, number>(this.headers.map((header, index) => [header, index]));
  /** Bumped when columns were appended (the table's header must be updated). */
  version = 0;

  private columnsOf(template: MetadataTemplate): number[] {
    let positions = this.positions.get(template);
    if (positions) return positions;
    positions = template.columns.map((column) => {
      let index = this.indexOf.get(column.header);
      if (index === undefined) {
        index = this.headers.length;
        this.headers.push(column.header);
        this.indexOf.set(column.header, index);
        this.version++;
      }
      return index;
    });
    this.positions.set(template, positions);
    return positions;
  }

  /** The row of one instance (`name`: the file as the user gave it). */
  row(
    name: string,
    file: { dataset: ReadonlyDataset; meta: ReadonlyDataset },
    template: MetadataTemplate,
  ): CellValue[] {
    const positions = this.columnsOf(template);
    const dataset = file.dataset;
    const cells: CellValue[] = new Array(this.headers.length).fill(null);
    cells[0] = name;
    cells[1] = text(dataset.string('Modality'));
    cells[2] = template.name;
    cells[3] = text(dataset.string('StudyInstanceUID'));
    cells[4] = text(dataset.string('SeriesInstanceUID'));
    // Some anonymisers blank the dataset's UIDs; the file meta still names the instance (PS3.10 7.1).
    cells[5] = text(dataset.string('SOPInstanceUID') ?? file.meta.string('MediaStorageSOPInstanceUID'));
    cells[6] = text(dataset.string('SOPClassUID') ?? file.meta.string('MediaStorageSOPClassUID'));
    cells[7] = number(dataset, SERIES_NUMBER);
    cells[8] = number(dataset, INSTANCE_NUMBER);
    let memos = this.memos.get(template);
    if (!memos) {
      memos = template.columns.map(() => new CellMemo());
      this.memos.set(template, memos);
    }
    const columns = template.columns;
    for (let i = 0; i < columns.length; i++) cells[positions[i]!] = columnValue(dataset, columns[i]!, memos[i]);
    return cells;
  }
}
