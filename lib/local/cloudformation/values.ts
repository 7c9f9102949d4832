/** Reading CloudFormation property values (already resolved) into plain typed values. */
import { ThrottleSettings } from '../apigateway/model';

export type Obj = Record<string, unknown>;

export function obj(v: unknown): Obj {
  return typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Obj) : {};
}
export function str(v: unknown): string | undefined {
  return typeof v === 'string' ? v : typeof v === 'number' ? String(v) : undefined;
}
export function num(v: unknown): number | undefined {
  if (typeof v === 'number') return v;
  if (typeof v === 'string' && v.trim() !== '' && !isNaN(Number(v))) return Number(v);
  return undefined;
}
export function bool(v: unknown, d: boolean): boolean {
  if (v === undefined) return d;
  return v === true || v === 'true';
}
export function strMap(v: unknown): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, x] of Object.entries(obj(v))) {
    const s = str(x) ?? (typeof x === 'boolean' ? String(x) : undefined);
    if (s !== undefined) out[k] = s;
  }
  return out;
}

export function throttleOf(v: unknown): ThrottleSettings | undefined {
  const o = obj(v);
  const rateLimit = num(o.RateLimit);
  const burstLimit = num(o.BurstLimit);
  if (rateLimit === undefined && burstLimit === undefined) return undefined;
  return { rateLimit, burstLimit };
}

/** CloudFormation tags (a `[{Key, Value}]` list or a map) as a map. */
export function tagsToMap(tags: unknown): Record<string, string> {
  const out: Record<string, string> = {};
  if (Array.isArray(tags)) for (const t of tags) out[String(obj(t).Key)] = String(obj(t).Value);
  else Object.assign(out, strMap(tags));
  return out;
}
