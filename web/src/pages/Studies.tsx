/**
 * The archive's studies: search by patient name / ID, date range and modality; open one in the viewer; download
 * the metadata workbook of one study or of the search result (the server applies the same search).
 */
import { useEffect, useMemo, useState } from 'react';
import { type ApiError, api, metadataDownload, type StudySummary } from '../api.ts';
import { href } from '../router.ts';

/** DICOM DA (YYYYMMDD) -> YYYY-MM-DD, or '' when absent. */
export function isoDate(da: string): string {
  return /^\d{8}$/.test(da) ? `${da.slice(0, 4)}-${da.slice(4, 6)}-${da.slice(6, 8)}` : '';
}

export function personName(pn: string): string {
  return pn.replace(/\^+/g, ' ').trim() || '(no name)';
}

export function StudiesPage() {
  const [studies, setStudies] = useState<StudySummary[]>();
  const [error, setError] = useState<ApiError>();
  const [text, setText] = useState('');
  const [from, setFrom] = useState('');
  const [to, setTo] = useState('');
  const [modality, setModality] = useState('');
  const [attempt, setAttempt] = useState(0);

  // biome-ignore lint/correctness/useExhaustiveDependencies: `attempt` re-runs the load (Retry).
  useEffect(() => {
    const controller = new AbortController();
    setError(undefined);
    api.studies(controller.signal).then(setStudies, (reason: ApiError) => {
      if (reason.name !== 'AbortError') setError(reason);
    });
    return () => controller.abort();
  }, [attempt]);

  const modalities = useMemo(
    () => [...new Set((studies ?? []).flatMap((study) => study.modalities))].sort(),
    [studies],
  );
  const shown = useMemo(() => {
    const needle = text.trim().toLowerCase();
    return (studies ?? []).filter((study) => {
      const date = isoDate(study.studyDate);
      if (needle && !`${study.patientName} ${study.patientID}`.toLowerCase().includes(needle)) return false;
      if (from && (!date || date < from)) return false;
      if (to && (!date || date > to)) return false;
      if (modality && !study.modalities.includes(modality)) return false;
      return true;
    });
  }, [studies, text, from, to, modality]);

  return (
    <section className="page studies">
      <h1>Studies</h1>
      <search>
        <form className="filters" onSubmit={(event) => event.preventDefault()}>
          <label>
            Patient name or ID
            <input
              type="search"
              value={text}
              onChange={(event) => setText(event.target.value)}
              placeholder="e.g. Doe or MEDVOX-DEMO"
            />
          </label>
          <label>
            From
            <input type="date" value={from} onChange={(event) => setFrom(event.target.value)} />
          </label>
          <label>
            To
            <input type="date" value={to} onChange={(event) => setTo(event.target.value)} />
          </label>
          <label>
            Modality
            <select value={modality} onChange={(event) => setModality(event.target.value)}>
              <option value="">any</option>
              {modalities.map((value) => (
                <option key={value}>{value}</option>
              ))}
            </select>
          </label>
        </form>
      </search>
      {error && (
        <div className="error" role="alert">
          Could not load the studies: {error.message}.{' '}
          <button type="button" onClick={() => setAttempt((n) => n + 1)}>
            Retry
          </button>
        </div>
      )}
      {!error && !studies && <p className="state">Loading studies…</p>}
      {studies && studies.length === 0 && (
        <p className="state empty">
          The archive is empty. <a href={href.upload()}>Upload</a> DICOM files or a NIfTI image to begin.
        </p>
      )}
      {studies && studies.length > 0 && shown.length === 0 && <p className="state empty">No study matches.</p>}
      {shown.length > 0 && (
        <p className="downloads">
          <a
            href={metadataDownload.search({ patient: text, from, to, modality })}
            download
            data-testid="search-metadata"
          >
            Download metadata (xlsx)
          </a>{' '}
          of the {shown.length === 1 ? 'study' : `${shown.length} studies`} shown
        </p>
      )}
      {shown.length > 0 && (
        <table className="study-table">
          <thead>
            <tr>
              <th />
              <th>Patient</th>
              <th>Patient ID</th>
              <th>Date</th>
              <th>Description</th>
              <th>Modalities</th>
              <th>Series</th>
              <th>Instances</th>
              <th>Metadata</th>
            </tr>
          </thead>
          <tbody>
            {shown.map((study) => (
              <tr key={study.studyInstanceUID} data-study={study.studyInstanceUID}>
                <td>
                  <a href={href.viewer(study.studyInstanceUID)} aria-label={`Open ${personName(study.patientName)}`}>
                    <img
                      className="thumb"
                      src={`/api/studies/${encodeURIComponent(study.studyInstanceUID)}/thumbnail.png`}
                      alt=""
                      loading="lazy"
                      width={64}
                      height={64}
                      onError={(event) => {
                        event.currentTarget.style.visibility = 'hidden';
                      }}
                    />
                  </a>
                </td>
                <td>
                  <a href={href.viewer(study.studyInstanceUID)}>{personName(study.patientName)}</a>
                </td>
                <td>{study.patientID}</td>
                <td>{isoDate(study.studyDate)}</td>
                <td>{study.studyDescription}</td>
                <td>{study.modalities.join(', ')}</td>
                <td>{study.seriesCount}</td>
                <td>{study.instanceCount}</td>
                <td>
                  <a
                    href={metadataDownload.study(study.studyInstanceUID)}
                    download
                    title="Download metadata (xlsx)"
                    aria-label={`Download metadata (xlsx) of ${personName(study.patientName)}`}
                  >
                    xlsx
                  </a>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </section>
  );
}
