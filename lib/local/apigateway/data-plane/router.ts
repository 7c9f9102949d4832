/**
 * Route matching over an API's resource tree, as API Gateway does: literal path parts
 * before `{param}`, before `{proxy+}` (greedy, one or more segments); then the method
 * itself before `ANY`.
 */
import { ApiResource, Method, RestApi } from '../model';

interface Node {
  resource?: ApiResource;
  literals: Map<string, Node>;
  param?: { name: string; node: Node };
  greedy?: { name: string; node: Node };
}

export interface RouteMatch {
  readonly resource: ApiResource;
  readonly pathParams: Record<string, string>;
}

function newNode(): Node {
  return { literals: new Map() };
}

export class Router {
  private readonly root: Node = newNode();

  constructor(api: RestApi) {
    for (const r of api.resources.values()) {
      const parts = r.path.split('/').filter((p) => p !== '');
      let n = this.root;
      for (const part of parts) {
        const greedy = /^\{(.+)\+\}$/.exec(part);
        const param = /^\{(.+)\}$/.exec(part);
        if (greedy) {
          n.greedy ??= { name: greedy[1], node: newNode() };
          n = n.greedy.node;
        } else if (param) {
          n.param ??= { name: param[1], node: newNode() };
          n = n.param.node;
        } else {
          let c = n.literals.get(part);
          if (!c) { c = newNode(); n.literals.set(part, c); }
          n = c;
        }
      }
      n.resource = r;
    }
  }

  /** Matches decoded path segments; undefined when no resource has this path. */
  match(segments: string[]): RouteMatch | undefined {
    const params: Record<string, string> = {};
    const r = this.walk(this.root, segments, 0, params);
    return r ? { resource: r, pathParams: params } : undefined;
  }

  private walk(n: Node, segs: string[], i: number, params: Record<string, string>): ApiResource | undefined {
    if (i === segs.length) return n.resource;
    const seg = segs[i];
    const lit = n.literals.get(seg);
    if (lit) {
      const r = this.walk(lit, segs, i + 1, params);
      if (r) return r;
    }
    if (n.param) {
      const r = this.walk(n.param.node, segs, i + 1, params);
      if (r) { params[n.param.name] = seg; return r; }
    }
    if (n.greedy && n.greedy.node.resource) {
      params[n.greedy.name] = segs.slice(i).join('/');
      return n.greedy.node.resource;
    }
    return undefined;
  }
}

/** The method for `httpMethod` on a resource: the method itself, else ANY. HEAD is not served by GET. */
export function methodFor(resource: ApiResource, httpMethod: string): Method | undefined {
  return resource.methods.get(httpMethod) ?? resource.methods.get('ANY');
}

const splitCache = new Map<string, string[] | undefined>();

/** Splits a raw request path into decoded segments; undefined if it is not valid percent-encoding. Callers must not change the list. */
export function splitPath(rawPath: string): string[] | undefined {
  const cached = splitCache.get(rawPath);
  if (cached !== undefined || splitCache.has(rawPath)) return cached;
  const segments = splitPathUncached(rawPath);
  // Bounded: paths repeat in practice, but a scan of random paths must not grow memory.
  if (splitCache.size >= 1024) splitCache.clear();
  splitCache.set(rawPath, segments);
  return segments;
}

function splitPathUncached(rawPath: string): string[] | undefined {
  const out: string[] = [];
  for (const p of rawPath.split('/')) {
    if (p === '') continue;
    try {
      out.push(p.includes('%') ? decodeURIComponent(p) : p);
    } catch {
      return undefined;
    }
  }
  return out;
}
