import { readFileSync } from 'node:fs';
import { gzipSync, gunzipSync, constants } from 'node:zlib';
const vol = gunzipSync(readFileSync(process.argv[2])).subarray(352);
console.log('bytes', vol.length);
const M = 4 << 20;
for (const [name, opts] of [['l1', { level: 1 }], ['rle', { level: 1, strategy: constants.Z_RLE }], ['huff', { level: 1, strategy: constants.Z_HUFFMAN_ONLY }], ['l6', { level: 6 }], ['l1mem9', { level: 1, memLevel: 9 }]]) {
  const t = performance.now(); let out = 0;
  for (let o = 0; o < vol.length; o += M) out += gzipSync(vol.subarray(o, o + M), opts).length;
  console.log(name.padEnd(8), (performance.now() - t).toFixed(0), 'ms', (vol.length / out).toFixed(1), ':1');
}
