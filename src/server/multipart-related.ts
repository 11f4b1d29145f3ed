/** multipart/related bodies (RFC 2387), as DICOMweb uses them: built as a stream for WADO-RS, parsed for STOW-RS. */
import { randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import { MedvoxError } from '../core/errors.ts';

export function newBoundary(): string {
  return `medvox-${randomBytes(12).toString('hex')}`;
}

/** A stream of parts, each produced when the client reads that far (a series is never in memory whole). */
export function multipartStream(
  boundary: string,
  parts: AsyncIterable<{ contentType: string; body: Uint8Array; location?: string }>,
): Readable {
  async function* generate(): AsyncGenerator<Uint8Array> {
    for await (const part of parts) {
      const location = part.location ? `Content-Location: ${part.location}\r\n` : '';
      yield Buffer.from(`--${boundary}\r\nContent-Type: ${part.contentType}\r\n${location}\r\n`);
      yield part.body;
      yield Buffer.from('\r\n');
    }
    yield Buffer.from(`--${boundary}--\r\n`);
  }
  return Readable.from(generate(), { objectMode: false });
}

/** The boundary parameter of a multipart content type. */
export function boundaryOf(contentType: string | undefined): string {
  const match = /boundary=(?:"([^"]+)"|([^;\s]+))/i.exec(contentType ?? '');
  const boundary = match?.[1] ?? match?.[2];
  if (!boundary) throw new MedvoxError('BAD_REQUEST', 'multipart/related request without a boundary');
  return boundary;
}

/** Split a multipart/related body into its parts (headers + body bytes). */
export function parseMultipart(
  body: Buffer,
  boundary: string,
): Array<{ headers: Record<string, string>; body: Buffer }> {
  const delimiter = Buffer.from(`--${boundary}`);
  const parts: Array<{ headers: Record<string, string>; body: Buffer }> = [];
  let position = body.indexOf(delimiter);
  if (position < 0) throw new MedvoxError('BAD_REQUEST', 'the multipart body has no part');
  for (;;) {
    position += delimiter.length;
    if (body[position] === 0x2d && body[position + 1] === 0x2d) break; // closing delimiter
    // Skip the rest of the delimiter line.
    const lineEnd = body.indexOf('\r\n', position);
    if (lineEnd < 0) throw new MedvoxError('UPLOAD_TRUNCATED', 'the multipart body ends inside a delimiter');
    const headerEnd = body.indexOf('\r\n\r\n', lineEnd);
    if (headerEnd < 0) throw new MedvoxError('UPLOAD_TRUNCATED', 'the multipart body ends inside part headers');
    const headers: Record<string, string> = {};
    for (const line of body
      .subarray(lineEnd + 2, headerEnd)
      .toString('latin1')
      .split('\r\n')) {
      const colon = line.indexOf(':');
      if (colon > 0) headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
    }
    const next = body.indexOf(Buffer.concat([Buffer.from('\r\n'), delimiter]), headerEnd + 4);
    if (next < 0) throw new MedvoxError('UPLOAD_TRUNCATED', 'the multipart body ends without its closing delimiter');
    parts.push({ headers, body: body.subarray(headerEnd + 4, next) });
    position = next + 2;
  }
  return parts;
}
