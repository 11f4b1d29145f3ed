import { readFileSync, rmSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';
const { openNiftiStream } = await import('./dist/src/io/nifti-stream.js');
const { emptyHeader } = await import('./dist/src/core/nifti/index.js');
const raw = gunzipSync(readFileSync(process.argv[2]));
const vol = new Int16Array(raw.buffer, raw.byteOffset + 352, (raw.length - 352) / 2);
const slice = 512 * 512, n = vol.length / slice;
for (let rep = 0; rep < 3; rep++) {
  rmSync('/tmp/bct/s.nii.gz', { force: true });
  const t = performance.now();
  const s = await openNiftiStream('/tmp/bct/s.nii.gz', { gzip: true });
  s.sink.begin(Int16Array, slice, n);
  for (let i = 0; i < n; i++) { s.sink.slice(i).set(vol.subarray(i * slice, (i + 1) * slice)); await s.sink.commit(i); }
  const t1 = performance.now();
  await s.finish(() => { const h = emptyHeader(1); h.dim = [3, 512, 512, n, 1, 1, 1, 1]; h.datatype = 4; h.bitpix = 16; return h; });
  console.log('stream gz', (t1 - t).toFixed(0), (performance.now() - t).toFixed(0));
}
