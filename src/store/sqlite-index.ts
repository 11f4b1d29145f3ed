/**
 * The default Index: one SQLite file (better-sqlite3, WAL journal: readers never wait for the writer). Schema
 * changes are numbered migrations recorded in `schema_migrations`, applied in order on open.
 */
import Database from 'better-sqlite3';
import type { DicomJsonObject } from '../core/dicom/json.ts';
import { MedvoxError } from '../core/errors.ts';
import type {
  AnnotationRow,
  Index,
  InstanceFileRow,
  InstanceRecord,
  InstanceRow,
  JobRow,
  JobState,
  PreviewRow,
  SegmentationRow,
  SeriesRow,
  StoreResult,
  StudyRow,
  VolumeRow,
} from './types.ts';

const MIGRATIONS: string[] = [
  `CREATE TABLE patients (
     patient_key TEXT PRIMARY KEY, patient_id TEXT NOT NULL, patient_name TEXT NOT NULL, attributes TEXT NOT NULL);
   CREATE TABLE studies (
     study_uid TEXT PRIMARY KEY, patient_key TEXT NOT NULL REFERENCES patients(patient_key),
     study_date TEXT NOT NULL, study_description TEXT NOT NULL, attributes TEXT NOT NULL, created_at TEXT NOT NULL);
   CREATE TABLE series (
     series_uid TEXT PRIMARY KEY, study_uid TEXT NOT NULL REFERENCES studies(study_uid), modality TEXT NOT NULL,
     series_number INTEGER, series_description TEXT NOT NULL, attributes TEXT NOT NULL);
   CREATE INDEX series_study ON series(study_uid);
   CREATE TABLE instances (
     sop_uid TEXT PRIMARY KEY, series_uid TEXT NOT NULL REFERENCES series(series_uid), study_uid TEXT NOT NULL,
     sop_class TEXT NOT NULL, instance_number INTEGER, transfer_syntax TEXT NOT NULL, blob TEXT NOT NULL,
     size INTEGER NOT NULL, attributes TEXT NOT NULL, job_id TEXT, created_at TEXT NOT NULL);
   CREATE INDEX instances_series ON instances(series_uid);
   CREATE INDEX instances_study ON instances(study_uid);
   CREATE INDEX instances_job ON instances(job_id);
   CREATE TABLE segmentations (
     sop_uid TEXT PRIMARY KEY, series_uid TEXT NOT NULL, study_uid TEXT NOT NULL, referenced_series_uid TEXT,
     segments TEXT NOT NULL, job_id TEXT);
   CREATE TABLE volumes (
     id TEXT PRIMARY KEY, series_uid TEXT NOT NULL, study_uid TEXT NOT NULL, kind TEXT NOT NULL,
     image_volume_id TEXT, segmentation_uid TEXT, header TEXT NOT NULL, blob TEXT NOT NULL, job_id TEXT);
   CREATE INDEX volumes_series ON volumes(series_uid);
   CREATE TABLE previews (
     study_uid TEXT NOT NULL, slice INTEGER NOT NULL, volume_id TEXT NOT NULL, blob TEXT NOT NULL, job_id TEXT,
     PRIMARY KEY (study_uid, slice));
   CREATE TABLE jobs (
     id TEXT PRIMARY KEY, type TEXT NOT NULL, state TEXT NOT NULL, params TEXT NOT NULL, percent REAL NOT NULL,
     step TEXT NOT NULL, study_uid TEXT, result TEXT, error TEXT, attempts INTEGER NOT NULL,
     created_at TEXT NOT NULL, updated_at TEXT NOT NULL);
   CREATE INDEX jobs_state ON jobs(state);
   CREATE TABLE annotations (
     id INTEGER PRIMARY KEY AUTOINCREMENT, study_uid TEXT, volume_id TEXT, slice INTEGER, kind TEXT NOT NULL,
     data TEXT NOT NULL, created_at TEXT NOT NULL);`,
];

/** Patient module + General Study module attributes kept at study level (PS3.3 C.7.1.1, C.7.2.1). */
const STUDY_TAGS = new Set([
  '00080005',
  '00080020',
  '00080030',
  '00080050',
  '00080090',
  '00080201',
  '00081030',
  '00100010',
  '00100020',
  '00100021',
  '00100030',
  '00100040',
  '00101010',
  '0020000D',
  '00200010',
]);
/** General Series module attributes kept at series level (PS3.3 C.7.3.1). */
const SERIES_TAGS = new Set([
  '00080005',
  '00080021',
  '00080031',
  '00080060',
  '0008103E',
  '00180015',
  '0020000D',
  '0020000E',
  '00200011',
  '00400244',
  '00400245',
]);

function pick(attributes: DicomJsonObject, tags: Set<string>): DicomJsonObject {
  const out: DicomJsonObject = {};
  for (const [tag, element] of Object.entries(attributes)) if (tags.has(tag)) out[tag] = element;
  return out;
}

/** First value of an attribute as text (a person name's Alphabetic form). */
export function jsonString(attributes: DicomJsonObject, tag: string): string {
  const value = attributes[tag]?.Value?.[0];
  if (value === undefined || value === null) return '';
  if (typeof value === 'object') return (value as { Alphabetic?: string }).Alphabetic ?? '';
  return String(value);
}

const now = (): string => new Date().toISOString();
const parse = <T>(text: string | null | undefined): T | undefined =>
  text === null || text === undefined ? undefined : (JSON.parse(text) as T);

type Row = Record<string, unknown>;

export class SqliteIndex implements Index {
  private readonly db: Database.Database;

  constructor(path: string) {
    try {
      this.db = new Database(path);
    } catch (error) {
      throw new MedvoxError('IO_ERROR', `cannot open the archive index: ${(error as Error).message}`, {
        file: path,
        cause: error,
      });
    }
    this.db.pragma('journal_mode = WAL');
    this.db.pragma('synchronous = NORMAL');
    this.db.pragma('foreign_keys = ON');
    this.migrate();
  }

  private readonly statements = new Map<string, Database.Statement>();

  /** A prepared statement, prepared once per connection (preparing costs more than running a lookup). */
  private statement(sql: string): Database.Statement {
    let prepared = this.statements.get(sql);
    if (!prepared) {
      prepared = this.db.prepare(sql);
      this.statements.set(sql, prepared);
    }
    return prepared;
  }

  /** Schema version now in force (number of applied migrations). */
  get schemaVersion(): number {
    return (this.statement('SELECT MAX(version) AS v FROM schema_migrations').get() as { v: number | null }).v ?? 0;
  }

  private migrate(): void {
    this.db.exec(
      'CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, applied_at TEXT NOT NULL)',
    );
    const applied = this.schemaVersion;
    for (let version = applied + 1; version <= MIGRATIONS.length; version++) {
      this.db.transaction(() => {
        this.db.exec(MIGRATIONS[version - 1]!);
        this.db.prepare('INSERT INTO schema_migrations (version, applied_at) VALUES (?, ?)').run(version, now());
      })();
    }
  }

  addInstances(records: InstanceRecord[]): StoreResult[] {
    const insertInstance = this.statement(
      `INSERT OR IGNORE INTO instances (sop_uid, series_uid, study_uid, sop_class, instance_number, transfer_syntax,
       blob, size, attributes, job_id, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    );
    // Patient, study and series rows are inserted once per transaction (the first instance's attributes).
    const seenSeries = new Set<string>();
    return this.db.transaction((list: InstanceRecord[]) =>
      list.map((record) => {
        const created = now();
        if (!seenSeries.has(record.seriesInstanceUID)) this.addSeriesRows(record, created);
        seenSeries.add(record.seriesInstanceUID);
        const info = insertInstance.run(
          record.sopInstanceUID,
          record.seriesInstanceUID,
          record.studyInstanceUID,
          record.sopClassUID,
          record.instanceNumber ?? null,
          record.transferSyntaxUID,
          record.blob,
          record.size,
          JSON.stringify(record.attributes),
          record.jobId ?? null,
          created,
        );
        return { stored: info.changes === 1 };
      }),
    )(records);
  }

  /** The patient, study and series rows of an instance (INSERT OR IGNORE: the first instance's attributes stay). */
  private addSeriesRows(record: InstanceRecord, created: string): void {
    const a = record.attributes;
    const patientID = jsonString(a, '00100020');
    const patientName = jsonString(a, '00100010');
    const patientKey = `${patientID}\\${patientName}`;
    const studyAttributes = JSON.stringify(pick(a, STUDY_TAGS));
    this.statement(
      'INSERT OR IGNORE INTO patients (patient_key, patient_id, patient_name, attributes) VALUES (?, ?, ?, ?)',
    ).run(patientKey, patientID, patientName, studyAttributes);
    this.statement(
      `INSERT OR IGNORE INTO studies (study_uid, patient_key, study_date, study_description, attributes, created_at)
       VALUES (?, ?, ?, ?, ?, ?)`,
    ).run(
      record.studyInstanceUID,
      patientKey,
      jsonString(a, '00080020'),
      jsonString(a, '00081030'),
      studyAttributes,
      created,
    );
    const seriesNumber = Number.parseInt(jsonString(a, '00200011'), 10);
    this.statement(
      `INSERT OR IGNORE INTO series (series_uid, study_uid, modality, series_number, series_description, attributes)
       VALUES (?, ?, ?, ?, ?, ?)`,
    ).run(
      record.seriesInstanceUID,
      record.studyInstanceUID,
      jsonString(a, '00080060'),
      Number.isFinite(seriesNumber) ? seriesNumber : null,
      jsonString(a, '0008103E'),
      JSON.stringify(pick(a, SERIES_TAGS)),
    );
  }

  hasInstance(sopInstanceUID: string): boolean {
    return this.statement('SELECT 1 FROM instances WHERE sop_uid = ?').get(sopInstanceUID) !== undefined;
  }

  instance(sopInstanceUID: string): InstanceRow | undefined {
    const row = this.statement('SELECT * FROM instances WHERE sop_uid = ?').get(sopInstanceUID) as Row | undefined;
    return row && toInstance(row);
  }

  instances(filter: { studyInstanceUID?: string; seriesInstanceUID?: string }): InstanceRow[] {
    const { where, args } = conditions({ study_uid: filter.studyInstanceUID, series_uid: filter.seriesInstanceUID });
    return (
      this.db
        .prepare(`SELECT * FROM instances ${where} ORDER BY series_uid, instance_number, sop_uid`)
        .all(...args) as Row[]
    ).map(toInstance);
  }

  instanceFiles(filter: { studyInstanceUID?: string; seriesInstanceUID?: string }): InstanceFileRow[] {
    const { where, args } = conditions({ study_uid: filter.studyInstanceUID, series_uid: filter.seriesInstanceUID });
    return (
      this.db
        .prepare(
          `SELECT sop_uid, series_uid, study_uid, blob, size FROM instances ${where}
           ORDER BY series_uid, instance_number, sop_uid`,
        )
        .all(...args) as Row[]
    ).map((row) => ({
      sopInstanceUID: String(row.sop_uid),
      seriesInstanceUID: String(row.series_uid),
      studyInstanceUID: String(row.study_uid),
      blob: String(row.blob),
      size: Number(row.size),
    }));
  }

  studies(): StudyRow[] {
    return this.queryStudies('', []);
  }

  study(studyInstanceUID: string): StudyRow | undefined {
    return this.queryStudies('WHERE s.study_uid = ?', [studyInstanceUID])[0];
  }

  private queryStudies(where: string, args: unknown[]): StudyRow[] {
    const rows = this.db
      .prepare(
        `SELECT s.*, p.patient_id, p.patient_name,
           (SELECT COUNT(*) FROM series se WHERE se.study_uid = s.study_uid
              AND EXISTS (SELECT 1 FROM instances i WHERE i.series_uid = se.series_uid)) AS series_count,
           (SELECT COUNT(*) FROM instances i WHERE i.study_uid = s.study_uid) AS instance_count,
           (SELECT GROUP_CONCAT(DISTINCT se.modality) FROM series se WHERE se.study_uid = s.study_uid
              AND EXISTS (SELECT 1 FROM instances i WHERE i.series_uid = se.series_uid)) AS modalities
         FROM studies s JOIN patients p ON p.patient_key = s.patient_key ${where} ORDER BY s.created_at, s.study_uid`,
      )
      .all(...args) as Row[];
    return rows
      .filter((row) => Number(row.instance_count) > 0)
      .map((row) => ({
        studyInstanceUID: String(row.study_uid),
        patientID: String(row.patient_id),
        patientName: String(row.patient_name),
        studyDate: String(row.study_date),
        studyDescription: String(row.study_description),
        modalities: String(row.modalities ?? '')
          .split(',')
          .filter((m) => m !== '')
          .sort(),
        seriesCount: Number(row.series_count),
        instanceCount: Number(row.instance_count),
        createdAt: String(row.created_at),
        attributes: JSON.parse(String(row.attributes)) as DicomJsonObject,
      }));
  }

  series(filter: { studyInstanceUID?: string; seriesInstanceUID?: string }): SeriesRow[] {
    const { where, args } = conditions({
      'se.study_uid': filter.studyInstanceUID,
      'se.series_uid': filter.seriesInstanceUID,
    });
    const rows = this.db
      .prepare(
        `SELECT se.*, (SELECT COUNT(*) FROM instances i WHERE i.series_uid = se.series_uid) AS instance_count
         FROM series se ${where} ORDER BY se.series_number, se.series_uid`,
      )
      .all(...args) as Row[];
    return rows
      .filter((row) => Number(row.instance_count) > 0)
      .map((row) => ({
        seriesInstanceUID: String(row.series_uid),
        studyInstanceUID: String(row.study_uid),
        modality: String(row.modality),
        seriesNumber: row.series_number === null ? undefined : Number(row.series_number),
        seriesDescription: String(row.series_description),
        instanceCount: Number(row.instance_count),
        attributes: JSON.parse(String(row.attributes)) as DicomJsonObject,
      }));
  }

  addSegmentation(row: SegmentationRow): void {
    this.db
      .prepare(
        `INSERT OR REPLACE INTO segmentations (sop_uid, series_uid, study_uid, referenced_series_uid, segments, job_id)
         VALUES (?, ?, ?, ?, ?, ?)`,
      )
      .run(
        row.sopInstanceUID,
        row.seriesInstanceUID,
        row.studyInstanceUID,
        row.referencedSeriesUID ?? null,
        JSON.stringify(row.segments),
        row.jobId ?? null,
      );
  }

  segmentations(filter: { studyInstanceUID?: string; sopInstanceUID?: string }): SegmentationRow[] {
    const { where, args } = conditions({ study_uid: filter.studyInstanceUID, sop_uid: filter.sopInstanceUID });
    return (this.statement(`SELECT * FROM segmentations ${where} ORDER BY sop_uid`).all(...args) as Row[]).map(
      (row) => ({
        sopInstanceUID: String(row.sop_uid),
        seriesInstanceUID: String(row.series_uid),
        studyInstanceUID: String(row.study_uid),
        referencedSeriesUID: (row.referenced_series_uid as string | null) ?? undefined,
        segments: JSON.parse(String(row.segments)) as SegmentationRow['segments'],
        jobId: (row.job_id as string | null) ?? undefined,
      }),
    );
  }

  putVolume(row: VolumeRow): void {
    this.db
      .prepare(
        `INSERT OR REPLACE INTO volumes (id, series_uid, study_uid, kind, image_volume_id, segmentation_uid, header,
         blob, job_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      )
      .run(
        row.id,
        row.seriesInstanceUID,
        row.studyInstanceUID,
        row.kind,
        row.imageVolumeId ?? null,
        row.segmentationUID ?? null,
        JSON.stringify(row.header),
        row.blob,
        row.jobId ?? null,
      );
  }

  volume(id: string): VolumeRow | undefined {
    const row = this.statement('SELECT * FROM volumes WHERE id = ?').get(id) as Row | undefined;
    return row && toVolume(row);
  }

  volumes(filter: { studyInstanceUID?: string; seriesInstanceUID?: string }): VolumeRow[] {
    const { where, args } = conditions({ study_uid: filter.studyInstanceUID, series_uid: filter.seriesInstanceUID });
    return (this.statement(`SELECT * FROM volumes ${where} ORDER BY kind, id`).all(...args) as Row[]).map(toVolume);
  }

  putPreview(row: PreviewRow): void {
    this.db
      .prepare('INSERT OR REPLACE INTO previews (study_uid, slice, volume_id, blob, job_id) VALUES (?, ?, ?, ?, ?)')
      .run(row.studyInstanceUID, row.slice, row.volumeId, row.blob, row.jobId ?? null);
  }

  preview(studyInstanceUID: string, slice: number): PreviewRow | undefined {
    const row = this.db
      .prepare('SELECT * FROM previews WHERE study_uid = ? AND slice = ?')
      .get(studyInstanceUID, slice) as Row | undefined;
    return (
      row && {
        studyInstanceUID: String(row.study_uid),
        slice: Number(row.slice),
        volumeId: String(row.volume_id),
        blob: String(row.blob),
        jobId: (row.job_id as string | null) ?? undefined,
      }
    );
  }

  createJob(job: Pick<JobRow, 'id' | 'type' | 'params' | 'studyInstanceUID'>): JobRow {
    const created = now();
    this.db
      .prepare(
        `INSERT INTO jobs (id, type, state, params, percent, step, study_uid, attempts, created_at, updated_at)
         VALUES (?, ?, 'queued', ?, 0, 'queued', ?, 0, ?, ?)`,
      )
      .run(job.id, job.type, JSON.stringify(job.params), job.studyInstanceUID ?? null, created, created);
    return this.job(job.id)!;
  }

  job(id: string): JobRow | undefined {
    const row = this.statement('SELECT * FROM jobs WHERE id = ?').get(id) as Row | undefined;
    return row && toJob(row);
  }

  jobs(filter: { state?: JobState; studyInstanceUID?: string } = {}): JobRow[] {
    const { where, args } = conditions({ state: filter.state, study_uid: filter.studyInstanceUID });
    return (this.statement(`SELECT * FROM jobs ${where} ORDER BY created_at, id`).all(...args) as Row[]).map(toJob);
  }

  updateJob(id: string, patch: Partial<Omit<JobRow, 'id' | 'type' | 'createdAt'>>): void {
    const columns: Record<string, unknown> = {};
    if (patch.state !== undefined) columns.state = patch.state;
    if (patch.params !== undefined) columns.params = JSON.stringify(patch.params);
    if (patch.percent !== undefined) columns.percent = patch.percent;
    if (patch.step !== undefined) columns.step = patch.step;
    if (patch.studyInstanceUID !== undefined) columns.study_uid = patch.studyInstanceUID;
    if ('result' in patch) columns.result = patch.result === undefined ? null : JSON.stringify(patch.result);
    if ('error' in patch) columns.error = patch.error === undefined ? null : JSON.stringify(patch.error);
    if (patch.attempts !== undefined) columns.attempts = patch.attempts;
    columns.updated_at = now();
    const names = Object.keys(columns);
    this.db
      .prepare(`UPDATE jobs SET ${names.map((name) => `${name} = ?`).join(', ')} WHERE id = ?`)
      .run(...Object.values(columns), id);
  }

  addAnnotation(row: Omit<AnnotationRow, 'id' | 'createdAt'>): AnnotationRow {
    const created = now();
    const info = this.db
      .prepare(
        'INSERT INTO annotations (study_uid, volume_id, slice, kind, data, created_at) VALUES (?, ?, ?, ?, ?, ?)',
      )
      .run(
        row.studyInstanceUID ?? null,
        row.volumeId ?? null,
        row.slice ?? null,
        row.kind,
        JSON.stringify(row.data),
        created,
      );
    return { ...row, id: Number(info.lastInsertRowid), createdAt: created };
  }

  annotations(filter: { studyInstanceUID?: string; volumeId?: string }): AnnotationRow[] {
    const { where, args } = conditions({ study_uid: filter.studyInstanceUID, volume_id: filter.volumeId });
    return (this.statement(`SELECT * FROM annotations ${where} ORDER BY id`).all(...args) as Row[]).map((row) => ({
      id: Number(row.id),
      studyInstanceUID: (row.study_uid as string | null) ?? undefined,
      volumeId: (row.volume_id as string | null) ?? undefined,
      slice: row.slice === null ? undefined : Number(row.slice),
      kind: String(row.kind),
      data: JSON.parse(String(row.data)) as unknown,
      createdAt: String(row.created_at),
    }));
  }

  purgeJobOutputs(jobId: string): string[] {
    return this.db.transaction(() => {
      const candidates = new Set<string>();
      for (const table of ['instances', 'volumes', 'previews']) {
        for (const row of this.statement(`SELECT blob FROM ${table} WHERE job_id = ?`).all(jobId) as Row[])
          candidates.add(String(row.blob));
        this.statement(`DELETE FROM ${table} WHERE job_id = ?`).run(jobId);
      }
      this.statement('DELETE FROM segmentations WHERE job_id = ?').run(jobId);
      // Series and studies left without instances go too (the next ingest recreates them).
      this.db.exec(
        'DELETE FROM series WHERE NOT EXISTS (SELECT 1 FROM instances i WHERE i.series_uid = series.series_uid)',
      );
      this.db.exec(
        'DELETE FROM studies WHERE NOT EXISTS (SELECT 1 FROM series s WHERE s.study_uid = studies.study_uid)',
      );
      const used = this.blobKeys();
      return [...candidates].filter((key) => !used.has(key));
    })();
  }

  blobKeys(): Set<string> {
    const keys = new Set<string>();
    for (const table of ['instances', 'volumes', 'previews'])
      for (const row of this.statement(`SELECT blob FROM ${table}`).all() as Row[]) keys.add(String(row.blob));
    return keys;
  }

  close(): void {
    this.db.close();
  }
}

function conditions(values: Record<string, string | undefined>): { where: string; args: string[] } {
  const parts: string[] = [];
  const args: string[] = [];
  for (const [column, value] of Object.entries(values)) {
    if (value === undefined) continue;
    parts.push(`${column} = ?`);
    args.push(value);
  }
  return { where: parts.length ? `WHERE ${parts.join(' AND ')}` : '', args };
}

function toInstance(row: Row): InstanceRow {
  return {
    sopInstanceUID: String(row.sop_uid),
    sopClassUID: String(row.sop_class),
    seriesInstanceUID: String(row.series_uid),
    studyInstanceUID: String(row.study_uid),
    instanceNumber: row.instance_number === null ? undefined : Number(row.instance_number),
    transferSyntaxUID: String(row.transfer_syntax),
    blob: String(row.blob),
    size: Number(row.size),
    attributes: JSON.parse(String(row.attributes)) as DicomJsonObject,
    jobId: (row.job_id as string | null) ?? undefined,
    createdAt: String(row.created_at),
  };
}

function toVolume(row: Row): VolumeRow {
  return {
    id: String(row.id),
    seriesInstanceUID: String(row.series_uid),
    studyInstanceUID: String(row.study_uid),
    kind: row.kind as VolumeRow['kind'],
    imageVolumeId: (row.image_volume_id as string | null) ?? undefined,
    segmentationUID: (row.segmentation_uid as string | null) ?? undefined,
    header: JSON.parse(String(row.header)) as VolumeRow['header'],
    blob: String(row.blob),
    jobId: (row.job_id as string | null) ?? undefined,
  };
}

function toJob(row: Row): JobRow {
  return {
    id: String(row.id),
    type: String(row.type),
    state: row.state as JobState,
    params: JSON.parse(String(row.params)) as Record<string, unknown>,
    percent: Number(row.percent),
    step: String(row.step),
    studyInstanceUID: (row.study_uid as string | null) ?? undefined,
    result: parse<Record<string, unknown>>(row.result as string | null),
    error: parse<JobRow['error']>(row.error as string | null),
    attempts: Number(row.attempts),
    createdAt: String(row.created_at),
    updatedAt: String(row.updated_at),
  };
}
