/** Test plumbing for the workbench server: start one on an ephemeral port, upload, follow a job's SSE events. */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { JobEvent } from '../../src/jobs/runner.ts';
import { type RunningServer, type ServeOptions, startServer } from '../../src/server/serve.ts';
import { python } from './env.ts';

export interface TestServer extends RunningServer {
  data: string;
  stop(): Promise<void>;
}

export async function startTestServer(options: ServeOptions = {}): Promise<TestServer> {
  const data = options.data ?? mkdtempSync(join(tmpdir(), 'medvox-server-'));
  const server = await startServer({ port: 0, demo: false, ...options, data });
  return {
    ...server,
    data,
    stop: async () => {
      await server.close();
      if (!options.data) rmSync(data, { recursive: true, force: true });
    },
  };
}

export interface UploadPart {
  field: string;
  name: string;
  bytes: Uint8Array;
}

export async function upload(
  url: string,
  parts: UploadPart[],
  fields: Record<string, string> = {},
  headers: Record<string, string> = {},
  path = '/api/uploads',
): Promise<Response> {
  const form = new FormData();
  for (const [key, value] of Object.entries(fields)) form.append(key, value);
  for (const part of parts) form.append(part.field, new Blob([Uint8Array.from(part.bytes)]), part.name);
  return fetch(`${url}${path}`, { method: 'POST', body: form, headers });
}

/** Every SSE event of a job until it ends (done / failed / cancelled). */
export async function jobEvents(url: string, jobId: string): Promise<JobEvent[]> {
  const response = await fetch(`${url}/api/jobs/${jobId}/events`);
  if (!response.ok || !response.body) throw new Error(`events: HTTP ${response.status}`);
  const events: JobEvent[] = [];
  let text = '';
  const decoder = new TextDecoder();
  for await (const chunk of response.body) {
    text += decoder.decode(chunk as Uint8Array, { stream: true });
    let end = text.indexOf('\n\n');
    while (end >= 0) {
      const block = text.slice(0, end);
      text = text.slice(end + 2);
      const data = block
        .split('\n')
        .filter((line) => line.startsWith('data: '))
        .map((line) => line.slice(6))
        .join('\n');
      if (data) events.push(JSON.parse(data) as JobEvent);
      end = text.indexOf('\n\n');
    }
  }
  return events;
}

/** Decode a PNG with Pillow (an independent decoder): size, mode and the number of distinct pixel values. */
export function decodePng(bytes: Uint8Array): { width: number; height: number; mode: string; distinct: number } {
  const out = python(
    `import sys, io, json, base64
from PIL import Image
im = Image.open(io.BytesIO(base64.b64decode(sys.stdin.read())))
im.load()
print(json.dumps({"width": im.width, "height": im.height, "mode": im.mode, "distinct": len(set(im.getdata()))}))`,
    [],
    Buffer.from(bytes).toString('base64'),
  );
  return JSON.parse(out) as { width: number; height: number; mode: string; distinct: number };
}

export async function json<T = Record<string, unknown>>(response: Response): Promise<T> {
  return (await response.json()) as T;
}
