/** The running stack's API, as deploy/up.sh leaves it (BERTH_URL and BERTH_TOKEN from .berth/env). */
const url = process.env['BERTH_URL'];
const token = process.env['BERTH_TOKEN'];

export function assertStack(): void {
  if (!url || !token) throw new Error('set BERTH_URL and BERTH_TOKEN (deploy/up.sh, then: . .berth/env)');
}

/** One call as the bootstrap admin; a 4xx or 5xx throws with the answer. */
export async function api(method: string, path: string, body?: unknown): Promise<any> {
  const res = await fetch(`${url}${path}`, {
    method,
    headers: { authorization: `Bearer ${token}`, ...(body ? { 'content-type': 'application/json' } : {}) },
    ...(body ? { body: JSON.stringify(body) } : {}),
  });
  const text = await res.text();
  if (res.status === 429) {
    throw new Error(
      `${method} ${path}: 429: the admin's request limit; start the stack with BERTH_RATE_EXEMPT_ADMIN=true`,
    );
  }
  if (res.status >= 400) throw new Error(`${method} ${path}: ${res.status} ${text}`);
  return text ? JSON.parse(text) : undefined;
}

/** Waits for an operation to succeed, polling every 5 ms; a failed one throws with its fault. */
export async function finished(operationId: string): Promise<void> {
  for (;;) {
    const op = await api('GET', `/v1/operations/${operationId}`);
    if (op.status === 'succeeded') return;
    if (op.status === 'failed') throw new Error(`operation ${operationId}: ${JSON.stringify(op.fault)}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}
