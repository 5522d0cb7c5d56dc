import { BerthError, RateLimited, type ErrorCode, type QuotaExcess } from '@berth/domain';
import type { Logger } from '@berth/platform';
import { Catch, HttpException, type ArgumentsHost, type ExceptionFilter } from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { osErrorBody, osServiceOf } from '../openstack/os-http';

/** The error body of every non-2xx answer. */
export interface ErrorBody {
  error: {
    code: ErrorCode | 'internal';
    message: string;
    details: Array<{ field: string; rule: string; message: string }>;
    /** With code quota_exceeded: each resource that would pass its limit. */
    quota?: QuotaExcess[];
  };
  requestId: string;
}

/** The one place where an error becomes an HTTP status. */
export function statusOf(code: ErrorCode): number {
  switch (code) {
    case 'invalid':
      return 400;
    case 'unauthenticated':
      return 401;
    case 'forbidden':
    case 'quota_exceeded':
      return 403;
    case 'not_found':
      return 404;
    case 'conflict':
      return 409;
    case 'gone':
      return 410;
    case 'payload_too_large':
      return 413;
    case 'rate_limited':
      return 429;
    case 'unavailable':
      return 503;
  }
}

function codeOfStatus(status: number): ErrorCode | 'internal' {
  if (status === 401) return 'unauthenticated';
  if (status === 403) return 'forbidden';
  if (status === 404) return 'not_found';
  if (status === 409) return 'conflict';
  if (status === 410) return 'gone';
  if (status === 413) return 'payload_too_large';
  if (status === 429) return 'rate_limited';
  if (status === 503) return 'unavailable';
  if (status >= 400 && status < 500) return 'invalid';
  return 'internal';
}

/** Framework errors (unknown route, malformed JSON, oversized body) carry an HTTP status already. */
function statusOfForeign(exception: unknown): number {
  if (exception instanceof HttpException) return exception.getStatus();
  const status = (exception as { statusCode?: unknown } | null)?.statusCode;
  return typeof status === 'number' && status >= 400 && status < 600 ? status : 500;
}

/** Answers a request with the error body of `exception` (the one place errors become answers). */
export function sendError(exception: unknown, request: FastifyRequest, reply: FastifyReply, log: Logger): void {
  let status: number;
  let body: ErrorBody['error'];
  if (exception instanceof BerthError) {
    status = statusOf(exception.code);
    body = {
      code: exception.code,
      message: exception.message,
      details: [...exception.details],
      ...(exception.quota.length > 0 ? { quota: [...exception.quota] } : {}),
    };
  } else {
    status = statusOfForeign(exception);
    const code = codeOfStatus(status);
    const message = status >= 500 ? 'internal error' : exception instanceof Error ? exception.message : 'bad request';
    body = { code, message, details: [] };
    if (status >= 500) {
      log.error(
        { requestId: request.id, err: exception instanceof Error ? exception.stack : String(exception) },
        'unhandled error',
      );
    }
  }
  if (exception instanceof RateLimited) void reply.header('retry-after', String(exception.retryAfterSec));
  // The OpenStack face answers in each service's own error body, which its clients read.
  const service = osServiceOf(request.url);
  if (service) {
    void reply.status(status).send(osErrorBody(service, status, body.message));
    return;
  }
  void reply.status(status).send({ error: body, requestId: request.id } satisfies ErrorBody);
}

@Catch()
export class ErrorFilter implements ExceptionFilter {
  constructor(private readonly log: Logger) {}

  catch(exception: unknown, host: ArgumentsHost): void {
    const http = host.switchToHttp();
    sendError(exception, http.getRequest<FastifyRequest>(), http.getResponse<FastifyReply>(), this.log);
  }
}
