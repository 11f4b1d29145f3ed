/** The workbench server's REST API (docs/api.md), as the pages use it. */
import type { StudyRow } from '../../src/store/types.ts';
import type { VolumeHeader } from './viewer/volume.ts';

/** A row of GET /api/studies: the archive's study row without its attributes (src/store/types.ts). */
export type StudySummary = Omit<StudyRow, 'attributes'>;

export interface SeriesSummary {
  seriesInstanceUID: string;
  studyInstanceUID: string;
  modality: string;
  seriesNumber?: number;
  seriesDescription: string;
  instanceCount: number;
  volumes: string[];
}

export interface Segment {
  number: number;
  labelValue: number;
  label: string;
  colour?: readonly [number, number, number];
}

export interface SegmentationSummary {
  sopInstanceUID: string;
  seriesInstanceUID: string;
  referencedSeriesUID?: string;
  segments: Segment[];
  labelmapVolume?: string;
}

export interface VolumeSummary extends VolumeHeader {
  data: string;
}

export interface JobView {
  id: string;
  type: string;
  state: 'queued' | 'running' | 'done' | 'failed' | 'cancelled';
  percent: number;
  step: string;
  studyInstanceUID?: string;
  error?: { code: string; message: string; hint?: string };
}

export interface StudyDetail extends StudySummary {
  series: SeriesSummary[];
  segmentations: SegmentationSummary[];
  volumes: VolumeSummary[];
  jobs: JobView[];
}

export interface UploadAccepted {
  jobId: string;
  studyInstanceUID: string;
  studies: string[];
  status: string;
  events: string;
}

/** An error the server explained (its JSON body), or a network failure. */
export class ApiError extends Error {
  constructor(
    message: string,
    readonly status: number,
    readonly code?: string,
    readonly hint?: string,
  ) {
    super(message);
  }
}

export async function errorFrom(response: Response): Promise<ApiError> {
  let code: string | undefined;
  let message = `${response.status} ${response.statusText}`;
  let hint: string | undefined;
  try {
    const body = (await response.json()) as { error?: { code?: string; message?: string; hint?: string } };
    code = body.error?.code;
    message = body.error?.message ?? message;
    hint = body.error?.hint;
  } catch {
    // not JSON: keep the status line
  }
  return new ApiError(message, response.status, code, hint);
}

export async function getJson<T>(path: string, signal?: AbortSignal): Promise<T> {
  let response: Response;
  try {
    response = await fetch(path, { signal });
  } catch (error) {
    if ((error as Error).name === 'AbortError') throw error;
    throw new ApiError('cannot reach the medvox server', 0, 'NETWORK');
  }
  if (!response.ok) throw await errorFrom(response);
  return (await response.json()) as T;
}

export const api = {
  studies: (signal?: AbortSignal) => getJson<StudySummary[]>('/api/studies', signal),
  study: (uid: string, signal?: AbortSignal) => getJson<StudyDetail>(`/api/studies/${encodeURIComponent(uid)}`, signal),
  volume: (id: string, signal?: AbortSignal) =>
    getJson<VolumeSummary>(`/api/volumes/${encodeURIComponent(id)}`, signal),
  job: (id: string) => getJson<JobView>(`/api/jobs/${encodeURIComponent(id)}`),
  thumbnail: (series: string) => `/api/series/${encodeURIComponent(series)}/thumbnail.png`,
};

/** The studies page's search, as the server's `patient`, `from`, `to`, `modality` parameters take it. */
export interface StudySearch {
  patient: string;
  from: string;
  to: string;
  modality: string;
}

/** Metadata workbooks (docs/metadata.md): plain links, so the browser downloads them itself. */
export const metadataDownload = {
  study: (uid: string): string => `/api/studies/${encodeURIComponent(uid)}/metadata.xlsx`,
  search: (search: StudySearch): string => {
    const params = new URLSearchParams();
    for (const [name, value] of Object.entries(search)) if (value.trim()) params.set(name, value.trim());
    const query = params.toString();
    return `/api/metadata.xlsx${query ? `?${query}` : ''}`;
  },
};
