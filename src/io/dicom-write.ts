/**
 * A DICOM file written atomically (atomic.ts) by position: a deferred value at the end of the dataset (a BINARY SEG's
 * Pixel Data, packed on demand) is written chunk by chunk at its measured offset while the header (thousands of
 * per-frame items) is encoded between the chunks, so that encoding and the file system's work overlap.
 */
import type { DicomFile } from '../core/dicom/model.ts';
import { planDicom, type WriteOptions } from '../core/dicom/writer.ts';
import { type FileParts, writeAtomic, writeParts, writeValueAt } from './atomic.ts';

/** Encoding time between two chunks of the deferred value (about what the file system takes to write one). */
const ENCODE_SLICE_MS = 4;

export async function writeDicomFileAtomic(path: string, file: DicomFile, options: WriteOptions = {}): Promise<void> {
  const plan = planDicom(file, options);
  await writeAtomic(path, async (handle) => {
    let parts: FileParts | undefined;
    const encode = (until: number): void => {
      while (!parts && performance.now() < until) {
        const step = plan.steps.next();
        if (step.done) parts = step.value;
      }
    };
    if (plan.deferred) {
      const { value, offset } = plan.deferred;
      await writeValueAt(handle, value, offset, () => encode(performance.now() + ENCODE_SLICE_MS));
    }
    encode(Number.POSITIVE_INFINITY);
    await writeParts(handle, parts!, plan.deferred);
  });
}
