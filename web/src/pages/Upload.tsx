/**
 * Upload: DICOM files, a folder or a zip (drop or pick), or a NIfTI image with an optional mask and its modality.
 * Each upload shows its transfer, then its job's steps, then a link to the viewer or a clear error.
 */
import { type DragEvent, useEffect, useRef, useState } from 'react';
import { href } from '../router.ts';
import { type UploadProgress, uploadForm } from './upload-client.ts';

interface UploadEntry {
  id: number;
  name: string;
  progress: UploadProgress;
}

/** Every file under the dropped items, folders walked (webkitGetAsEntry: Chromium, Firefox, Safari). */
async function droppedFiles(transfer: DataTransfer): Promise<File[]> {
  const entries = [...transfer.items].map((item) => item.webkitGetAsEntry?.()).filter((entry) => entry != null);
  if (entries.length === 0) return [...transfer.files];
  const files: File[] = [];
  const walk = async (entry: FileSystemEntry): Promise<void> => {
    if (entry.isFile) {
      files.push(await new Promise<File>((resolve, reject) => (entry as FileSystemFileEntry).file(resolve, reject)));
      return;
    }
    const reader = (entry as FileSystemDirectoryEntry).createReader();
    for (;;) {
      const batch = await new Promise<FileSystemEntry[]>((resolve, reject) => reader.readEntries(resolve, reject));
      if (batch.length === 0) break;
      for (const child of batch) await walk(child);
    }
  };
  for (const entry of entries) await walk(entry);
  return files;
}

function size(bytes: number): string {
  if (bytes < 1024 * 1024) return `${(bytes / 1024).toFixed(0)} kB`;
  return `${(bytes / 1024 / 1024).toFixed(1)} MB`;
}

let nextId = 1;

export function UploadPage() {
  const [entries, setEntries] = useState<UploadEntry[]>([]);
  const [dragging, setDragging] = useState(false);
  const [notice, setNotice] = useState<string>();
  const [image, setImage] = useState<File>();
  const [mask, setMask] = useState<File>();
  const [modality, setModality] = useState('CT');
  const [patientName, setPatientName] = useState('');
  const [patientId, setPatientId] = useState('');
  const cancels = useRef(new Map<number, () => void>());
  const niftiForm = useRef<HTMLFormElement>(null);

  useEffect(() => {
    const current = cancels.current;
    return () => {
      for (const cancel of current.values()) cancel();
    };
  }, []);

  const start = (name: string, form: FormData): void => {
    const id = nextId++;
    const initial: UploadProgress = { phase: 'uploading', sent: 0, total: 0, percent: 0, step: 'sending' };
    setEntries((list) => [{ id, name, progress: initial }, ...list]);
    const cancel = uploadForm(form, (progress) =>
      setEntries((list) => list.map((entry) => (entry.id === id ? { ...entry, progress } : entry))),
    );
    cancels.current.set(id, cancel);
  };

  const sendDicom = (files: File[]): void => {
    setNotice(undefined);
    const chosen = files.filter((file) => !file.name.startsWith('.') && file.name !== 'DICOMDIR');
    if (chosen.length === 0) {
      setNotice('No file to upload: choose DICOM files, a folder of them, or a zip.');
      return;
    }
    const form = new FormData();
    for (const file of chosen) form.append('files', file, file.webkitRelativePath || file.name);
    const first = chosen[0]!;
    start(
      chosen.length === 1 ? first.name : `${chosen.length} files (${first.webkitRelativePath || first.name}, …)`,
      form,
    );
  };

  const onDrop = (event: DragEvent<HTMLDivElement>): void => {
    event.preventDefault();
    setDragging(false);
    droppedFiles(event.dataTransfer).then(sendDicom, (error: Error) =>
      setNotice(`Could not read the dropped items: ${error.message}`),
    );
  };

  const sendNifti = (): void => {
    setNotice(undefined);
    if (!image) {
      setNotice('Choose a NIfTI image (.nii or .nii.gz) first.');
      return;
    }
    const form = new FormData();
    form.append('radiography_type', modality);
    if (patientName.trim()) form.append('patient_name', patientName.trim());
    if (patientId.trim()) form.append('patient_id', patientId.trim());
    form.append('image_file', image, image.name);
    if (mask) form.append('mask_file', mask, mask.name);
    start(mask ? `${image.name} + ${mask.name}` : image.name, form);
    niftiForm.current?.reset();
    setImage(undefined);
    setMask(undefined);
  };

  return (
    <section className="page upload">
      <h1>Upload</h1>
      <div className="upload-grid">
        <div>
          <h2>DICOM</h2>
          {/* biome-ignore lint/a11y/noStaticElementInteractions: the drop zone; its buttons are the keyboard path. */}
          <div
            className={`dropzone${dragging ? ' dragging' : ''}`}
            data-testid="dropzone"
            onDragOver={(event) => {
              event.preventDefault();
              setDragging(true);
            }}
            onDragLeave={() => setDragging(false)}
            onDrop={onDrop}
          >
            <p>Drop DICOM files, a folder or a .zip here</p>
            <div className="buttons">
              <label className="button">
                Choose files…
                <input
                  type="file"
                  multiple
                  hidden
                  data-testid="dicom-files"
                  onChange={(event) => {
                    sendDicom([...(event.target.files ?? [])]);
                    event.target.value = '';
                  }}
                />
              </label>
              <label className="button">
                Choose a folder…
                <input
                  type="file"
                  hidden
                  data-testid="dicom-folder"
                  ref={(input) => input?.setAttribute('webkitdirectory', '')}
                  onChange={(event) => {
                    sendDicom([...(event.target.files ?? [])]);
                    event.target.value = '';
                  }}
                />
              </label>
            </div>
          </div>
        </div>
        <form
          ref={niftiForm}
          className="nifti-form"
          onSubmit={(event) => {
            event.preventDefault();
            sendNifti();
          }}
        >
          <h2>NIfTI</h2>
          <label>
            Image (.nii / .nii.gz)
            <input
              type="file"
              accept=".nii,.gz"
              data-testid="nifti-image"
              onChange={(event) => setImage(event.target.files?.[0])}
            />
          </label>
          <label>
            Mask (optional labelmap on the same grid)
            <input
              type="file"
              accept=".nii,.gz"
              data-testid="nifti-mask"
              onChange={(event) => setMask(event.target.files?.[0])}
            />
          </label>
          <label>
            Modality
            <select value={modality} onChange={(event) => setModality(event.target.value)} data-testid="nifti-modality">
              <option>CT</option>
              <option>MR</option>
            </select>
          </label>
          <label>
            Patient name (optional)
            <input value={patientName} onChange={(event) => setPatientName(event.target.value)} />
          </label>
          <label>
            Patient ID (optional)
            <input value={patientId} onChange={(event) => setPatientId(event.target.value)} />
          </label>
          <button type="submit" data-testid="nifti-submit">
            Upload NIfTI
          </button>
        </form>
      </div>
      {notice && (
        <p className="error" role="alert">
          {notice}
        </p>
      )}
      <h2>Uploads</h2>
      {entries.length === 0 && <p className="state empty">Nothing uploaded in this session yet.</p>}
      <ul className="uploads" data-testid="uploads">
        {entries.map(({ id, name, progress }) => (
          <li key={id} className={`upload-entry ${progress.phase}`} data-phase={progress.phase}>
            <div className="upload-name">{name}</div>
            {progress.phase === 'uploading' && (
              <>
                <progress max={progress.total || 1} value={progress.sent} aria-label="transfer" />
                <span className="upload-step">
                  Sending {progress.total ? `${size(progress.sent)} of ${size(progress.total)}` : '…'}
                </span>
              </>
            )}
            {progress.phase === 'processing' && (
              <>
                <progress max={100} value={progress.percent} aria-label="processing" />
                <span className="upload-step">
                  {Math.round(progress.percent)}% · {progress.step}
                </span>
              </>
            )}
            {progress.phase === 'done' && progress.study && (
              <span className="upload-step">
                Stored.{' '}
                <a href={href.viewer(progress.study)} data-testid="open-viewer">
                  Open in the viewer
                </a>
              </span>
            )}
            {progress.phase === 'failed' && (
              <div className="error" role="alert">
                {progress.error}
                {progress.hint && <div className="hint">{progress.hint}</div>}
              </div>
            )}
          </li>
        ))}
      </ul>
    </section>
  );
}
