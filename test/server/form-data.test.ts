/** The streaming multipart/form-data parser of uploads: parts come out the same however the body is cut. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { FormDataParser, formDataBoundary } from '../../src/server/form-data.ts';

const boundary = 'XyZ-boundary-42';

function body(parts: Array<{ name: string; filename?: string; bytes: Buffer }>): Buffer {
  const pieces: Buffer[] = [Buffer.from('preamble, ignored\r\n')];
  for (const part of parts) {
    const filename = part.filename === undefined ? '' : `; filename="${part.filename}"`;
    pieces.push(
      Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="${part.name}"${filename}\r\n`),
      Buffer.from('Content-Type: application/octet-stream\r\n\r\n'),
      part.bytes,
      Buffer.from('\r\n'),
    );
  }
  pieces.push(Buffer.from(`--${boundary}--\r\nepilogue, ignored`));
  return Buffer.concat(pieces);
}

function parse(chunks: Buffer[]): Array<{ name: string; filename?: string; bytes: Buffer }> {
  const parser = new FormDataParser(boundary);
  const out: Array<{ name: string; filename?: string; bytes: Buffer; pieces: Buffer[] }> = [];
  for (const chunk of chunks) {
    for (const event of parser.push(chunk)) {
      if (event.type === 'part')
        out.push({ name: event.name, filename: event.filename, bytes: Buffer.alloc(0), pieces: [] });
      else if (event.type === 'data') out.at(-1)!.pieces.push(event.bytes);
      else out.at(-1)!.bytes = Buffer.concat(out.at(-1)!.pieces);
    }
  }
  parser.finish();
  return out.map(({ name, filename, bytes }) => ({ name, ...(filename === undefined ? {} : { filename }), bytes }));
}

// Bodies full of what looks like the start of a delimiter: CR, CRLF, CRLF--, CRLF--XyZ (not the whole boundary).
const tricky = Buffer.concat([
  Buffer.from('\r\r\n\r\n-\r\n--\r\n--XyZ\r\n--XyZ-boundary-4'),
  Buffer.from(Array.from({ length: 300 }, (_, k) => (k * 37) % 256)),
  Buffer.from('\r\n--XyZ-boundary-\r'),
]);
const parts = [
  { name: 'files', filename: 'a.dcm', bytes: tricky },
  { name: 'radiography_type', bytes: Buffer.from('CT') },
  { name: 'files', filename: 'empty.dcm', bytes: Buffer.alloc(0) },
  { name: 'files', filename: 'b "quoted".dcm', bytes: Buffer.from('\r\n') },
];
const whole = body(parts.map((part) => ({ ...part, filename: part.filename?.replace(/"/g, '\\"') })));

test('the parts of a multipart/form-data body, whole, cut at every byte, and one byte a chunk', () => {
  assert.deepEqual(parse([whole]), parts);
  for (let cut = 1; cut < whole.length; cut++) {
    assert.deepEqual(parse([whole.subarray(0, cut), whole.subarray(cut)]), parts, `cut at ${cut}`);
  }
  assert.deepEqual(parse([...whole].map((byte) => Buffer.from([byte]))), parts);
});

test('a body without its closing delimiter is UPLOAD_TRUNCATED; boundaries come from the content type', () => {
  for (const end of [whole.length - 30, whole.length / 2, 10]) {
    assert.throws(() => parse([whole.subarray(0, end)]), { code: 'UPLOAD_TRUNCATED' });
  }
  assert.equal(formDataBoundary(`multipart/form-data; boundary="${boundary}"`), boundary);
  assert.equal(formDataBoundary('multipart/form-data; charset=utf-8; boundary=abc'), 'abc');
  assert.equal(formDataBoundary('application/json'), undefined);
});
