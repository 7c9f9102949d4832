/**
 * CloudWatch Logs filter patterns, as metric filters apply them to log events: JSON patterns
 * (`{ $.a = "x" }`, `{ ($.a = "x") || ($.b > 3) }`, `!=`, `<`, `<=`, `>`, `>=`, `*` wildcards in
 * strings, `IS NULL`, `NOT EXISTS`, `&&`, `||`, parentheses), the empty pattern (every event) and
 * term patterns (`ERROR`, `"exact phrase"`, `-term`: every term must appear, none of the excluded).
 * Space-delimited patterns (`[a, b=…]`) are refused with FilterPatternError.
 */

export class FilterPatternError extends Error {}

/** A compiled pattern: does one log event match, and what did it read. */
export interface FilterPattern {
  matches(event: string): boolean;
}

type Node =
  | { kind: 'or' | 'and'; left: Node; right: Node }
  | { kind: 'cmp'; path: string[]; op: string; value: string | number | null };

export function compileFilterPattern(pattern: string): FilterPattern {
  const p = pattern.trim();
  if (p === '') return { matches: () => true };
  if (p.startsWith('[')) throw new FilterPatternError(`space-delimited filter patterns are not emulated: ${pattern}`);
  if (p.startsWith('{')) {
    if (!p.endsWith('}')) throw new FilterPatternError(`unbalanced braces in ${pattern}`);
    const tokens = tokenize(p.slice(1, -1), pattern);
    const parser = new Parser(tokens, pattern);
    const tree = parser.expression();
    parser.end();
    return {
      matches: (event) => {
        let doc: unknown;
        try {
          doc = JSON.parse(event);
        } catch {
          return false;
        }
        return evaluate(tree, doc);
      },
    };
  }
  return termPattern(p);
}

/** The value at a `$.a.b[0]` path of a JSON document (selector strings for metric dimensions and values too). */
export function jsonPath(doc: unknown, selector: string): unknown {
  const path = parsePath(selector.trim(), selector);
  return path.reduce<unknown>((v, key) => (v !== null && typeof v === 'object' ? (v as Record<string, unknown>)[key] : undefined), doc);
}

function parsePath(text: string, pattern: string): string[] {
  if (!text.startsWith('$')) throw new FilterPatternError(`a JSON selector starts with $: ${text} in ${pattern}`);
  return [...text.slice(1).matchAll(/\.([A-Za-z0-9_@:-]+)|\[(\d+)\]/g)].map((m) => m[1] ?? m[2]);
}

function termPattern(p: string): FilterPattern {
  const terms = [...p.matchAll(/(-?)(?:"([^"]*)"|(\S+))/g)].map((m) => ({ exclude: m[1] === '-', text: m[2] ?? m[3] }));
  return {
    matches: (event) => terms.filter((t) => !t.exclude).every((t) => event.includes(t.text)) && !terms.some((t) => t.exclude && event.includes(t.text)),
  };
}

const TOKEN = /\s*(\|\||&&|\(|\)|!=|<=|>=|=|<|>|"(?:[^"\\]|\\.)*"|\$[^\s=!<>()&|]*|-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?|IS\s+NULL|NOT\s+EXISTS|[A-Za-z*][^\s=!<>()&|]*)/y;

function tokenize(text: string, pattern: string): string[] {
  const tokens: string[] = [];
  TOKEN.lastIndex = 0;
  while (TOKEN.lastIndex < text.length) {
    if (/^\s*$/.test(text.slice(TOKEN.lastIndex))) break;
    const m = TOKEN.exec(text);
    if (!m) throw new FilterPatternError(`cannot read ${pattern} at "${text.slice(TOKEN.lastIndex).trim()}"`);
    tokens.push(m[1]);
  }
  return tokens;
}

class Parser {
  private i = 0;
  constructor(private readonly tokens: string[], private readonly pattern: string) {}

  expression(): Node {
    let left = this.conjunction();
    while (this.peek() === '||') { this.i++; left = { kind: 'or', left, right: this.conjunction() }; }
    return left;
  }

  end(): void {
    if (this.i < this.tokens.length) throw new FilterPatternError(`unexpected ${this.tokens[this.i]} in ${this.pattern}`);
  }

  private conjunction(): Node {
    let left = this.primary();
    while (this.peek() === '&&') { this.i++; left = { kind: 'and', left, right: this.primary() }; }
    return left;
  }

  private primary(): Node {
    if (this.peek() === '(') {
      this.i++;
      const inner = this.expression();
      if (this.tokens[this.i++] !== ')') throw new FilterPatternError(`missing ) in ${this.pattern}`);
      return inner;
    }
    const selector = this.tokens[this.i++] ?? '';
    const path = parsePath(selector, this.pattern);
    const op = this.tokens[this.i++];
    if (op !== undefined && /^IS\s+NULL$/.test(op)) return { kind: 'cmp', path, op: 'null', value: null };
    if (op !== undefined && /^NOT\s+EXISTS$/.test(op)) return { kind: 'cmp', path, op: 'absent', value: null };
    if (!['=', '!=', '<', '<=', '>', '>='].includes(op ?? '')) throw new FilterPatternError(`expected a comparison after ${selector} in ${this.pattern}`);
    const raw = this.tokens[this.i++];
    if (raw === undefined) throw new FilterPatternError(`missing value after ${selector} ${op} in ${this.pattern}`);
    const value = raw.startsWith('"') ? (JSON.parse(raw) as string) : /^-?\d/.test(raw) ? Number(raw) : raw;
    if (typeof value !== 'number' && op !== '=' && op !== '!=') throw new FilterPatternError(`${op} takes a number in ${this.pattern}`);
    return { kind: 'cmp', path, op: op as string, value };
  }

  private peek(): string | undefined {
    return this.tokens[this.i];
  }
}

function evaluate(node: Node, doc: unknown): boolean {
  if (node.kind !== 'cmp') return node.kind === 'or' ? evaluate(node.left, doc) || evaluate(node.right, doc) : evaluate(node.left, doc) && evaluate(node.right, doc);
  const v = node.path.reduce<unknown>((o, key) => (o !== null && typeof o === 'object' ? (o as Record<string, unknown>)[key] : undefined), doc);
  if (node.op === 'null') return v === null;
  if (node.op === 'absent') return v === undefined;
  if (v === undefined || v === null || typeof v === 'object') return false;
  if (typeof node.value === 'number') {
    const n = Number(v);
    if (!Number.isFinite(n)) return false;
    switch (node.op) {
      case '=': return n === node.value;
      case '!=': return n !== node.value;
      case '<': return n < node.value;
      case '<=': return n <= node.value;
      case '>': return n > node.value;
      default: return n >= node.value;
    }
  }
  const pattern = new RegExp(`^${String(node.value).split('*').map((s) => s.replace(/[.+?^${}()|[\]\\]/g, '\\$&')).join('.*')}$`);
  const equal = pattern.test(String(v));
  return node.op === '=' ? equal : !equal;
}
