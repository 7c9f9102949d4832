/**
 * The metric math of CloudWatch alarms, evaluated one period at a time: numbers, metric ids,
 * `+ - * / ^`, comparisons (`< <= > >= == !=`, 1 or 0), `AND`/`&&`, `OR`/`||`, `NOT`, and the
 * functions IF, FILL (with a number), ABS, CEIL, FLOOR, MIN and MAX of scalars, and
 * INSIGHT_RULE_METRIC('rule', 'metric') (the local Contributor Insights rules). A missing data point
 * stays missing through arithmetic (FILL replaces it), as in CloudWatch. Anything else
 * (INSIGHT_RULE_METRIC, SEARCH, ANOMALY_DETECTION_BAND, RATE, METRICS()…) is refused with
 * MathSyntaxError, so the alarm is listed as not emulated rather than evaluated wrongly.
 */

export class MathSyntaxError extends Error {}

/** A parsed expression. */
export type MathNode =
  | { kind: 'num'; value: number }
  | { kind: 'id'; id: string }
  | { kind: 'unary'; op: string; arg: MathNode }
  | { kind: 'binary'; op: string; left: MathNode; right: MathNode }
  | { kind: 'call'; fn: string; args: MathNode[] }
  | { kind: 'insight'; rule: string; metric: string };

/** A Contributor Insights rule's metric for the period being evaluated. */
export type InsightMetric = (rule: string, metric: string) => number | undefined;

const FUNCTIONS: Record<string, [number, number]> = { IF: [2, 3], FILL: [2, 2], ABS: [1, 1], CEIL: [1, 1], FLOOR: [1, 1], MIN: [1, 9], MAX: [1, 9] };
const PRECEDENCE: Record<string, number> = { '||': 1, OR: 1, '&&': 2, AND: 2, '==': 3, '!=': 3, '<': 3, '<=': 3, '>': 3, '>=': 3, '+': 4, '-': 4, '*': 5, '/': 5, '^': 6 };
const TOKEN = /\s*('[^']*'|"[^"]*"|\d+(?:\.\d+)?(?:[eE][+-]?\d+)?|[A-Za-z_][A-Za-z0-9_]*|\|\||&&|==|!=|<=|>=|[-+*/^(),<>!])/y;

export function parseMath(expression: string): MathNode {
  const tokens: string[] = [];
  TOKEN.lastIndex = 0;
  while (TOKEN.lastIndex < expression.length && !/^\s*$/.test(expression.slice(TOKEN.lastIndex))) {
    const m = TOKEN.exec(expression);
    if (!m) throw new MathSyntaxError(`cannot read "${expression.slice(TOKEN.lastIndex).trim()}" in ${expression}`);
    tokens.push(m[1]);
  }
  let i = 0;
  const peek = (): string | undefined => tokens[i];
  const expect = (t: string): void => {
    if (tokens[i++] !== t) throw new MathSyntaxError(`expected ${t} in ${expression}`);
  };
  const primary = (): MathNode => {
    const t = tokens[i++];
    if (t === undefined) throw new MathSyntaxError(`unexpected end of ${expression}`);
    if (t === '(') { const inner = binary(0); expect(')'); return inner; }
    if (t === '-' || t === '!' || t.toUpperCase() === 'NOT') return { kind: 'unary', op: t === '-' ? '-' : '!', arg: primary() };
    if (/^\d/.test(t)) return { kind: 'num', value: Number(t) };
    if (/^['"]/.test(t)) throw new MathSyntaxError(`a string (${t}) outside a function keygate local emulates, in ${expression}`);
    if (peek() === '(') {
      const fn = t.toUpperCase();
      if (fn === 'INSIGHT_RULE_METRIC') {
        const [open, rule, comma, metric] = tokens.slice(i, i + 4);
        if (open !== '(' || comma !== ',' || !/^'.*'$/.test(rule ?? '') || !/^'.*'$/.test(metric ?? '')) throw new MathSyntaxError(`INSIGHT_RULE_METRIC takes ('rule', 'metric') in ${expression}`);
        i += 4;
        expect(')');
        return { kind: 'insight', rule: rule.slice(1, -1), metric: metric.slice(1, -1) };
      }
      if (!FUNCTIONS[fn]) throw new MathSyntaxError(`${t}() is not emulated by keygate local's metric math`);
      i++;
      const args: MathNode[] = [];
      if (peek() !== ')') {
        args.push(binary(0));
        while (peek() === ',') { i++; args.push(binary(0)); }
      }
      expect(')');
      const [min, max] = FUNCTIONS[fn];
      if (args.length < min || args.length > max) throw new MathSyntaxError(`${fn} takes ${min === max ? min : `${min}-${max}`} arguments in ${expression}`);
      return { kind: 'call', fn, args };
    }
    return { kind: 'id', id: t };
  };
  const binary = (minPrec: number): MathNode => {
    let left = primary();
    for (;;) {
      const op = peek()?.toUpperCase() ?? '';
      const prec = PRECEDENCE[op];
      if (prec === undefined || prec < minPrec) return left;
      i++;
      // ^ is right-associative.
      left = { kind: 'binary', op, left, right: binary(op === '^' ? prec : prec + 1) };
    }
  };
  const tree = binary(0);
  if (i < tokens.length) throw new MathSyntaxError(`unexpected ${tokens[i]} in ${expression}`);
  return tree;
}

/** The metric ids an expression reads. */
export function referencedIds(node: MathNode): string[] {
  switch (node.kind) {
    case 'id': return [node.id];
    case 'num': case 'insight': return [];
    case 'unary': return referencedIds(node.arg);
    case 'binary': return [...referencedIds(node.left), ...referencedIds(node.right)];
    default: return node.args.flatMap(referencedIds);
  }
}

/** The value for one period; undefined = no data point. */
export function evaluateMath(node: MathNode, value: (id: string) => number | undefined, insight?: InsightMetric): number | undefined {
  switch (node.kind) {
    case 'num': return node.value;
    case 'insight': return insight?.(node.rule, node.metric);
    case 'id': return value(node.id);
    case 'unary': {
      const v = evaluateMath(node.arg, value, insight);
      if (v === undefined) return undefined;
      return node.op === '-' ? -v : v === 0 ? 1 : 0;
    }
    case 'binary': return binaryOp(node.op, evaluateMath(node.left, value, insight), evaluateMath(node.right, value, insight));
    default: return call(node.fn, node.args, value, insight);
  }
}

function binaryOp(op: string, a: number | undefined, b: number | undefined): number | undefined {
  if (a === undefined || b === undefined) return undefined;
  const bool = (x: boolean): number => (x ? 1 : 0);
  switch (op) {
    case '+': return a + b;
    case '-': return a - b;
    case '*': return a * b;
    // CloudWatch drops a data point divided by zero.
    case '/': return b === 0 ? undefined : a / b;
    case '^': return a ** b;
    case '<': return bool(a < b);
    case '<=': return bool(a <= b);
    case '>': return bool(a > b);
    case '>=': return bool(a >= b);
    case '==': return bool(a === b);
    case '!=': return bool(a !== b);
    case '&&': case 'AND': return bool(a !== 0 && b !== 0);
    default: return bool(a !== 0 || b !== 0);
  }
}

function call(fn: string, args: MathNode[], value: (id: string) => number | undefined, insight?: InsightMetric): number | undefined {
  const v = (n: number): number | undefined => evaluateMath(args[n], value, insight);
  switch (fn) {
    case 'IF': {
      const c = v(0);
      if (c === undefined) return undefined;
      return c !== 0 ? v(1) : args.length === 3 ? v(2) : undefined;
    }
    case 'FILL': return v(0) ?? v(1);
    case 'ABS': return map(v(0), Math.abs);
    case 'CEIL': return map(v(0), Math.ceil);
    case 'FLOOR': return map(v(0), Math.floor);
    default: {
      const all = args.map((_a, n) => v(n)).filter((x): x is number => x !== undefined);
      if (all.length === 0) return undefined;
      return fn === 'MIN' ? Math.min(...all) : Math.max(...all);
    }
  }
}

function map(x: number | undefined, f: (n: number) => number): number | undefined {
  return x === undefined ? undefined : f(x);
}
