/**
 * The viewer: series of a study, three views reformatted from the volume, window/level, zoom/pan, segmentation
 * overlays with per-label toggles, cursor readout. Pixels are drawn by ViewerEngine; this component owns controls.
 */
import { useCallback, useEffect, useMemo, useRef, useState } from 'react';
import {
  type ApiError,
  api,
  metadataDownload,
  type SegmentationSummary,
  type SeriesSummary,
  type StudyDetail,
} from '../api.ts';
import { type EngineState, ViewerEngine } from '../viewer/engine.ts';
import { fetchSliceRange, fetchVolume } from '../viewer/loader.ts';
import { defaultColour, type Label, PRESETS, percentileWindow, type WindowLevel } from '../viewer/render.ts';
import { patientLPS, VIEWS, type ViewName } from '../viewer/views.ts';
import type { VolumeHeader } from '../viewer/volume.ts';
import { isoDate, personName } from './Studies.tsx';

const SHORTCUTS: Array<[string, string]> = [
  ['↑ / ↓, ← / →, wheel', 'previous / next slice'],
  ['PgUp / PgDn', '10 slices'],
  ['Home / End', 'first / last slice'],
  ['1 – 5', 'window presets (5: auto)'],
  ['drag', 'window / level'],
  ['shift-drag, middle-drag', 'pan'],
  ['right-drag, ctrl-wheel, + / −', 'zoom'],
  ['r', 'reset zoom and pan'],
  ['o', 'overlay on / off'],
  ['Tab / a, c, s', 'active view'],
];

function isImageSeries(series: SeriesSummary): boolean {
  return series.volumes.length > 0 && !['SEG', 'RTSTRUCT', 'SR', 'PR'].includes(series.modality);
}

function initialWindow(header: VolumeHeader, modality: string): WindowLevel {
  if (header.windowCenter !== undefined && header.windowWidth !== undefined && header.windowWidth > 0)
    return { center: header.windowCenter, width: header.windowWidth };
  if (modality === 'CT') return { center: 40, width: 400 };
  const slope = header.rescaleSlope || 1;
  const intercept = header.rescaleIntercept || 0;
  const low = header.min * slope + intercept;
  const high = header.max * slope + intercept;
  return { center: (low + high) / 2, width: Math.max(1, high - low) };
}

function fmt(value: number, digits = 1): string {
  return Number.isFinite(value) ? value.toFixed(digits) : '–';
}

export function ViewerPage({ study, series: wantedSeries }: { study: string; series?: string }) {
  const [detail, setDetail] = useState<StudyDetail>();
  const [error, setError] = useState<string>();
  const [seriesUID, setSeriesUID] = useState<string | undefined>(wantedSeries);
  const [header, setHeader] = useState<VolumeHeader>();
  const [loaded, setLoaded] = useState(0);
  const [volumeReady, setVolumeReady] = useState(false);
  const [state, setState] = useState<EngineState>();
  const [active, setActive] = useState<ViewName>('axial');
  const [segmentationUID, setSegmentationUID] = useState<string>();
  const [labels, setLabels] = useState<Label[]>([]);
  const [opacity, setOpacity] = useState(0.5);
  const [overlayOn, setOverlayOn] = useState(true);
  const [overlayError, setOverlayError] = useState<string>();
  const [preset, setPreset] = useState<string>();
  const engineRef = useRef<ViewerEngine | undefined>(undefined);
  if (!engineRef.current) engineRef.current = new ViewerEngine((next) => setState(next));
  const engine = engineRef.current;
  const dataRef = useRef<{ header: VolumeHeader; data: import('../viewer/volume.ts').VoxelArray } | undefined>(
    undefined,
  );

  // Study: series and segmentations.
  useEffect(() => {
    const controller = new AbortController();
    api.study(study, controller.signal).then(
      (loadedStudy) => {
        setDetail(loadedStudy);
        const images = loadedStudy.series.filter(isImageSeries);
        setSeriesUID((current) =>
          current && images.some((s) => s.seriesInstanceUID === current) ? current : images[0]?.seriesInstanceUID,
        );
      },
      (reason: ApiError) => {
        if (reason.name !== 'AbortError') setError(`Could not open the study: ${reason.message}`);
      },
    );
    return () => controller.abort();
  }, [study]);

  const series = detail?.series.find((s) => s.seriesInstanceUID === seriesUID);
  const segmentations = useMemo(
    () =>
      (detail?.segmentations ?? []).filter(
        (seg) => seg.labelmapVolume && (!seg.referencedSeriesUID || seg.referencedSeriesUID === seriesUID),
      ),
    [detail, seriesUID],
  );
  useEffect(() => {
    setSegmentationUID(segmentations[0]?.sopInstanceUID);
  }, [segmentations]);

  // Image volume: header, the first slice by byte range, then every voxel.
  useEffect(() => {
    if (!series) return;
    const controller = new AbortController();
    setVolumeReady(false);
    setLoaded(0);
    dataRef.current = undefined;
    const volumeId = series.volumes[0]!;
    (async () => {
      const volumeHeader = await api.volume(volumeId, controller.signal);
      const window = initialWindow(volumeHeader, series.modality);
      engine.setHeader(volumeHeader, window);
      setHeader(volumeHeader);
      setPreset(undefined);
      // The slice shown first comes alone (one byte range) and is drawn before the whole volume is asked for.
      const first = engine.contiguousView();
      if (first) {
        await fetchSliceRange(volumeHeader, first.slice, controller.signal).then(
          (voxels) => engine.drawPreview(first.view, first.slice, voxels),
          (reason: Error) => {
            if (reason.name === 'AbortError') throw reason;
          },
        );
      }
      const whole = fetchVolume(volumeHeader, (received, total) => setLoaded(received / total), controller.signal);
      const data = await whole;
      dataRef.current = { header: volumeHeader, data };
      if (series.modality !== 'CT' && volumeHeader.windowCenter === undefined)
        engine.setWindow(percentileWindow(volumeHeader, data));
      engine.setData(data);
      setVolumeReady(true);
    })().catch((reason: Error) => {
      if (reason.name !== 'AbortError') setError(`Could not load the volume: ${reason.message}`);
    });
    return () => controller.abort();
  }, [series, engine]);

  // Overlay: the labelmap of the chosen segmentation, with its label table.
  const segmentation: SegmentationSummary | undefined = segmentations.find((s) => s.sopInstanceUID === segmentationUID);
  useEffect(() => {
    setOverlayError(undefined);
    if (!segmentation?.labelmapVolume || !volumeReady || !header) {
      engine.setOverlay(undefined, []);
      setLabels([]);
      return;
    }
    const controller = new AbortController();
    (async () => {
      const labelHeader = await api.volume(segmentation.labelmapVolume!, controller.signal);
      if (labelHeader.dims.slice(0, 3).join() !== header.dims.slice(0, 3).join())
        throw new Error(`its grid ${labelHeader.dims.slice(0, 3).join('x')} is not the image's`);
      const voxels = await fetchVolume(labelHeader, undefined, controller.signal);
      const table: Label[] = segmentation.segments
        .map((segment) => ({
          value: segment.labelValue,
          name: segment.label || `Label ${segment.labelValue}`,
          colour: segment.colour ?? defaultColour(segment.labelValue),
          visible: true,
        }))
        .sort((a, b) => a.value - b.value);
      setLabels(table);
      engine.setOverlay(voxels, table);
    })().catch((reason: Error) => {
      if (reason.name !== 'AbortError') setOverlayError(`The segmentation could not be shown: ${reason.message}`);
    });
    return () => controller.abort();
  }, [segmentation, volumeReady, header, engine]);

  useEffect(() => {
    engine.setLabels(
      labels.map((label) => ({ ...label, visible: overlayOn && label.visible })),
      opacity,
    );
  }, [labels, opacity, overlayOn, engine]);

  const applyPreset = useCallback(
    (name: string) => {
      const found = PRESETS.find((p) => p.name === name);
      if (!found) return;
      setPreset(name);
      if (found.window) engine.setWindow(found.window);
      else if (dataRef.current) engine.setWindow(percentileWindow(dataRef.current.header, dataRef.current.data));
    },
    [engine],
  );

  // Keyboard shortcuts (ignored while typing in a field).
  useEffect(() => {
    const onKey = (event: KeyboardEvent): void => {
      const target = event.target as HTMLElement;
      if (target.closest('input:not([type=range]):not([type=checkbox]), select, textarea')) return;
      const slices = engine.state().sliceCounts[active];
      const handled = ((): boolean => {
        switch (event.key) {
          case 'ArrowUp':
          case 'ArrowRight':
            engine.step(active, 1);
            return true;
          case 'ArrowDown':
          case 'ArrowLeft':
            engine.step(active, -1);
            return true;
          case 'PageUp':
            engine.step(active, 10);
            return true;
          case 'PageDown':
            engine.step(active, -10);
            return true;
          case 'Home':
            engine.setSlice(active, 0);
            return true;
          case 'End':
            engine.setSlice(active, slices - 1);
            return true;
          case '+':
          case '=':
            engine.zoomBy(active, 1.25);
            return true;
          case '-':
            engine.zoomBy(active, 0.8);
            return true;
          case 'r':
            engine.resetView(active);
            return true;
          case 'o':
            setOverlayOn((on) => !on);
            return true;
          case 'a':
            setActive('axial');
            return true;
          case 'c':
            setActive('coronal');
            return true;
          case 's':
            setActive('sagittal');
            return true;
          default: {
            const found = PRESETS.find((p) => p.key === event.key);
            if (found) {
              applyPreset(found.name);
              return true;
            }
            return false;
          }
        }
      })();
      if (handled) event.preventDefault();
    };
    window.addEventListener('keydown', onKey);
    return () => window.removeEventListener('keydown', onKey);
  }, [engine, active, applyPreset]);

  useEffect(() => {
    const onResize = (): void => engine.layout();
    window.addEventListener('resize', onResize);
    return () => window.removeEventListener('resize', onResize);
  }, [engine]);

  if (error)
    return (
      <section className="page">
        <p className="error" role="alert">
          {error} <a href="#/studies">Back to the studies</a>
        </p>
      </section>
    );
  if (!detail) return <p className="state">Loading the study…</p>;
  const imageSeries = detail.series.filter(isImageSeries);
  const cursor = state?.cursor;
  const modality = series?.modality ?? '';

  return (
    <section className="viewer">
      <aside className="sidebar">
        <div className="panel study-info">
          <div className="patient" data-testid="patient">
            {personName(detail.patientName)}
          </div>
          <div>
            {detail.patientID} · {isoDate(detail.studyDate)}
          </div>
          <div>{detail.studyDescription}</div>
          <a href={metadataDownload.study(study)} download data-testid="study-metadata">
            Download metadata (xlsx)
          </a>
        </div>
        <div className="panel">
          <h2>Series</h2>
          {imageSeries.length === 0 && <p className="state empty">This study has no image series to show.</p>}
          <ul className="series-list">
            {imageSeries.map((s) => (
              <li key={s.seriesInstanceUID}>
                <button
                  type="button"
                  className={s.seriesInstanceUID === seriesUID ? 'selected' : ''}
                  onClick={() => setSeriesUID(s.seriesInstanceUID)}
                >
                  <img src={api.thumbnail(s.seriesInstanceUID)} alt="" width={40} height={40} />
                  <span>
                    {s.modality} {s.seriesNumber ?? ''} {s.seriesDescription}
                    <small> · {s.instanceCount} images</small>
                  </span>
                </button>
              </li>
            ))}
          </ul>
        </div>
        <div className="panel">
          <h2>Window</h2>
          <div className="presets">
            {PRESETS.map((p) => (
              <button
                type="button"
                key={p.name}
                className={preset === p.name ? 'selected' : ''}
                onClick={() => applyPreset(p.name)}
                title={`key ${p.key}`}
              >
                {p.name}
              </button>
            ))}
          </div>
          <div className="readout" data-testid="window">
            C {fmt(state?.window.center ?? 0, 0)} / W {fmt(state?.window.width ?? 0, 0)}
          </div>
        </div>
        <div className="panel">
          <h2>Segmentation</h2>
          {segmentations.length === 0 && <p className="state empty">No segmentation for this series.</p>}
          {segmentations.length > 1 && (
            <select value={segmentationUID} onChange={(event) => setSegmentationUID(event.target.value)}>
              {segmentations.map((s, n) => (
                <option key={s.sopInstanceUID} value={s.sopInstanceUID}>
                  Segmentation {n + 1} ({s.segments.length} labels)
                </option>
              ))}
            </select>
          )}
          {overlayError && (
            <p className="error" role="alert">
              {overlayError}
            </p>
          )}
          {segmentations.length > 0 && (
            <>
              <label className="row">
                <input type="checkbox" checked={overlayOn} onChange={(event) => setOverlayOn(event.target.checked)} />
                Overlay (o)
              </label>
              <label className="row">
                Opacity
                <input
                  type="range"
                  min={0}
                  max={1}
                  step={0.05}
                  value={opacity}
                  data-testid="opacity"
                  onChange={(event) => setOpacity(Number(event.target.value))}
                />
              </label>
              {segmentation && labels.length === 0 && !overlayError && <p className="state">Loading labels…</p>}
              <ul className="labels" data-testid="labels">
                {labels.map((label) => (
                  <li key={label.value}>
                    <label className="row">
                      <input
                        type="checkbox"
                        checked={label.visible}
                        data-label={label.value}
                        onChange={(event) =>
                          setLabels((list) =>
                            list.map((l) => (l.value === label.value ? { ...l, visible: event.target.checked } : l)),
                          )
                        }
                      />
                      <span className="swatch" style={{ background: `rgb(${label.colour.join(',')})` }} />
                      <span className="label-name">{label.name}</span>
                      <small>{label.value}</small>
                    </label>
                  </li>
                ))}
              </ul>
            </>
          )}
        </div>
      </aside>
      <div className="views">
        {!header && <p className="state">Loading the volume…</p>}
        {VIEWS.map((view) => (
          <ViewPanel
            key={view}
            view={view}
            engine={engine}
            state={state}
            active={active === view}
            onActivate={() => setActive(view)}
            header={header}
            patient={personName(detail.patientName)}
            studyText={`${isoDate(detail.studyDate)} ${detail.studyDescription}`}
            modality={modality}
          />
        ))}
        <div className="info-cell panel">
          {header && !volumeReady && (
            <div className="loading" data-testid="loading">
              Loading voxels… {Math.round(loaded * 100)}%
              <progress max={1} value={loaded} />
            </div>
          )}
          <h2>Cursor</h2>
          {cursor ? (
            <dl className="cursor" data-testid="cursor">
              <dt>Voxel (i, j, k)</dt>
              <dd>{cursor.voxel.join(', ')}</dd>
              <dt>{modality === 'CT' ? 'HU' : 'Value'}</dt>
              <dd data-testid="cursor-value">{fmt(cursor.value, modality === 'CT' ? 0 : 2)}</dd>
              <dt>Patient (LPS, mm)</dt>
              <dd>{cursor.lps.map((value) => fmt(value)).join(', ')}</dd>
              <dt>Label</dt>
              <dd data-testid="cursor-label">{cursor.label ? `${cursor.label.name} (${cursor.label.value})` : '–'}</dd>
            </dl>
          ) : (
            <p className="state">Point at an image to read its value.</p>
          )}
          <h2>Shortcuts</h2>
          <dl className="shortcuts">
            {SHORTCUTS.map(([keys, what]) => (
              <div key={keys}>
                <dt>{keys}</dt>
                <dd>{what}</dd>
              </div>
            ))}
          </dl>
        </div>
      </div>
    </section>
  );
}

interface ViewPanelProps {
  view: ViewName;
  engine: ViewerEngine;
  state: EngineState | undefined;
  active: boolean;
  onActivate: () => void;
  header: VolumeHeader | undefined;
  patient: string;
  studyText: string;
  modality: string;
}

const NORMAL_NAME: Record<ViewName, string> = { axial: 'z', coronal: 'y', sagittal: 'x' };

function ViewPanel({ view, engine, state, active, onActivate, header, patient, studyText, modality }: ViewPanelProps) {
  const box = useRef<HTMLDivElement>(null);
  useEffect(() => engine.attach(view, box.current!), [engine, view]);
  const geometry = header ? engine.geometry(view) : undefined;
  const slice = state?.slices[view] ?? 0;
  const count = state?.sliceCounts[view] ?? 0;
  let position = '';
  if (geometry && header) {
    const voxel = [0, 0, 0];
    voxel[geometry.uAxis] = (geometry.width - 1) / 2;
    voxel[geometry.vAxis] = (geometry.height - 1) / 2;
    voxel[geometry.sliceAxis] = slice;
    const lps = patientLPS(header.affineLPS, voxel);
    const axis = { axial: 2, coronal: 1, sagittal: 0 }[view];
    position = `${NORMAL_NAME[view]} ${fmt(lps[axis]!)} mm (LPS)`;
  }
  return (
    <div className={`view-cell${active ? ' active' : ''}`} data-view={view}>
      <div
        className="viewport"
        ref={box}
        tabIndex={0}
        role="slider"
        aria-label={`${view} view (arrow keys change the slice)`}
        aria-valuemin={1}
        aria-valuemax={count}
        aria-valuenow={slice + 1}
        onPointerDown={onActivate}
        onFocus={onActivate}
        data-testid={`viewport-${view}`}
      >
        {geometry && (
          <>
            <span className="orient left" data-side="left">
              {geometry.labels.left}
            </span>
            <span className="orient right" data-side="right">
              {geometry.labels.right}
            </span>
            <span className="orient top" data-side="top">
              {geometry.labels.top}
            </span>
            <span className="orient bottom" data-side="bottom">
              {geometry.labels.bottom}
            </span>
            <div className="overlay-text top-left">
              <div>{patient}</div>
              <div>{studyText}</div>
            </div>
            <div className="overlay-text bottom-left" data-testid={`slice-${view}`}>
              <div>
                {view} {slice + 1} / {count}
              </div>
              <div>{position}</div>
              <div>{modality}</div>
            </div>
            {!state?.ready[view] && <div className="view-loading">Loading…</div>}
          </>
        )}
      </div>
      <div className="slice-controls">
        <button type="button" onClick={() => engine.step(view, -1)} aria-label={`previous ${view} slice`}>
          ‹ Prev
        </button>
        <input
          type="range"
          min={0}
          max={Math.max(0, count - 1)}
          value={slice}
          aria-label={`${view} slice`}
          data-testid={`slider-${view}`}
          onChange={(event) => engine.setSlice(view, Number(event.target.value))}
        />
        <input
          type="number"
          className="slice-number"
          min={1}
          max={count}
          value={slice + 1}
          aria-label={`${view} slice number`}
          data-testid={`slice-number-${view}`}
          onChange={(event) => engine.setSlice(view, Number(event.target.value) - 1)}
        />
        <button type="button" onClick={() => engine.step(view, 1)} aria-label={`next ${view} slice`}>
          Next ›
        </button>
      </div>
    </div>
  );
}
