/**
 * Metadata tag templates: one JSON file per modality listing the columns of the DICOM_Metadata sheet
 * (docs/metadata.md). The shipped templates are imported here so the core (and a browser) has them; user
 * folders override them file by file (src/io/metadata-config.ts).
 */

import { isPrivateTag } from '../dicom/dictionary.ts';
import type { ReadonlyDataset, ValueLocation } from '../dicom/model.ts';
import { MedvoxError } from '../errors.ts';
import { type CellValue, elementCell, valueCell } from './cells.ts';
import { KeptBytes, newLocation } from './kept-bytes.ts';
import {
  type AttributePath,
  defaultHeader,
  findAttribute,
  inFunctionalGroups,
  PathSyntaxError,
  parseAttributePath,
} from './path.ts';
import ctTemplate from './templates/ct.json' with { type: 'json' };
import defaultTemplate from './templates/default.json' with { type: 'json' };
import dxTemplate from './templates/dx.json' with { type: 'json' };
import mgTemplate from './templates/mg.json' with { type: 'json' };
import mrTemplate from './templates/mr.json' with { type: 'json' };

export interface TemplateColumn {
  header: string;
  /** Alternatives tried in order; the first that holds a value gives the cell. */
  paths: AttributePath[];
}

export interface MetadataTemplate {
  /** File stem: `mr`, `ct`, `dx`, `mg`, `default`, or any modality (`pt`) a user adds. */
  name: string;
  /** Where it came from (a file path, or `built-in:mr.json`), for error messages and the report. */
  source: string;
  description?: string;
  columns: TemplateColumn[];
}

/** The templates shipped with medvox, by name (raw JSON, validated by parseTemplate like a user's). */
export const BUILT_IN_TEMPLATES: Readonly<Record<string, unknown>> = {
  mr: mrTemplate,
  ct: ctTemplate,
  dx: dxTemplate,
  mg: mgTemplate,
  default: defaultTemplate,
};

/** Modalities sharing a template file (PS3.3 C.7.3.1.1.1 defined terms). */
const TEMPLATE_ALIASES: Readonly<Record<string, string>> = { DR: 'dx', CR: 'dx', DX: 'dx', RG: 'dx' };

/** The template names to try for a modality, most specific first: `[mr]`, `[dx]` for CR, always ending in default. */
export function templateNamesFor(modality: string | undefined): string[] {
  const upper = (modality ?? '').trim().toUpperCase();
  const names: string[] = [];
  if (upper) names.push(TEMPLATE_ALIASES[upper] ?? upper.toLowerCase());
  names.push('default');
  return names;
}

const TEMPLATE_KEYS = new Set(['description', 'columns']);
const COLUMN_KEYS = new Set(['path', 'header', 'creator']);

/** Validate a template's JSON; every problem is a TEMPLATE_INVALID error naming the file and the entry. */
export function parseTemplate(json: unknown, name: string, source: string): MetadataTemplate {
  const fail = (where: string, message: string, hint?: string): never => {
    throw new MedvoxError('TEMPLATE_INVALID', `${where}: ${message}`, {
      file: source,
      hint: hint ?? 'see docs/metadata.md for the template format',
    });
  };
  if (typeof json !== 'object' || json === null || Array.isArray(json))
    fail('(top level)', 'a template is a JSON object with a "columns" array');
  const object = json as Record<string, unknown>;
  for (const key of Object.keys(object))
    if (!TEMPLATE_KEYS.has(key)) fail(key, `unknown key (allowed: ${[...TEMPLATE_KEYS].join(', ')})`);
  if (!Array.isArray(object.columns)) fail('columns', 'missing, or not an array');
  if (object.description !== undefined && typeof object.description !== 'string') fail('description', 'not a string');
  const columns: TemplateColumn[] = [];
  const headers = new Set<string>();
  (object.columns as unknown[]).forEach((entry, index) => {
    const where = `columns[${index}]`;
    let texts: unknown[];
    let header: unknown;
    let creator: unknown;
    if (typeof entry === 'string') texts = [entry];
    else if (typeof entry === 'object' && entry !== null && !Array.isArray(entry)) {
      const column = entry as Record<string, unknown>;
      for (const key of Object.keys(column))
        if (!COLUMN_KEYS.has(key)) fail(`${where}.${key}`, `unknown key (allowed: ${[...COLUMN_KEYS].join(', ')})`);
      texts = Array.isArray(column.path) ? column.path : [column.path];
      header = column.header;
      creator = column.creator;
      if (header !== undefined && (typeof header !== 'string' || header.trim() === ''))
        fail(`${where}.header`, 'not a non-empty string');
      if (creator !== undefined && (typeof creator !== 'string' || creator.trim() === ''))
        fail(`${where}.creator`, 'not a non-empty string');
    } else {
      texts = fail(where, 'a column is a keyword / tag string or an object with "path"');
    }
    if (texts.length === 0) fail(`${where}.path`, 'an empty list of paths');
    const paths = texts.map((text, alternative) => {
      const at = typeof entry === 'string' ? where : `${where}.path${texts.length > 1 ? `[${alternative}]` : ''}`;
      if (typeof text !== 'string') return fail(at, 'not a string');
      try {
        return parseAttributePath(text, creator as string | undefined);
      } catch (error) {
        if (!(error instanceof PathSyntaxError)) throw error;
        return fail(at, error.message, error.suggestion ? `did you mean ${error.suggestion}?` : undefined);
      }
    });
    const title = (header as string | undefined)?.trim() ?? defaultHeader(paths[0]!);
    if (headers.has(title)) fail(where, `duplicate column "${title}" (give one of them a different "header")`);
    headers.add(title);
    columns.push({ header: title, paths });
  });
  const template: MetadataTemplate = { name, source, columns };
  if (typeof object.description === 'string') template.description = object.description;
  return template;
}

/** Reused by columnValue: where a plain attribute's value lies. */
const location = newLocation();

/** The last value of a column and the bytes it came from (the same cell, the same Date object, is returned). */
export class CellMemo {
  private readonly kept = new KeptBytes();
  private characterSet: readonly string[] = [];
  private value: CellValue = null;

  /** The cell of the value at `location`. */
  cell(location: ValueLocation, characterSet: readonly string[]): CellValue {
    const kept = this.kept;
    if (kept.matches(location) && (!kept.charsetDependent || sameTerms(characterSet, this.characterSet)))
      return this.value;
    this.value = valueCell(location.bytes, location.start, location.end, location.vr, characterSet);
    kept.keep(location);
    this.characterSet = characterSet;
    return this.value;
  }
}

function sameTerms(a: readonly string[], b: readonly string[]): boolean {
  if (a === b) return true;
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/**
 * The cell of a column for one dataset: the first alternative path that holds a value. `memo` (one per column)
 * remembers the column's last value.
 */
export function columnValue(dataset: ReadonlyDataset, column: TemplateColumn, memo?: CellMemo): CellValue {
  for (const path of column.paths) {
    // A plain keyword or tag present at the top level (most columns): its value, without the path machinery.
    const tag = path.plainTag;
    if (tag !== undefined) {
      if (dataset.locate(tag, location)) {
        const value = memo
          ? memo.cell(location, dataset.characterSet)
          : valueCell(location.bytes, location.start, location.end, location.vr, dataset.characterSet);
        if (value !== null) return value;
        continue;
      }
      // Absent at the top level: only the functional groups may hold it (findAttribute's rule, without its lists).
      if (!dataset.has(tag)) {
        const found = isPrivateTag(tag) ? undefined : inFunctionalGroups(dataset, tag);
        const value = found ? elementCell(found.element, found.owner) : null;
        if (value !== null) return value;
        continue;
      }
    }
    const found = findAttribute(dataset, path);
    if (found.length === 0) continue;
    if (found.length === 1) {
      const value = elementCell(found[0]!.element, found[0]!.owner);
      if (value !== null) return value;
      continue;
    }
    // `[*]`: every item's value, joined like a multi-valued element.
    const values = found
      .map(({ element, owner }) => elementCell(element, owner))
      .filter((value): value is Exclude<CellValue, null> => value !== null)
      .map((value) => (value instanceof Date ? value.toISOString() : String(value)));
    if (values.length > 0) return values.join('\\');
  }
  return null;
}

/** A set of templates by name, with the modality -> template choice. */
export class TemplateSet {
  constructor(readonly templates: ReadonlyMap<string, MetadataTemplate>) {}

  private readonly byModality = new Map<string | undefined, MetadataTemplate>();

  forModality(modality: string | undefined): MetadataTemplate {
    const known = this.byModality.get(modality);
    if (known) return known;
    for (const name of templateNamesFor(modality)) {
      const template = this.templates.get(name);
      if (template) {
        this.byModality.set(modality, template);
        return template;
      }
    }
    throw new MedvoxError('TEMPLATE_INVALID', 'no default template (default.json) is available', {
      hint: 'keep a default.json in the templates folder, or remove the folder to use the built-in templates',
    });
  }

  /** The built-in templates, each overridden by `overrides` of the same name (already parsed JSON). */
  static build(overrides: ReadonlyArray<{ name: string; source: string; json: unknown }> = []): TemplateSet {
    const map = new Map<string, MetadataTemplate>();
    for (const [name, json] of Object.entries(BUILT_IN_TEMPLATES))
      map.set(name, parseTemplate(json, name, `built-in:${name}.json`));
    for (const override of overrides)
      map.set(override.name, parseTemplate(override.json, override.name, override.source));
    return new TemplateSet(map);
  }
}
