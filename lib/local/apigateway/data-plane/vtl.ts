/**
 * A small Velocity Template Language interpreter: the subset API Gateway mapping
 * templates use — references ($a.b, $!a, ${a}, method calls), #set, #if/#elseif/#else,
 * #foreach, ## comments — over plain JS values.
 */

type Value = unknown;
type Scope = Map<string, Value>;

interface TextNode { k: 'text'; s: string }
interface RefNode { k: 'ref'; e: Expr; quiet: boolean; src: string }
interface SetNode { k: 'set'; target: Expr; e: Expr }
interface IfNode { k: 'if'; branches: { cond?: Expr; body: Node[] }[] }
interface ForNode { k: 'for'; v: string; e: Expr; body: Node[] }
type Node = TextNode | RefNode | SetNode | IfNode | ForNode;

type Expr =
  | { k: 'lit'; v: Value }
  | { k: 'str'; parts: Node[] }
  | { k: 'var'; name: string }
  | { k: 'prop'; o: Expr; name: string }
  | { k: 'call'; o: Expr; name: string; args: Expr[] }
  | { k: 'index'; o: Expr; i: Expr }
  | { k: 'list'; items: Expr[] }
  | { k: 'map'; entries: [Expr, Expr][] }
  | { k: 'un'; op: string; e: Expr }
  | { k: 'bin'; op: string; l: Expr; r: Expr };

export class VtlError extends Error {}

class Parser {
  i = 0;
  constructor(readonly s: string) {}

  parseNodes(stopAt: string[] = []): { nodes: Node[]; stop?: string } {
    const nodes: Node[] = [];
    let text = '';
    const flush = (): void => { if (text) { nodes.push({ k: 'text', s: text }); text = ''; } };
    const s = this.s;
    while (this.i < s.length) {
      const c = s[this.i];
      if (c === '#' && s[this.i + 1] === '#') {
        while (this.i < s.length && s[this.i] !== '\n') this.i++;
        continue;
      }
      if (c === '#' && s[this.i + 1] === '*') {
        const end = s.indexOf('*#', this.i + 2);
        this.i = end < 0 ? s.length : end + 2;
        continue;
      }
      if (c === '#') {
        const m = /^#\{?(set|if|elseif|else|end|foreach)\}?/.exec(s.slice(this.i, this.i + 12));
        if (m) {
          const kw = m[1];
          // Gobble whitespace before a directive that starts its line.
          const lineStart = text.lastIndexOf('\n');
          const before = text.slice(lineStart + 1);
          const alone = /^[ \t]*$/.test(before);
          if (alone) text = text.slice(0, lineStart + 1);
          flush();
          this.i += m[0].length;
          if (stopAt.includes(kw)) {
            if (kw === 'elseif') return { nodes, stop: kw };
            this.gobbleLine();
            return { nodes, stop: kw };
          }
          nodes.push(this.parseDirective(kw));
          continue;
        }
      }
      if (c === '$' && /[!{A-Za-z_]/.test(s[this.i + 1] ?? '')) {
        const start = this.i;
        const r = this.tryRef();
        if (r) { flush(); nodes.push({ ...r, src: s.slice(start, this.i) }); continue; }
        this.i = start;
      }
      if (c === '\\' && (s[this.i + 1] === '$' || s[this.i + 1] === '#')) { text += s[this.i + 1]; this.i += 2; continue; }
      text += c;
      this.i++;
    }
    flush();
    return { nodes };
  }

  /** The node of a `#set`, `#if` or `#foreach` directive, just after its keyword. */
  private parseDirective(kw: string): Node {
    if (kw === 'set') {
      this.expectChar('(');
      const target = this.parseExpr();
      this.skipWs();
      this.expectChar('=');
      const e = this.parseExpr();
      this.skipWs();
      this.expectChar(')');
      this.gobbleLine();
      return { k: 'set', target, e };
    }
    if (kw === 'if') return this.parseIf();
    if (kw === 'foreach') return this.parseForeach();
    throw new VtlError(`unexpected #${kw}`);
  }

  private parseIf(): Node {
    const branches: { cond?: Expr; body: Node[] }[] = [];
    let cond: Expr | undefined = this.parenExpr();
    this.gobbleLine();
    for (;;) {
      const r = this.parseNodes(['elseif', 'else', 'end']);
      branches.push({ cond, body: r.nodes });
      if (r.stop === 'elseif') { cond = this.parenExpr(); this.gobbleLine(); continue; }
      if (r.stop === 'else') { cond = undefined; const r2 = this.parseNodes(['end']); branches.push({ body: r2.nodes }); if (r2.stop !== 'end') throw new VtlError('#if without #end'); break; }
      if (r.stop === 'end') break;
      throw new VtlError('#if without #end');
    }
    return { k: 'if', branches };
  }

  private parseForeach(): Node {
    this.expectChar('(');
    this.skipWs();
    const m2 = /^\$!?\{?([A-Za-z_][\w-]*)\}?\s+in\s+/.exec(this.s.slice(this.i));
    if (!m2) throw new VtlError('bad #foreach');
    this.i += m2[0].length;
    const e = this.parseExpr();
    this.skipWs();
    this.expectChar(')');
    this.gobbleLine();
    const r = this.parseNodes(['end']);
    if (r.stop !== 'end') throw new VtlError('#foreach without #end');
    return { k: 'for', v: m2[1], e, body: r.nodes };
  }

  private gobbleLine(): void {
    const m = /^[ \t]*\r?\n/.exec(this.s.slice(this.i, this.i + 200));
    if (m) this.i += m[0].length;
  }

  private expectChar(ch: string): void {
    this.skipWs();
    if (this.s[this.i] !== ch) throw new VtlError(`expected '${ch}' at ${this.i}`);
    this.i++;
  }

  private skipWs(): void {
    while (this.i < this.s.length && /\s/.test(this.s[this.i])) this.i++;
  }

  private parenExpr(): Expr {
    this.expectChar('(');
    const e = this.parseExpr();
    this.expectChar(')');
    return e;
  }

  private tryRef(): { k: 'ref'; e: Expr; quiet: boolean } | undefined {
    const s = this.s;
    this.i++; // $
    let quiet = false;
    if (s[this.i] === '!') { quiet = true; this.i++; }
    let braced = false;
    if (s[this.i] === '{') { braced = true; this.i++; }
    const m = /^[A-Za-z_][\w]*/.exec(s.slice(this.i));
    if (!m) return undefined;
    this.i += m[0].length;
    let e: Expr = { k: 'var', name: m[0] };
    e = this.postfix(e, true);
    if (braced) {
      if (s[this.i] !== '}') return undefined;
      this.i++;
    }
    return { k: 'ref', e, quiet };
  }

  /** Property/method/index chain. Inside directives a property name may contain '-' (header names). */
  private postfix(e: Expr, inText: boolean): Expr {
    const s = this.s;
    for (;;) {
      if (s[this.i] === '.' && /[A-Za-z_]/.test(s[this.i + 1] ?? '')) {
        const m = (inText ? /^[A-Za-z_]\w*/ : /^[A-Za-z_][\w-]*/).exec(s.slice(this.i + 1));
        if (!m) break;
        const name = m[0];
        this.i += 1 + name.length;
        if (s[this.i] === '(') {
          this.i++;
          const args: Expr[] = [];
          this.skipWs();
          if (s[this.i] !== ')') {
            for (;;) {
              args.push(this.parseExpr());
              this.skipWs();
              if (s[this.i] === ',') { this.i++; continue; }
              break;
            }
          }
          this.expectChar(')');
          e = { k: 'call', o: e, name, args };
        } else e = { k: 'prop', o: e, name };
        continue;
      }
      if (s[this.i] === '[') {
        this.i++;
        const idx = this.parseExpr();
        this.expectChar(']');
        e = { k: 'index', o: e, i: idx };
        continue;
      }
      break;
    }
    return e;
  }

  parseExpr(): Expr {
    return this.parseOr();
  }

  private parseOr(): Expr {
    let l = this.parseAnd();
    for (;;) {
      this.skipWs();
      if (this.s.startsWith('||', this.i)) { this.i += 2; l = { k: 'bin', op: '||', l, r: this.parseAnd() }; continue; }
      if (/^or\b/.test(this.s.slice(this.i, this.i + 3))) { this.i += 2; l = { k: 'bin', op: '||', l, r: this.parseAnd() }; continue; }
      return l;
    }
  }

  private parseAnd(): Expr {
    let l = this.parseCmp();
    for (;;) {
      this.skipWs();
      if (this.s.startsWith('&&', this.i)) { this.i += 2; l = { k: 'bin', op: '&&', l, r: this.parseCmp() }; continue; }
      if (/^and\b/.test(this.s.slice(this.i, this.i + 4))) { this.i += 3; l = { k: 'bin', op: '&&', l, r: this.parseCmp() }; continue; }
      return l;
    }
  }

  private parseCmp(): Expr {
    let l = this.parseAdd();
    this.skipWs();
    const m = /^(==|!=|<=|>=|<|>|eq\b|ne\b)/.exec(this.s.slice(this.i, this.i + 3));
    if (m) {
      this.i += m[0].length;
      const op = m[0] === 'eq' ? '==' : m[0] === 'ne' ? '!=' : m[0];
      l = { k: 'bin', op, l, r: this.parseAdd() };
    }
    return l;
  }

  private parseAdd(): Expr {
    let l = this.parseUnary();
    for (;;) {
      this.skipWs();
      const c = this.s[this.i];
      if ((c === '+' || c === '-' || c === '*' || c === '/' || c === '%') && this.s[this.i + 1] !== '=') {
        this.i++;
        l = { k: 'bin', op: c, l, r: this.parseUnary() };
        continue;
      }
      return l;
    }
  }

  private parseUnary(): Expr {
    this.skipWs();
    if (this.s[this.i] === '!' ) { this.i++; return { k: 'un', op: '!', e: this.parseUnary() }; }
    if (/^not\b/.test(this.s.slice(this.i, this.i + 4))) { this.i += 3; return { k: 'un', op: '!', e: this.parseUnary() }; }
    return this.parsePrimary();
  }

  private parsePrimary(): Expr {
    this.skipWs();
    const s = this.s;
    const c = s[this.i];
    if (c === '(') { this.i++; const e = this.parseExpr(); this.expectChar(')'); return e; }
    if (c === '"' || c === "'") {
      let j = this.i + 1;
      let raw = '';
      while (j < s.length && s[j] !== c) { if (s[j] === '\\' && j + 1 < s.length) { raw += s[j + 1]; j += 2; continue; } raw += s[j]; j++; }
      this.i = j + 1;
      if (c === "'") return { k: 'lit', v: raw };
      return { k: 'str', parts: new Parser(raw).parseNodes().nodes };
    }
    if (c === '[') {
      this.i++;
      const items: Expr[] = [];
      this.skipWs();
      if (s[this.i] !== ']') for (;;) { items.push(this.parseExpr()); this.skipWs(); if (s[this.i] === ',') { this.i++; continue; } break; }
      this.expectChar(']');
      return { k: 'list', items };
    }
    if (c === '{') {
      this.i++;
      const entries: [Expr, Expr][] = [];
      this.skipWs();
      if (s[this.i] !== '}') for (;;) { const k = this.parseExpr(); this.expectChar(':'); entries.push([k, this.parseExpr()]); this.skipWs(); if (s[this.i] === ',') { this.i++; continue; } break; }
      this.expectChar('}');
      return { k: 'map', entries };
    }
    if (c === '$') {
      this.i++;
      if (s[this.i] === '!') this.i++;
      const braced = s[this.i] === '{';
      if (braced) this.i++;
      const m = /^[A-Za-z_]\w*/.exec(s.slice(this.i));
      if (!m) throw new VtlError(`bad reference at ${this.i}`);
      this.i += m[0].length;
      const e = this.postfix({ k: 'var', name: m[0] }, false);
      if (braced) this.expectChar('}');
      return e;
    }
    const num = /^-?\d+(\.\d+)?/.exec(s.slice(this.i));
    if (num) { this.i += num[0].length; return { k: 'lit', v: Number(num[0]) }; }
    const kw = /^(true|false|null)\b/.exec(s.slice(this.i));
    if (kw) { this.i += kw[0].length; return { k: 'lit', v: kw[0] === 'true' ? true : kw[0] === 'false' ? false : null }; }
    throw new VtlError(`unexpected '${c ?? 'end of template'}' at ${this.i}`);
  }
}

function truthy(v: Value): boolean {
  if (v === undefined || v === null || v === false) return false;
  return true;
}

export function stringify(v: Value): string {
  if (v === undefined || v === null) return '';
  if (typeof v === 'string') return v;
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  if (v instanceof Map) return `{${[...v.entries()].map(([k, x]) => `${k}=${stringify(x)}`).join(', ')}}`;
  if (Array.isArray(v)) return `[${v.map(stringify).join(', ')}]`;
  if (typeof v === 'function') return '';
  if (typeof v === 'object') return `{${Object.entries(v as Record<string, unknown>).filter(([, x]) => typeof x !== 'function').map(([k, x]) => `${k}=${stringify(x)}`).join(', ')}}`;
  return String(v);
}

function getProp(o: Value, name: string): Value {
  if (o instanceof Map) return o.get(name);
  if (o !== null && typeof o === 'object') {
    const rec = o as Record<string, unknown>;
    if (name in rec) return rec[name];
    // Velocity's getter convention: $a.foo also tries getFoo()/get("foo").
    const getter = rec[`get${name[0].toUpperCase()}${name.slice(1)}`];
    if (typeof getter === 'function') return (getter as () => unknown).call(o);
  }
  if (typeof o === 'string' && name === 'length') return o.length;
  return undefined;
}

function callMethod(o: Value, name: string, args: Value[]): Value {
  if (o !== null && typeof o === 'object' && !(o instanceof Map) && !Array.isArray(o)) {
    const f = (o as Record<string, unknown>)[name];
    if (typeof f === 'function') return (f as (...a: unknown[]) => unknown).apply(o, args);
  }
  if (o instanceof Map) {
    if (name === 'get') return o.get(String(args[0]));
    if (name === 'containsKey') return o.has(String(args[0]));
    if (name === 'put') { o.set(String(args[0]), args[1]); return undefined; }
    if (name === 'keySet') return [...o.keys()];
    if (name === 'size') return o.size;
    if (name === 'isEmpty') return o.size === 0;
  }
  if (o !== null && typeof o === 'object' && !Array.isArray(o)) {
    const rec = o as Record<string, unknown>;
    if (name === 'get') return rec[String(args[0])];
    if (name === 'containsKey') return String(args[0]) in rec;
    if (name === 'put') { rec[String(args[0])] = args[1]; return undefined; }
    if (name === 'keySet') return Object.keys(rec);
    if (name === 'size') return Object.keys(rec).length;
    if (name === 'isEmpty') return Object.keys(rec).length === 0;
  }
  if (Array.isArray(o)) {
    if (name === 'size') return o.length;
    if (name === 'get') return o[Number(args[0])];
    if (name === 'isEmpty') return o.length === 0;
    if (name === 'add') { o.push(args[0]); return true; }
    if (name === 'contains') return o.includes(args[0]);
  }
  if (typeof o === 'string') {
    switch (name) {
      case 'length': return o.length;
      case 'toLowerCase': return o.toLowerCase();
      case 'toUpperCase': return o.toUpperCase();
      case 'trim': return o.trim();
      case 'contains': return o.includes(String(args[0]));
      case 'startsWith': return o.startsWith(String(args[0]));
      case 'endsWith': return o.endsWith(String(args[0]));
      case 'equals': return o === stringify(args[0]);
      case 'isEmpty': return o.length === 0;
      case 'substring': return o.substring(Number(args[0]), args[1] === undefined ? undefined : Number(args[1]));
      case 'indexOf': return o.indexOf(String(args[0]));
      case 'replace': return o.split(String(args[0])).join(String(args[1]));
      case 'replaceAll': return o.replace(new RegExp(String(args[0]), 'g'), String(args[1]));
      case 'split': return o.split(new RegExp(String(args[0])));
      case 'matches': return new RegExp(`^(?:${String(args[0])})$`).test(o);
    }
  }
  return undefined;
}

class Evaluator {
  constructor(readonly scope: Scope) {}

  run(nodes: Node[]): string {
    let out = '';
    for (const n of nodes) {
      switch (n.k) {
        case 'text': out += n.s; break;
        case 'ref': {
          const v = this.eval(n.e);
          out += v === undefined || v === null ? (n.quiet ? '' : n.src) : stringify(v);
          break;
        }
        case 'set': this.assign(n.target, this.eval(n.e)); break;
        case 'if': {
          for (const b of n.branches) {
            if (b.cond === undefined || truthy(this.eval(b.cond))) { out += this.run(b.body); break; }
          }
          break;
        }
        case 'for': {
          const coll = this.eval(n.e);
          const items = Array.isArray(coll) ? coll : coll instanceof Map ? [...coll.values()] : coll && typeof coll === 'object' ? Object.values(coll) : [];
          let count = 0;
          for (const it of items) {
            if (++count > 10_000) break;
            this.scope.set(n.v, it);
            this.scope.set('foreach', { hasNext: count < items.length, count, index: count - 1 });
            this.scope.set('velocityCount', count);
            out += this.run(n.body);
          }
          break;
        }
      }
      if (out.length > 10 * 1024 * 1024) throw new VtlError('template output too large');
    }
    return out;
  }

  private assign(target: Expr, v: Value): void {
    if (target.k === 'var') { this.scope.set(target.name, v); return; }
    if (target.k === 'prop') {
      const o = this.eval(target.o);
      if (o instanceof Map) o.set(target.name, v);
      else if (o && typeof o === 'object') (o as Record<string, unknown>)[target.name] = v;
      return;
    }
    throw new VtlError('cannot assign to this expression');
  }

  eval(e: Expr): Value {
    switch (e.k) {
      case 'lit': return e.v;
      case 'str': return this.run(e.parts);
      case 'var': return this.scope.get(e.name);
      case 'prop': return getProp(this.eval(e.o), e.name);
      case 'call': return callMethod(this.eval(e.o), e.name, e.args.map((a) => this.eval(a)));
      case 'index': {
        const o = this.eval(e.o);
        const i = this.eval(e.i);
        if (Array.isArray(o)) return o[Number(i)];
        return getProp(o, String(i));
      }
      case 'list': return e.items.map((x) => this.eval(x));
      case 'map': {
        const m: Record<string, unknown> = {};
        for (const [k, v] of e.entries) m[stringify(this.eval(k))] = this.eval(v);
        return m;
      }
      case 'un': return !truthy(this.eval(e.e));
      case 'bin': {
        if (e.op === '&&') return truthy(this.eval(e.l)) && truthy(this.eval(e.r));
        if (e.op === '||') return truthy(this.eval(e.l)) || truthy(this.eval(e.r));
        const l = this.eval(e.l);
        const r = this.eval(e.r);
        switch (e.op) {
          case '==': return typeof l === 'number' || typeof r === 'number' ? Number(l) === Number(r) : stringify(l) === stringify(r) && (l === null || l === undefined) === (r === null || r === undefined);
          case '!=': return !(typeof l === 'number' || typeof r === 'number' ? Number(l) === Number(r) : stringify(l) === stringify(r) && (l === null || l === undefined) === (r === null || r === undefined));
          case '<': return Number(l) < Number(r);
          case '>': return Number(l) > Number(r);
          case '<=': return Number(l) <= Number(r);
          case '>=': return Number(l) >= Number(r);
          case '+': return typeof l === 'number' && typeof r === 'number' ? l + r : stringify(l) + stringify(r);
          case '-': return Number(l) - Number(r);
          case '*': return Number(l) * Number(r);
          case '/': return Math.trunc(Number(l) / Number(r));
          case '%': return Number(l) % Number(r);
        }
        return undefined;
      }
    }
  }
}

const cache = new Map<string, Node[]>();

/** Renders `template` with the given variables (e.g. context, input, util, stageVariables). */
export function renderVtl(template: string, vars: Record<string, unknown>): string {
  // Fast path: a template without references or directives renders as itself (e.g. a fixed MOCK body).
  if (template.indexOf('$') < 0 && template.indexOf('#') < 0) return template;
  let nodes = cache.get(template);
  if (!nodes) {
    nodes = new Parser(template).parseNodes().nodes;
    if (cache.size > 1000) cache.clear();
    cache.set(template, nodes);
  }
  return new Evaluator(new Map(Object.entries(vars))).run(nodes);
}
