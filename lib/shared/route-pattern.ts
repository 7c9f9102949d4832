/**
 * Routes such as `GET /pets/{id}`: the method and the resource path, parsed once for the
 * constructs (lib/route.ts), the ops CLI (`keygate smoke --route`) and anything else. Pure:
 * no aws-cdk-lib, no SDK.
 */

/** HTTP methods API Gateway accepts on a REST API method, plus ANY. */
export const HTTP_METHODS = ['ANY', 'DELETE', 'GET', 'HEAD', 'OPTIONS', 'PATCH', 'POST', 'PUT'] as const;

/** A route such as `GET /pets/{id}`, split into its method and resource path. */
export interface ParsedRoute {
  readonly httpMethod: string;
  readonly path: string;
}

const SEGMENT = /^(?:[A-Za-z0-9._~:@!$&'()*+,;=-]+|\{[A-Za-z_][A-Za-z0-9_]*\}|\{[A-Za-z_][A-Za-z0-9_]*\+\})$/;

/**
 * Splits `'METHOD /path'` into an upper-case method and the path as written (no check of
 * the method or the segments): undefined when the text is not of that form.
 */
export function splitRoute(route: string): ParsedRoute | undefined {
  const match = /^\s*([A-Za-z]+)\s+(\/\S*)\s*$/.exec(route);
  return match ? { httpMethod: match[1].toUpperCase(), path: match[2] } : undefined;
}

/**
 * Parses `'METHOD /path'`. Returns a reason string instead of throwing so that each
 * caller can report it with its own construct path and property name.
 */
export function parseRoute(route: string): ParsedRoute | string {
  const split = splitRoute(route);
  if (!split) return "a route is 'METHOD /path', e.g. 'GET /pets/{id}'";
  const httpMethod = split.httpMethod;
  if (!(HTTP_METHODS as readonly string[]).includes(httpMethod)) {
    return `the method must be one of ${HTTP_METHODS.join(', ')}`;
  }
  const path = split.path.length > 1 ? split.path.replace(/\/+$/, '') : '/';
  const segments = path === '/' ? [] : path.slice(1).split('/');
  for (const [i, segment] of segments.entries()) {
    if (!SEGMENT.test(segment)) return `path segment '${segment}' is not a literal, a {param} or a {proxy+}`;
    if (segment.endsWith('+}') && i !== segments.length - 1) return 'a greedy {param+} segment must be the last one';
  }
  return { httpMethod, path };
}

/** The canonical text of a route: upper-case method, one space, path without trailing slash. */
export function formatRoute(route: ParsedRoute): string {
  return `${route.httpMethod} ${route.path}`;
}

/**
 * The key API Gateway uses for per-method settings and usage-plan throttles:
 * `/pets/{id}/GET`, and `//GET` for the root resource.
 */
export function methodSettingsKey(route: ParsedRoute): string {
  return `${route.path}/${route.httpMethod}`;
}
