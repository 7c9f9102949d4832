/** The JSON object a control-plane request carries (an empty body is `{}`); `fail` makes the service's error. */
export function parseJsonObject(body: Buffer, fail: (message: string) => Error): Record<string, unknown> {
  if (body.length === 0) return {};
  let v: unknown;
  try {
    v = JSON.parse(body.toString('utf8'));
  } catch {
    throw fail('Invalid JSON in request body');
  }
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw fail('Request body must be a JSON object');
  return v as Record<string, unknown>;
}
