// Reads the HTTP status code and the API server's Status message out of a client-node error.
import { ApiException } from '@kubernetes/client-node';

export interface ApiFailure {
  code: number;
  /** metav1.Status.message when the body is a Status, else the raw body text. */
  message: string;
  reason: string | undefined;
}

function parseBody(body: unknown): { message?: string; reason?: string } | undefined {
  if (typeof body === 'string') {
    try {
      return parseBody(JSON.parse(body) as unknown);
    } catch {
      return { message: body };
    }
  }
  if (typeof body === 'object' && body !== null) return body;
  return undefined;
}

export function apiFailure(err: unknown): ApiFailure {
  if (!(err instanceof ApiException)) throw err;
  const body = parseBody((err as ApiException<unknown>).body);
  return { code: err.code, message: body?.message ?? err.message, reason: body?.reason };
}

/** Runs call, which must fail with an API error; returns that error. */
export async function expectApiFailure(call: () => Promise<unknown>): Promise<ApiFailure> {
  try {
    await call();
  } catch (err) {
    return apiFailure(err);
  }
  throw new Error('expected the API server to reject the request, but it succeeded');
}
