/** MedvoxError codes -> HTTP status, and the one JSON error shape: `{ error: { code, message, hint } }`. */
import type { FastifyError, FastifyInstance } from 'fastify';
import { type ErrorCode, MedvoxError, toMedvoxError } from '../core/errors.ts';

const STATUS: Partial<Record<ErrorCode, number>> = {
  NOT_FOUND: 404,
  EMPTY_SELECTION: 404,
  BAD_REQUEST: 400,
  USAGE: 400,
  UNAUTHORIZED: 401,
  UPLOAD_TOO_LARGE: 413,
  UPLOAD_TRUNCATED: 400,
  ZIP_UNSAFE: 400,
  CANCELLED: 409,
  INTERNAL: 500,
  IO_ERROR: 500,
};

/** Content errors (a file that is not what it should be) are 422; the request itself was well formed. */
export function httpStatus(code: ErrorCode): number {
  return STATUS[code] ?? 422;
}

export interface ErrorBody {
  error: { code: ErrorCode; message: string; hint?: string };
}

export function errorBody(error: MedvoxError): ErrorBody {
  const message = error.file ? `${error.file}: ${error.message}` : error.message;
  return { error: { code: error.code, message, hint: error.hint } };
}

/** Fastify's own errors (body too large, bad JSON, multipart limits) as MedvoxErrors. */
export function fromFastifyError(error: FastifyError): MedvoxError {
  if (error instanceof MedvoxError) return error;
  switch (error.code) {
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
    case 'FST_REQ_FILE_TOO_LARGE':
    case 'FST_FILES_LIMIT':
    case 'FST_PARTS_LIMIT':
    case 'FST_FIELDS_LIMIT':
      return new MedvoxError('UPLOAD_TOO_LARGE', error.message, { hint: 'split the upload or raise --max-upload' });
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
    case 'FST_INVALID_MULTIPART_CONTENT_TYPE':
      return new MedvoxError('BAD_REQUEST', error.message, { hint: 'send multipart/form-data' });
  }
  if (/Unexpected end of (form|multipart)|Part terminated early|premature close|aborted/i.test(error.message)) {
    return new MedvoxError('UPLOAD_TRUNCATED', `the upload ended early: ${error.message}`, {
      hint: 'send the whole request again',
    });
  }
  if (error.statusCode !== undefined && error.statusCode >= 400 && error.statusCode < 500)
    return new MedvoxError('BAD_REQUEST', error.message);
  return toMedvoxError(error);
}

export function installErrorHandlers(app: FastifyInstance): void {
  app.setErrorHandler((error: FastifyError, request, reply) => {
    const typed = fromFastifyError(error);
    const status = httpStatus(typed.code);
    if (status >= 500) request.log.error({ err: error }, typed.describe());
    // An upload refused mid-body leaves unread bytes on the connection: close it rather than reuse it.
    if (request.raw.readableEnded === false) void reply.header('Connection', 'close');
    void reply.status(status).type('application/json').send(errorBody(typed));
  });
  app.setNotFoundHandler((request, reply) => {
    const typed = new MedvoxError('NOT_FOUND', `no route ${request.method} ${request.url.split('?')[0]}`);
    void reply.status(404).send(errorBody(typed));
  });
}
