import { readFileSync } from 'node:fs';
import { gzipSync, gunzipSync } from 'node:zlib';
const raw = gunzipSync(readFileSync('/tmp/bct/o1/1_Phantom_axial.nii.gz')).subarray(352);
for (const M of [512 << 10, 4 << 20, 512 << 10, 4 << 20]) {
  const t = performance.now(); let out = 0;
  for (let o = 0; o < raw.length; o += M) out += gzipSync(raw.subarray(o, o + M), { level: 1, chunkSize: 256 << 10 }).length;
  console.log(M >> 10, 'KiB members', (performance.now() - t).toFixed(0), 'ms', out);
}
