/** HTTP methods API Gateway accepts on a REST API method, plus ANY. */
export const HTTP_METHODS = ['ANY', 'DELETE', 'GET', 'HEAD', 'OPTIONS', 'PATCH', 'POST', 'PUT'] as const;

/** A route such as `GET /pets/{id}`, split into its method and resource path. */
export interface ParsedRoute {
  readonly httpMethod: string;
  readonly path: string;
}

const SEGMENT = /^(?:[A-Za-z0-9._~:@!$&'()*+,;=-]+|\{[A-Za-z_][A-Za-z0-9_]*\}|\{[A-Za-z_][A-Za-z0-9_]*\+\})$/;

/**
 * Parses `'METHOD /path'`. Returns a reason string instead of throwing so that each
 * caller can report it with its own construct path and property name.
 */
export function parseRoute(route: string): ParsedRoute | string {
  const match = /^\s*([A-Za-z]+)\s+(\/\S*)\s*$/.exec(route);
  if (!match) return "a route is 'METHOD /path', e.g. 'GET /pets/{id}'";
  const httpMethod = match[1].toUpperCase();
  if (!(HTTP_METHODS as readonly string[]).includes(httpMethod)) {
    return `the method must be one of ${HTTP_METHODS.join(', ')}`;
  }
  const path = match[2].length > 1 ? match[2].replace(/\/+$/, '') : '/';
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
