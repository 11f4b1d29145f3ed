/** `medvox dump FILE... [--json]`: a file's metadata as dcmdump prints it, or its DICOM JSON model. */
import type { Command } from 'commander';
import { keywordOf, tagToString } from '../core/dicom/dictionary.ts';
import { datasetToJson } from '../core/dicom/json.ts';
import { type DataElement, type Dataset, NUMBER_VRS, STRING_VRS } from '../core/dicom/model.ts';
import { decodeNumbers, decodeStrings } from '../core/dicom/values.ts';
import { toMedvoxError } from '../core/errors.ts';
import { readDicomFile } from '../io/dicom-file.ts';

const MAX_VALUE = 64;

function valueText(element: DataElement, dataset: Dataset): string {
  const bytes = element.bytes ?? new Uint8Array();
  if (bytes.length === 0) return '(no value available)';
  let text: string;
  if (STRING_VRS.has(element.vr)) text = `[${decodeStrings(bytes, element.vr, dataset.characterSet).join('\\')}]`;
  else if (NUMBER_VRS.has(element.vr) || element.vr === 'AT') {
    const values = decodeNumbers(bytes, element.vr);
    text = element.vr === 'AT' ? values.map((tag) => tagToString(tag)).join('\\') : values.join('\\');
  } else {
    const hex = Array.from(bytes.subarray(0, 16), (byte) => byte.toString(16).padStart(2, '0')).join('\\');
    text = bytes.length > 16 ? `${hex}...` : hex;
  }
  return text.length > MAX_VALUE ? `${text.slice(0, MAX_VALUE - 3)}...` : text;
}

function line(indent: number, tag: number, vr: string, value: string, length: string, keyword: string): string {
  const left = `${'  '.repeat(indent)}${tagToString(tag)} ${vr} ${value}`;
  return `${left.padEnd(55 + indent * 2)} # ${length} ${keyword}`.trimEnd();
}

export function dumpDataset(dataset: Dataset, transferSyntaxUID: string, indent = 0): string[] {
  const out: string[] = [];
  for (const element of dataset.sorted()) {
    const keyword =
      keywordOf(element.tag) || (element.tag >>> 16) % 2 === 1 ? keywordOf(element.tag) || 'PrivateTag' : 'Unknown';
    if (element.items) {
      out.push(
        line(
          indent,
          element.tag,
          'SQ',
          `(Sequence with ${element.items.length} item(s))`,
          element.undefinedLength ? 'u/l' : '',
          keyword,
        ),
      );
      element.items.forEach((item, index) => {
        out.push(`${'  '.repeat(indent + 1)}(fffe,e000) na (Item #${index + 1} with ${item.size} element(s))`);
        out.push(...dumpDataset(item, transferSyntaxUID, indent + 2));
      });
      continue;
    }
    if (element.fragments) {
      const bytes = element.fragments.reduce((sum, fragment) => sum + fragment.length, 0);
      const value = `(PixelSequence: ${element.fragments.length - 1} fragment(s), ${bytes} bytes, ${transferSyntaxUID})`;
      out.push(line(indent, element.tag, element.vr, value, 'u/l', keyword));
      continue;
    }
    const length = String(element.bytes?.length ?? 0);
    if (element.tag === 0x7fe00010 || element.tag === 0x7fe00008 || element.tag === 0x7fe00009) {
      out.push(
        line(indent, element.tag, element.vr, `(not shown: ${length} bytes, ${transferSyntaxUID})`, length, keyword),
      );
      continue;
    }
    out.push(line(indent, element.tag, element.vr, valueText(element, dataset), length, keyword));
  }
  return out;
}

export interface DumpOptions {
  json?: boolean;
}

/** Dump each file to stdout; a bad file is reported on stderr and the rest go on. Returns the exit code. */
export async function dumpFiles(
  files: string[],
  options: DumpOptions,
  write = (text: string) => process.stdout.write(text),
): Promise<number> {
  let exitCode = 0;
  for (const path of files) {
    try {
      const file = await readDicomFile(path);
      if (options.json) {
        write(`${JSON.stringify(datasetToJson(file.dataset), null, 2)}\n`);
      } else {
        if (files.length > 1) write(`# ${path}\n`);
        write('# Dicom-Meta-Information-Header\n');
        write(`${dumpDataset(file.meta, file.transferSyntaxUID).join('\n')}\n`);
        write(`# Dicom-Data-Set (${file.transferSyntaxUID})\n`);
        write(`${dumpDataset(file.dataset, file.transferSyntaxUID).join('\n')}\n`);
      }
    } catch (error) {
      const typed = toMedvoxError(error, path);
      process.stderr.write(`${typed.describe()}\n`);
      exitCode = Math.max(exitCode, typed.exitCode);
    }
  }
  return exitCode;
}

export function registerDump(program: Command): void {
  program
    .command('dump')
    .description('print the metadata of DICOM files like dcmdump, or their DICOM JSON model (PS3.18 F) with --json')
    .argument('<files...>', 'DICOM files')
    .option('--json', 'print the DICOM JSON model (bulk data left out)')
    .action(async (files: string[], options: DumpOptions) => {
      process.exitCode = await dumpFiles(files, options);
    });
}
