import { createReportSink } from './src/io/report-sink.ts';
const t0 = performance.now();
const sink = await createReportSink('xlsx', '/tmp/meta-bench/own.xlsx');
const a = sink.table('DICOM_Metadata');
const cols = Array.from({ length: 40 }, (_, i) => `Col${i}`);
a.setColumns(cols.slice(0, 20));
for (let r = 0; r < 3000; r++) {
  if (r === 10) a.setColumns(cols);
  const row = [];
  for (let c = 0; c < (r < 10 ? 20 : 40); c++) row.push(c % 4 === 0 ? r * 1.5 : c % 4 === 1 ? `text <&> ${r} ${c}` : c % 4 === 2 ? new Date(Date.UTC(2020, 0, 1 + (r % 30))) : c === 3 ? null : true);
  await a.addRow(row);
}
const b = sink.table('Series_Summary'); b.setColumns(['A', 'B']); await b.addRow(['x', 1]);
const c = sink.table('Empty'); 
console.log(await sink.close(), performance.now() - t0);
