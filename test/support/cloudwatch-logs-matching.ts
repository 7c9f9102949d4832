/**
 * CloudWatch Logs' matching of JSON log events, for tests: metric filter patterns
 * (`{ $.status = "429" && $.errorResponseType = "THROTTLED" }`) and Contributor Insights rule
 * filters and keys. No npm library implements either (the only implementation is the
 * service; its TestMetricFilter API needs an AWS account), so this covers the documented JSON
 * grammar that keygate's patterns and rules use:
 *
 * - `{ SELECTOR OP VALUE }` with SELECTOR `$.a.b` or `$.a[0].b`, OP one of `= != < > <= >=`;
 * - VALUE a quoted string, a bare token, a number, `true`/`false` or `NULL`; `*` in a string or
 *   bare token is a wildcard;
 * - `&&`, `||` (`&&` binds tighter) and parentheses;
 * - strings compare with strings, numbers with numbers; a missing field matches nothing.
 *   A line that is not JSON matches no JSON pattern.
 */

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

interface Comparison { readonly kind: 'cmp'; readonly selector: string[]; readonly op: string; readonly value: Literal }
interface Junction { readonly kind: 'and' | 'or'; readonly left: Node; readonly right: Node }
type Node = Comparison | Junction;
type Literal = { readonly type: 'string'; readonly text: string } | { readonly type: 'number'; readonly value: number }
  | { readonly type: 'boolean'; readonly value: boolean } | { readonly type: 'null' };

/** Whether the JSON filter pattern matches the log line, as CloudWatch Logs would decide. */
export function matchesFilterPattern(pattern: string, line: string): boolean {
  const tree = parseFilterPattern(pattern);
  let event: Json;
  try {
    event = JSON.parse(line) as Json;
  } catch {
    return false;
  }
  return evaluate(tree, event);
}

/** Parses a JSON filter pattern; throws on anything outside the grammar above. */
export function parseFilterPattern(pattern: string): Node {
  const text = pattern.trim();
  if (!text.startsWith('{') || !text.endsWith('}')) throw new Error(`not a JSON filter pattern: ${pattern}`);
  const tokens = tokenize(text.slice(1, -1));
  let at = 0;
  const peek = () => tokens[at];
  const next = () => {
    if (at >= tokens.length) throw new Error(`unexpected end of pattern: ${pattern}`);
    return tokens[at++];
  };
  const expect = (token: string) => {
    const got = next();
    if (got !== token) throw new Error(`expected ${token}, got ${got} in ${pattern}`);
  };
  const parseOr = (): Node => {
    let left = parseAnd();
    while (peek() === '||') { next(); left = { kind: 'or', left, right: parseAnd() }; }
    return left;
  };
  const parseAnd = (): Node => {
    let left = parseTerm();
    while (peek() === '&&') { next(); left = { kind: 'and', left, right: parseTerm() }; }
    return left;
  };
  const parseTerm = (): Node => {
    if (peek() === '(') {
      next();
      const inner = parseOr();
      expect(')');
      return inner;
    }
    const selector = parseSelector(next(), pattern);
    const op = next();
    if (!['=', '!=', '<', '>', '<=', '>='].includes(op)) throw new Error(`unknown operator ${op} in ${pattern}`);
    return { kind: 'cmp', selector, op, value: parseLiteral(next()) };
  };
  const tree = parseOr();
  if (at !== tokens.length) throw new Error(`unexpected ${tokens[at]} in ${pattern}`);
  return tree;
}

function tokenize(body: string): string[] {
  const tokens: string[] = [];
  const re = /\s*("(?:[^"\\]|\\.)*"|&&|\|\||<=|>=|!=|[()=<>]|[^\s()=<>!&|]+)/gy;
  let match: RegExpExecArray | null;
  let last = 0;
  while ((match = re.exec(body)) !== null) {
    tokens.push(match[1]);
    last = re.lastIndex;
  }
  if (body.slice(last).trim() !== '') throw new Error(`cannot read "${body.slice(last)}" in a filter pattern`);
  return tokens;
}

function parseSelector(token: string, pattern: string): string[] {
  if (!/^\$(\.[A-Za-z_][\w-]*|\[\d+\])+$/.test(token)) throw new Error(`bad selector ${token} in ${pattern}`);
  return [...token.matchAll(/\.([A-Za-z_][\w-]*)|\[(\d+)\]/g)].map((m) => m[1] ?? m[2]);
}

function parseLiteral(token: string): Literal {
  if (token.startsWith('"')) return { type: 'string', text: JSON.parse(token) as string };
  if (token === 'true' || token === 'false') return { type: 'boolean', value: token === 'true' };
  if (token === 'NULL') return { type: 'null' };
  if (/^-?\d+(\.\d+)?([eE][+-]?\d+)?$/.test(token)) return { type: 'number', value: Number(token) };
  return { type: 'string', text: token };
}

function select(event: Json, path: string[]): Json | undefined {
  let value: Json | undefined = event;
  for (const part of path) {
    if (value === null || typeof value !== 'object') return undefined;
    value = Array.isArray(value) ? value[Number(part)] : value[part];
  }
  return value;
}

function evaluate(node: Node, event: Json): boolean {
  if (node.kind !== 'cmp') {
    return node.kind === 'and' ? evaluate(node.left, event) && evaluate(node.right, event) : evaluate(node.left, event) || evaluate(node.right, event);
  }
  const actual = select(event, node.selector);
  if (actual === undefined) return false;
  const { op, value } = node;
  if (value.type === 'null') return op === '=' ? actual === null : op === '!=' && actual !== null;
  if (value.type === 'boolean') return typeof actual === 'boolean' && (op === '=' ? actual === value.value : op === '!=' && actual !== value.value);
  if (value.type === 'number') {
    if (typeof actual !== 'number') return false;
    switch (op) {
      case '=': return actual === value.value;
      case '!=': return actual !== value.value;
      case '<': return actual < value.value;
      case '>': return actual > value.value;
      case '<=': return actual <= value.value;
      default: return actual >= value.value;
    }
  }
  if (typeof actual !== 'string') return false;
  const wildcard = new RegExp(`^${value.text.split('*').map(escapeRegExp).join('.*')}$`, 's');
  if (op === '=') return wildcard.test(actual);
  if (op === '!=') return !wildcard.test(actual);
  throw new Error(`operator ${op} needs a number`);
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** A Contributor Insights rule body (schema CloudWatchLogRule v1) for JSON logs. */
export interface InsightRuleBody {
  readonly Schema: { readonly Name: string; readonly Version: number };
  readonly LogGroupNames?: unknown[];
  readonly LogFormat: string;
  readonly Contribution: { readonly Keys: string[]; readonly ValueOf?: string; readonly Filters?: Array<Record<string, unknown>> };
  readonly AggregateOn: string;
}

/**
 * The contributor (the values of the rule's keys, joined by `|`) that a JSON log line counts
 * for, or undefined when the line doesn't pass the rule's filters, lacks a key, or isn't JSON.
 * Filters: In, NotIn, StartsWith, EqualTo, NotEqualTo, GreaterThan, LessThan, IsPresent.
 */
export function insightRuleContributor(rule: InsightRuleBody, line: string): string | undefined {
  if (rule.Schema.Name !== 'CloudWatchLogRule' || rule.Schema.Version !== 1 || rule.LogFormat !== 'JSON') {
    throw new Error(`not a JSON CloudWatchLogRule v1: ${JSON.stringify(rule.Schema)} ${rule.LogFormat}`);
  }
  let event: Json;
  try {
    event = JSON.parse(line) as Json;
  } catch {
    return undefined;
  }
  const at = (selector: string) => select(event, parseSelector(selector, selector));
  for (const filter of rule.Contribution.Filters ?? []) {
    const value = at(String(filter.Match));
    for (const [operator, operand] of Object.entries(filter)) {
      if (operator === 'Match') continue;
      if (!passes(operator, operand, value)) return undefined;
    }
  }
  const keys = rule.Contribution.Keys.map((key) => at(key));
  if (keys.some((value) => value === undefined || value === null || typeof value === 'object')) return undefined;
  return keys.map(String).join('|');
}

function passes(operator: string, operand: unknown, value: Json | undefined): boolean {
  switch (operator) {
    case 'In': return value !== undefined && (operand as Json[]).some((candidate) => candidate === value);
    case 'NotIn': return value !== undefined && !(operand as Json[]).some((candidate) => candidate === value);
    case 'StartsWith': return typeof value === 'string' && (operand as string[]).some((prefix) => value.startsWith(prefix));
    case 'EqualTo': return value === operand;
    case 'NotEqualTo': return value !== undefined && value !== operand;
    case 'GreaterThan': return typeof value === 'number' && value > (operand as number);
    case 'LessThan': return typeof value === 'number' && value < (operand as number);
    case 'IsPresent': return (value !== undefined) === operand;
    default: throw new Error(`unknown Contributor Insights filter operator ${operator}`);
  }
}
