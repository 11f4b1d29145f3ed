/**
 * One upload: the multipart POST with transfer progress (XMLHttpRequest: fetch reports no upload progress), then
 * the job's progress over server-sent events until it ends. Every failure becomes a message a person can act on.
 */
import type { UploadAccepted } from '../api.ts';

export interface UploadProgress {
  phase: 'uploading' | 'processing' | 'done' | 'failed';
  sent: number;
  total: number;
  percent: number;
  step: string;
  accepted?: UploadAccepted;
  study?: string;
  error?: string;
  hint?: string;
}

interface JobEventData {
  state: string;
  percent: number;
  step: string;
  result?: { studyInstanceUID?: string };
  error?: { code: string; message: string; hint?: string };
}

export function uploadForm(form: FormData, onProgress: (progress: UploadProgress) => void): () => void {
  let progress: UploadProgress = { phase: 'uploading', sent: 0, total: 0, percent: 0, step: 'sending' };
  const update = (patch: Partial<UploadProgress>): void => {
    progress = { ...progress, ...patch };
    onProgress(progress);
  };
  const fail = (error: string, hint?: string): void => update({ phase: 'failed', error, hint });
  let events: EventSource | undefined;
  const xhr = new XMLHttpRequest();
  xhr.open('POST', '/api/uploads');
  xhr.responseType = 'text';
  xhr.upload.onprogress = (event) => {
    if (event.lengthComputable) update({ sent: event.loaded, total: event.total });
  };
  xhr.onerror = () => {
    const sent = progress.total ? ` (${Math.round((100 * progress.sent) / progress.total)}% sent)` : '';
    fail(
      `The connection to the server was lost during the upload${sent}.`,
      'Check that medvox serve is running, then upload again: nothing was stored.',
    );
  };
  xhr.ontimeout = xhr.onerror;
  xhr.onabort = () => fail('The upload was cancelled.');
  xhr.onload = () => {
    let body: unknown;
    try {
      body = JSON.parse(xhr.responseText);
    } catch {
      body = undefined;
    }
    if (xhr.status !== 202) {
      const error = (body as { error?: { code?: string; message?: string; hint?: string } } | undefined)?.error;
      fail(
        error?.message
          ? `${error.message}${error.code ? ` (${error.code})` : ''}`
          : `The server answered ${xhr.status}.`,
        error?.hint,
      );
      return;
    }
    const accepted = body as UploadAccepted;
    update({ phase: 'processing', accepted, study: accepted.studyInstanceUID, sent: progress.total, step: 'queued' });
    follow(accepted);
  };
  const follow = (accepted: UploadAccepted): void => {
    events = new EventSource(accepted.events);
    const onEvent = (message: MessageEvent<string>): void => {
      const data = JSON.parse(message.data) as JobEventData;
      if (data.state === 'done') {
        events?.close();
        update({
          phase: 'done',
          percent: 100,
          step: 'done',
          study: data.result?.studyInstanceUID ?? accepted.studyInstanceUID,
        });
      } else if (data.state === 'failed' || data.state === 'cancelled') {
        events?.close();
        fail(
          data.error
            ? `${data.error.message} (${data.error.code})`
            : `The job was ${data.state === 'failed' ? 'stopped by an error' : 'cancelled'}.`,
          data.error?.hint,
        );
      } else update({ percent: data.percent, step: data.step || data.state });
    };
    for (const type of ['progress', 'done', 'failed', 'cancelled'])
      events.addEventListener(type, onEvent as EventListener);
    events.onerror = () => {
      if (progress.phase !== 'processing') return;
      events?.close();
      // The stream broke before the job ended: ask once for the job's state.
      fetch(accepted.status)
        .then(async (response) => {
          if (!response.ok) throw new Error(String(response.status));
          const job = (await response.json()) as JobEventData;
          if (job.state === 'done') update({ phase: 'done', percent: 100, step: 'done' });
          else if (job.state === 'failed') fail(job.error?.message ?? 'The job failed.', job.error?.hint);
          else follow(accepted);
        })
        .catch(() =>
          fail(
            'Lost the connection to the server while the upload was being processed.',
            'When the server is back, the study list shows whether it was stored.',
          ),
        );
    };
  };
  xhr.send(form);
  return () => {
    events?.close();
    if (progress.phase === 'uploading') xhr.abort();
  };
}
