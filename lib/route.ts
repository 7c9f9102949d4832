import { KeygateError } from './errors';
import { formatRoute, HTTP_METHODS, methodSettingsKey, ParsedRoute, parseRoute } from './shared/route-pattern';

// The parsing is lib/shared/route-pattern.ts's (the ops CLI reads routes too).
export { formatRoute, HTTP_METHODS, methodSettingsKey, parseRoute } from './shared/route-pattern';
export type { ParsedRoute } from './shared/route-pattern';

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
