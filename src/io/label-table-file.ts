/** Label table JSON files (docs/segmentation.md): read (any accepted format) and write (medvox format, atomic). */
import { readFile } from 'node:fs/promises';
import { MedvoxError } from '../core/errors.ts';
import { type LabelTable, labelTableToText, parseLabelTableText } from '../core/labels/index.ts';
import { writeFileAtomic } from './atomic.ts';

export async function readLabelTableFile(path: string): Promise<LabelTable> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    throw new MedvoxError('IO_ERROR', `cannot read the label table: ${(error as Error).message}`, {
      file: path,
      cause: error,
    });
  }
  return parseLabelTableText(text, path);
}

export async function writeLabelTableFile(path: string, table: LabelTable): Promise<void> {
  await writeFileAtomic(path, labelTableToText(table));
}
