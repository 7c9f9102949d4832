import { KeygateError } from './errors';

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

/**
 * A route of a keygate API: `GET /pets/{id}`, split into its method and resource path.
 *
 * The free functions above stay for keygate's own constructs, which report a bad route with
 * their construct path and property; this class is the public face, for every jsii language.
 */
export class Route {
  /** HTTP methods API Gateway accepts on a REST API method, plus ANY. */
  public static readonly HTTP_METHODS: string[] = [...HTTP_METHODS];

  /**
   * Parses `'METHOD /path'`: an upper-case method, a path without a trailing slash.
   *
   * @throws an error saying what is wrong with the route
   */
  public static parse(route: string): Route {
    const parsed = parseRoute(route);
    if (typeof parsed === 'string') throw new KeygateError(`${JSON.stringify(route)}: ${parsed}`);
    return new Route(parsed.httpMethod, parsed.path);
  }

  /** What is wrong with `route`, or undefined if it is a valid route. */
  public static problemWith(route: string): string | undefined {
    const parsed = parseRoute(route);
    return typeof parsed === 'string' ? parsed : undefined;
  }

  /** The canonical text of a route: upper-case method, one space, path without trailing slash. */
  public static format(route: ParsedRoute): string {
    return formatRoute(route);
  }

  /**
   * The key API Gateway uses for per-method settings and usage-plan throttles:
   * `/pets/{id}/GET`, and `//GET` for the root resource.
   */
  public static methodSettingsKey(route: ParsedRoute): string {
    return methodSettingsKey(route);
  }

  /** The upper-case HTTP method, or ANY. */
  public readonly httpMethod: string;
  /** The resource path, from `/`, without a trailing slash. */
  public readonly path: string;

  private constructor(httpMethod: string, path: string) {
    this.httpMethod = httpMethod;
    this.path = path;
  }

  /** The canonical text, e.g. `GET /pets/{id}`. */
  public toString(): string {
    return formatRoute(this);
  }
}
