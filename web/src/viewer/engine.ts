/**
 * The viewer's drawing engine: three views (axial, coronal, sagittal) of one volume, each a canvas the size of
 * its slice in voxels, scaled and moved by CSS (zoom / pan cost no redraw). React owns the controls; the engine
 * owns the pixels, so a slice step or a window drag redraws without a React render. Draw times are recorded in
 * `window.medvoxPerf` (the browser tests print them).
 */
import {
  blendTable,
  drawSlice,
  type GreyTable,
  gatherSlice,
  greyTable,
  type Label,
  newSliceCache,
  type Overlay,
  paintSlice,
  type SliceCache,
  type WindowLevel,
} from './render.ts';
import { patientLPS, VIEWS, type ViewGeometry, type ViewName, viewGeometry, voxelAt } from './views.ts';
import type { VolumeHeader, VoxelArray } from './volume.ts';

export interface Cursor {
  view: ViewName;
  voxel: [number, number, number];
  /** Real value (rescale applied: HU for CT). */
  value: number;
  lps: [number, number, number];
  label?: Label;
}

export interface EngineState {
  slices: Record<ViewName, number>;
  sliceCounts: Record<ViewName, number>;
  ready: Record<ViewName, boolean>;
  window: WindowLevel;
  zoom: Record<ViewName, number>;
  cursor?: Cursor;
}

export interface PerfRecord {
  firstSliceMs?: number;
  volumeLoadedMs?: number;
  slice: number[];
  window: number[];
  other: number[];
}

declare global {
  interface Window {
    medvoxPerf?: PerfRecord;
  }
}

interface Viewport {
  view: ViewName;
  element: HTMLDivElement;
  canvas: HTMLCanvasElement;
  context: CanvasRenderingContext2D;
  image?: ImageData;
  pixels?: Uint32Array;
  geometry?: ViewGeometry;
  /** The gathered slice, and what it was gathered from (a change means gather again before painting). */
  cache?: SliceCache;
  cached?: { slice: number; labels: VoxelArray | undefined; data: VoxelArray };
  slice: number;
  zoom: number;
  panX: number;
  panY: number;
  ready: boolean;
}

type DrawReason = 'slice' | 'window' | 'other';

export class ViewerEngine {
  private header?: VolumeHeader;
  private data?: VoxelArray;
  private grey?: GreyTable;
  private window: WindowLevel = { center: 40, width: 400 };
  private labels: Label[] = [];
  private opacity = 0.5;
  private overlayVoxels?: VoxelArray;
  private overlay?: Overlay;
  private readonly plain = blendTable([], 0);
  private readonly viewports = new Map<ViewName, Viewport>();
  private cursor?: Cursor;
  private pending = new Set<ViewName>();
  private pendingReason: DrawReason = 'other';
  private frame = 0;
  readonly perf: PerfRecord = { slice: [], window: [], other: [] };

  constructor(private readonly onChange: (state: EngineState) => void) {
    window.medvoxPerf = this.perf;
  }

  attach(view: ViewName, element: HTMLDivElement): () => void {
    const canvas = document.createElement('canvas');
    canvas.className = 'view-canvas';
    canvas.dataset.view = view;
    element.prepend(canvas);
    const context = canvas.getContext('2d', { alpha: false, willReadFrequently: false });
    if (!context) throw new Error('this browser has no 2D canvas');
    const viewport: Viewport = { view, element, canvas, context, slice: 0, zoom: 1, panX: 0, panY: 0, ready: false };
    this.viewports.set(view, viewport);
    const detach = this.listen(viewport);
    if (this.header) this.prepare(viewport);
    // The box's size is known only after layout, and changes with the window: re-fit then.
    const observer = new ResizeObserver(() => this.place(viewport));
    observer.observe(element);
    return () => {
      observer.disconnect();
      detach();
      canvas.remove();
      this.viewports.delete(view);
    };
  }

  /** A new image volume (voxels may follow with `setData`). */
  setHeader(header: VolumeHeader, window: WindowLevel): void {
    this.header = header;
    this.data = undefined;
    this.overlay = undefined;
    this.overlayVoxels = undefined;
    this.window = window;
    this.grey = greyTable(header, window);
    for (const viewport of this.viewports.values()) {
      this.prepare(viewport);
      viewport.slice = Math.floor(viewport.geometry!.slices / 2);
      viewport.ready = false;
    }
    this.emit();
  }

  /** The view whose slices are contiguous runs of the voxel array (drawable from one byte range). */
  contiguousView(): { view: ViewName; slice: number } | undefined {
    for (const viewport of this.viewports.values())
      if (viewport.geometry?.sliceAxis === 2) return { view: viewport.view, slice: viewport.slice };
    return undefined;
  }

  /** Draw one slice from its own voxels before the volume has arrived. */
  drawPreview(view: ViewName, slice: number, voxels: VoxelArray): void {
    const viewport = this.viewports.get(view);
    if (!viewport?.geometry || !this.grey || this.data || viewport.slice !== slice) return;
    const started = performance.now();
    const geometry = { ...viewport.geometry, strideSlice: 0 };
    drawSlice(viewport.pixels!, geometry, 0, voxels, this.grey, undefined, this.plain);
    viewport.context.putImageData(viewport.image!, 0, 0);
    this.noteFirstDraw();
    this.perf.other.push(performance.now() - started);
    viewport.ready = true;
    viewport.element.dataset.ready = 'preview';
    this.emit();
  }

  setData(data: VoxelArray): void {
    this.data = data;
    this.perf.volumeLoadedMs ??= performance.now();
    for (const viewport of this.viewports.values()) viewport.ready = true;
    this.drawNow([...this.viewports.keys()], 'other');
    this.emit();
  }

  setOverlay(voxels: VoxelArray | undefined, labels: Label[]): void {
    this.overlayVoxels = voxels;
    this.labels = labels;
    this.rebuildOverlay();
    this.request([...this.viewports.keys()], 'other');
  }

  setLabels(labels: Label[], opacity: number): void {
    this.labels = labels;
    this.opacity = opacity;
    this.rebuildOverlay();
    this.request([...this.viewports.keys()], 'other');
  }

  setWindow(window: WindowLevel): void {
    this.window = { center: window.center, width: Math.max(1, window.width) };
    if (this.header) this.grey = greyTable(this.header, this.window, this.grey);
    this.request([...this.viewports.keys()], 'window');
    this.emit();
  }

  getWindow(): WindowLevel {
    return this.window;
  }

  setSlice(view: ViewName, slice: number): void {
    const viewport = this.viewports.get(view);
    if (!viewport?.geometry) return;
    const clamped = Math.max(0, Math.min(viewport.geometry.slices - 1, Math.round(slice)));
    if (clamped === viewport.slice) return;
    viewport.slice = clamped;
    this.request([view], 'slice');
    this.emit();
  }

  step(view: ViewName, delta: number): void {
    const viewport = this.viewports.get(view);
    if (viewport) this.setSlice(view, viewport.slice + delta);
  }

  zoomBy(view: ViewName, factor: number): void {
    const viewport = this.viewports.get(view);
    if (!viewport) return;
    viewport.zoom = Math.max(0.25, Math.min(16, viewport.zoom * factor));
    this.place(viewport);
    this.emit();
  }

  resetView(view: ViewName): void {
    const viewport = this.viewports.get(view);
    if (!viewport) return;
    viewport.zoom = 1;
    viewport.panX = 0;
    viewport.panY = 0;
    this.place(viewport);
    this.emit();
  }

  /** Re-fit the canvases after the page layout changed. */
  layout(): void {
    for (const viewport of this.viewports.values()) this.place(viewport);
  }

  geometry(view: ViewName): ViewGeometry | undefined {
    return this.viewports.get(view)?.geometry;
  }

  state(): EngineState {
    const record = <T>(get: (viewport: Viewport) => T, fallback: T): Record<ViewName, T> =>
      Object.fromEntries(
        VIEWS.map((view) => {
          const viewport = this.viewports.get(view);
          return [view, viewport ? get(viewport) : fallback];
        }),
      ) as Record<ViewName, T>;
    return {
      slices: record((viewport) => viewport.slice, 0),
      sliceCounts: record((viewport) => viewport.geometry?.slices ?? 0, 0),
      ready: record((viewport) => viewport.ready, false),
      zoom: record((viewport) => viewport.zoom, 1),
      window: this.window,
      cursor: this.cursor,
    };
  }

  private emit(): void {
    this.onChange(this.state());
  }

  private noteFirstDraw(): void {
    if (this.perf.firstSliceMs === undefined) {
      this.perf.firstSliceMs = performance.now();
      document.body.dataset.firstSlice = 'drawn';
    }
  }

  private rebuildOverlay(): void {
    if (!this.overlayVoxels || this.labels.length === 0) {
      this.overlay = undefined;
      return;
    }
    const blend = blendTable(this.labels, this.opacity, this.overlay?.blend);
    const maxLabel = blend.length / 256 - 1;
    this.overlay = { labels: this.overlayVoxels, blend, maxLabel };
  }

  private prepare(viewport: Viewport): void {
    const header = this.header!;
    const geometry = viewGeometry(header.dims, header.affineLPS, viewport.view);
    viewport.geometry = geometry;
    viewport.cached = undefined;
    viewport.canvas.width = geometry.width;
    viewport.canvas.height = geometry.height;
    viewport.image = viewport.context.createImageData(geometry.width, geometry.height);
    viewport.pixels = new Uint32Array(viewport.image.data.buffer);
    viewport.slice = Math.min(viewport.slice, geometry.slices - 1);
    this.place(viewport);
  }

  /** CSS size and position: the slice fitted to its box at its real aspect (mm), then zoomed and panned. */
  private place(viewport: Viewport): void {
    const geometry = viewport.geometry;
    if (!geometry) return;
    const box = viewport.element.getBoundingClientRect();
    const widthMm = geometry.width * geometry.spacingU;
    const heightMm = geometry.height * geometry.spacingV;
    const fit = Math.min(box.width / widthMm, box.height / heightMm) || 1;
    const width = widthMm * fit * viewport.zoom;
    const height = heightMm * fit * viewport.zoom;
    const style = viewport.canvas.style;
    style.width = `${width}px`;
    style.height = `${height}px`;
    style.left = `${(box.width - width) / 2 + viewport.panX}px`;
    style.top = `${(box.height - height) / 2 + viewport.panY}px`;
    style.imageRendering = width / geometry.width > 2 ? 'pixelated' : 'auto';
  }

  private request(views: ViewName[], reason: DrawReason): void {
    for (const view of views) this.pending.add(view);
    if (reason !== 'other' || this.pending.size === views.length) this.pendingReason = reason;
    if (this.frame) return;
    this.frame = requestAnimationFrame(() => {
      this.frame = 0;
      const pending = [...this.pending];
      this.pending.clear();
      this.drawNow(pending, this.pendingReason);
      this.pendingReason = 'other';
    });
  }

  private drawNow(views: ViewName[], reason: DrawReason): void {
    if (!this.data || !this.grey) return;
    const started = performance.now();
    for (const view of views) {
      const viewport = this.viewports.get(view);
      if (!viewport?.geometry) continue;
      this.paint(viewport, this.data, this.grey);
      viewport.context.putImageData(viewport.image!, 0, 0);
      viewport.element.dataset.ready = 'volume';
      viewport.element.dataset.slice = String(viewport.slice);
    }
    this.perf[reason].push(performance.now() - started);
    this.noteFirstDraw();
    if (this.cursor) this.updateCursor(this.cursor.view, this.cursor.voxel);
  }

  /** Gather the slice when it (or the volume, or the labelmap) changed since the last draw; then paint it. */
  private paint(viewport: Viewport, data: VoxelArray, grey: GreyTable): void {
    const geometry = viewport.geometry!;
    const labels = this.overlay?.labels;
    let cache = viewport.cache;
    const fits =
      cache !== undefined &&
      cache.values.length === geometry.width * geometry.height &&
      cache.values.constructor === data.constructor &&
      (labels === undefined || cache.labels !== undefined);
    if (!fits) {
      cache = newSliceCache(geometry, data, labels !== undefined);
      viewport.cache = cache;
      viewport.cached = undefined;
    }
    const cached = viewport.cached;
    if (!cached || cached.slice !== viewport.slice || cached.data !== data || cached.labels !== labels) {
      gatherSlice(cache!, geometry, viewport.slice, data, labels);
      viewport.cached = { slice: viewport.slice, labels, data };
    }
    const overlay = this.overlay;
    paintSlice(viewport.pixels!, cache!, grey, overlay?.blend ?? this.plain, overlay ? overlay.maxLabel : 0);
  }

  private updateCursor(view: ViewName, voxel: [number, number, number]): void {
    const header = this.header;
    if (!header) return;
    const [i, j, k] = voxel;
    const index = i + header.dims[0] * (j + header.dims[1] * k);
    const stored = this.data ? this.data[index]! : Number.NaN;
    const labelValue = this.overlayVoxels?.[index] ?? 0;
    this.cursor = {
      view,
      voxel,
      value: stored * (header.rescaleSlope || 1) + (header.rescaleIntercept || 0),
      lps: patientLPS(header.affineLPS, voxel),
      label: labelValue ? this.labels.find((label) => label.value === labelValue) : undefined,
    };
    this.emit();
  }

  /** Voxel under a pointer position, or undefined outside the slice. */
  voxelAtPoint(view: ViewName, clientX: number, clientY: number): [number, number, number] | undefined {
    const viewport = this.viewports.get(view);
    const geometry = viewport?.geometry;
    if (!viewport || !geometry) return undefined;
    const rect = viewport.canvas.getBoundingClientRect();
    const u = Math.floor(((clientX - rect.left) / rect.width) * geometry.width);
    const v = Math.floor(((clientY - rect.top) / rect.height) * geometry.height);
    if (u < 0 || v < 0 || u >= geometry.width || v >= geometry.height) return undefined;
    return voxelAt(geometry, u, v, viewport.slice);
  }

  private listen(viewport: Viewport): () => void {
    const { element, view } = viewport;
    let drag: { mode: 'window' | 'pan' | 'zoom'; x: number; y: number; window: WindowLevel } | undefined;
    const onWheel = (event: WheelEvent): void => {
      event.preventDefault();
      if (event.ctrlKey) this.zoomBy(view, event.deltaY < 0 ? 1.1 : 1 / 1.1);
      else this.step(view, event.deltaY > 0 ? 1 : -1);
    };
    const onDown = (event: PointerEvent): void => {
      const mode = event.button === 2 ? 'zoom' : event.button === 1 || event.shiftKey ? 'pan' : 'window';
      drag = { mode, x: event.clientX, y: event.clientY, window: { ...this.window } };
      element.setPointerCapture?.(event.pointerId);
      element.focus();
      event.preventDefault();
    };
    const onMove = (event: PointerEvent): void => {
      if (drag) {
        const dx = event.clientX - drag.x;
        const dy = event.clientY - drag.y;
        if (drag.mode === 'window') {
          const sensitivity = Math.max(drag.window.width, 10) / 250;
          this.setWindow({
            center: drag.window.center + dy * sensitivity,
            width: Math.max(1, drag.window.width + dx * sensitivity),
          });
        } else if (drag.mode === 'pan') {
          viewport.panX += event.clientX - drag.x;
          viewport.panY += event.clientY - drag.y;
          drag.x = event.clientX;
          drag.y = event.clientY;
          this.place(viewport);
        } else {
          this.zoomBy(view, Math.exp(-(event.clientY - drag.y) / 200));
          drag.y = event.clientY;
        }
        return;
      }
      const voxel = this.voxelAtPoint(view, event.clientX, event.clientY);
      if (voxel) this.updateCursor(view, voxel);
    };
    const onUp = (event: PointerEvent): void => {
      drag = undefined;
      element.releasePointerCapture?.(event.pointerId);
    };
    const onMenu = (event: Event): void => event.preventDefault();
    element.addEventListener('wheel', onWheel, { passive: false });
    element.addEventListener('pointerdown', onDown);
    element.addEventListener('pointermove', onMove);
    element.addEventListener('pointerup', onUp);
    element.addEventListener('pointercancel', onUp);
    element.addEventListener('contextmenu', onMenu);
    return () => {
      element.removeEventListener('wheel', onWheel);
      element.removeEventListener('pointerdown', onDown);
      element.removeEventListener('pointermove', onMove);
      element.removeEventListener('pointerup', onUp);
      element.removeEventListener('pointercancel', onUp);
      element.removeEventListener('contextmenu', onMenu);
    };
  }
}
