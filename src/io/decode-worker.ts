/** Worker thread of decode-pool.ts: decodes compressed frames (plain data in, pixels out). */
import { parentPort } from 'node:worker_threads';
import { decodeEncodedFrame, type EncodedFrame } from '../core/codecs/index.ts';
import { MedvoxError } from '../core/errors.ts';

export interface DecodeRequest {
  id: number;
  frame: EncodedFrame;
}

const port = parentPort;
if (!port) throw new Error('decode-worker.ts runs as a worker thread');

port.on('message', (request: DecodeRequest) => {
  decodeEncodedFrame(request.frame).then(
    (decoded) => port.postMessage({ id: request.id, decoded }),
    (error: unknown) => {
      const typed = error instanceof MedvoxError ? error : undefined;
      port.postMessage({
        id: request.id,
        error: {
          code: typed?.code ?? 'DECODE_FAILED',
          message: (error as Error).message,
          hint: typed?.hint,
          typed: typed !== undefined,
        },
      });
    },
  );
});
