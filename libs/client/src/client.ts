import { createParser, type EventSourceMessage } from 'eventsource-parser';

/** Where the API is and who calls it. */
export interface ClientConfig {
  url: string;
  token: string | null;
  /** Sent as x-request-id, so the caller's id follows the request into the logs. */
  requestId?: string;
}

/** The error body every 4xx and 5xx answer has. */
export interface ErrorBody {
  error: {
    code: string;
    message: string;
    details: Array<{ field: string; rule: string; message: string }>;
  };
  requestId: string;
}

/** A refusal or failure of the API, with its status and body. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly body: ErrorBody | null,
    message: string,
  ) {
    super(message);
    this.name = 'ApiError';
  }
}

/** One event of GET /v1/events. */
export interface ServerEvent {
  seq: number;
  type: string;
  at: string;
  projectId: string | null;
  resource: { type: string; id: string };
  data: Record<string, unknown>;
}

export type Query = Record<string, string | number | boolean | undefined>;

export interface Answer<T> {
  status: number;
  body: T;
  headers: Headers;
}

/** A thin client of the Berth API over fetch: JSON in and out, errors as ApiError. */
export class BerthClient {
  constructor(private readonly config: ClientConfig) {}

  get baseUrl(): string {
    return this.config.url.replace(/\/+$/, '');
  }

  url(path: string, query: Query = {}): string {
    const url = new URL(this.baseUrl + path);
    for (const [key, value] of Object.entries(query)) {
      if (value !== undefined) url.searchParams.set(key, String(value));
    }
    return url.toString();
  }

  headers(extra: Record<string, string> = {}): Record<string, string> {
    return {
      ...(this.config.token ? { authorization: `Bearer ${this.config.token}` } : {}),
      ...(this.config.requestId ? { 'x-request-id': this.config.requestId } : {}),
      ...extra,
    };
  }

  async request<T>(
    method: string,
    path: string,
    options: { query?: Query; body?: unknown; signal?: AbortSignal } = {},
  ): Promise<Answer<T>> {
    const res = await fetch(this.url(path, options.query), {
      method,
      headers: this.headers(options.body === undefined ? {} : { 'content-type': 'application/json' }),
      ...(options.body === undefined ? {} : { body: JSON.stringify(options.body) }),
      ...(options.signal ? { signal: options.signal } : {}),
    });
    const text = await res.text();
    const json = (res.headers.get('content-type') ?? '').includes('json');
    const body = (text && json ? JSON.parse(text) : text) as unknown;
    if (res.status >= 400) {
      const error = json && typeof body === 'object' && body !== null && 'error' in body ? (body as ErrorBody) : null;
      throw new ApiError(res.status, error, error?.error.message ?? `${method} ${path}: HTTP ${res.status}`);
    }
    return { status: res.status, body: body as T, headers: res.headers };
  }

  get<T>(path: string, query?: Query): Promise<T> {
    return this.request<T>('GET', path, query ? { query } : {}).then((a) => a.body);
  }

  /**
   * One connection to GET /v1/events: yields its events until the server or `signal` ends it.
   * `onOpen` runs once the server has subscribed (before any event is yielded). Throws ApiError if
   * the server refuses (400, 401, 410).
   */
  async *events(
    query: Query,
    options: { lastEventId?: number; signal?: AbortSignal; onOpen?: () => void } = {},
  ): AsyncGenerator<ServerEvent> {
    const res = await fetch(this.url('/v1/events', query), {
      headers: this.headers({
        accept: 'text/event-stream',
        ...(options.lastEventId !== undefined ? { 'last-event-id': String(options.lastEventId) } : {}),
      }),
      ...(options.signal ? { signal: options.signal } : {}),
    });
    if (res.status !== 200 || !res.body) {
      const text = await res.text();
      const body = text.startsWith('{') ? (JSON.parse(text) as ErrorBody) : null;
      throw new ApiError(res.status, body, body?.error.message ?? `GET /v1/events: HTTP ${res.status}`);
    }
    // The server subscribes before it answers: from here on nothing committed is missed.
    options.onOpen?.();
    const pending: EventSourceMessage[] = [];
    const parser = createParser({ onEvent: (message) => pending.push(message) });
    const decoder = new TextDecoder();
    try {
      for await (const chunk of res.body) {
        parser.feed(decoder.decode(chunk as Uint8Array, { stream: true }));
        while (pending.length > 0) {
          const message = pending.shift()!;
          yield JSON.parse(message.data) as ServerEvent;
        }
      }
    } catch (error) {
      if (options.signal?.aborted) return;
      throw error;
    }
  }

  /**
   * Follows GET /v1/events across disconnects: reconnects with the last id it saw, so no event
   * is missed or repeated. `onOpen` runs at each (re)connection. Ends only when `signal` aborts or
   * the server refuses.
   */
  async *follow(
    query: Query,
    options: { lastEventId?: number; signal?: AbortSignal; retryMs?: number; onOpen?: () => void } = {},
  ): AsyncGenerator<ServerEvent> {
    let last = options.lastEventId;
    while (!options.signal?.aborted) {
      try {
        for await (const event of this.events(query, {
          ...(last !== undefined ? { lastEventId: last } : {}),
          ...(options.signal ? { signal: options.signal } : {}),
          ...(options.onOpen ? { onOpen: options.onOpen } : {}),
        })) {
          last = event.seq;
          yield event;
        }
      } catch (error) {
        if (error instanceof ApiError || options.signal?.aborted) throw error;
      }
      await new Promise((resolve) => setTimeout(resolve, options.retryMs ?? 1000));
    }
  }
}
