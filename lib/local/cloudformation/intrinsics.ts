/**
 * Resolves the CloudFormation intrinsic functions that CDK emits, against the
 * physical values the local gateway assigns to resources.
 */

/** Thrown when a value cannot be resolved locally; the message names what was missing. */
export class UnresolvableError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UnresolvableError';
  }
}

/** Marker for `Ref: AWS::NoValue`: the property is removed from its parent. */
export const NO_VALUE: unique symbol = Symbol('AWS::NoValue');

export interface PseudoParameters {
  readonly region: string;
  readonly accountId: string;
  readonly partition: string;
  readonly urlSuffix: string;
  readonly stackName: string;
  readonly stackId: string;
}

/** What the resolver needs from its surroundings. */
export interface ResolverContext {
  readonly pseudo: PseudoParameters;
  /** Physical value of `Ref` on a resource of this template; undefined if unknown. */
  ref(logicalId: string): string | undefined;
  /** Value of `Fn::GetAtt`; undefined if unknown. */
  getAtt(logicalId: string, attribute: string): unknown;
  /** Value of an export of another stack of the assembly; undefined if unknown. */
  importValue(name: string): string | undefined;
  /** Value of a `{{resolve:secretsmanager:…}}` reference; undefined if the secret is not in the app. */
  secretValue?(secretId: string, jsonKey: string | undefined): string | undefined;
}

type Json = unknown;

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Resolves parameters' values: given values, else defaults, else known CDK parameters. */
export function defaultParameterValue(name: string, decl: unknown): Json {
  if (!isObject(decl)) return undefined;
  if (name === 'BootstrapVersion' || (typeof decl.Type === 'string' && decl.Type.startsWith('AWS::SSM::Parameter::Value'))) {
    // The SSM parameter holding the bootstrap version: a bootstrapped environment answers a recent version.
    if (name === 'BootstrapVersion') return '30';
  }
  if (decl.Default !== undefined) {
    if (typeof decl.Type === 'string' && decl.Type.startsWith('List<') || decl.Type === 'CommaDelimitedList') {
      return String(decl.Default).split(',');
    }
    return decl.Default;
  }
  return undefined;
}

export class TemplateResolver {
  private readonly conditionCache = new Map<string, boolean>();

  constructor(
    private readonly template: Record<string, unknown>,
    private readonly ctx: ResolverContext,
    private readonly parameters: Record<string, Json> = {},
  ) {}

  /** Evaluates a named condition of the template. */
  condition(name: string): boolean {
    const cached = this.conditionCache.get(name);
    if (cached !== undefined) return cached;
    const conditions = isObject(this.template.Conditions) ? this.template.Conditions : {};
    if (!(name in conditions)) throw new UnresolvableError(`condition ${name} is not declared in the template`);
    const v = this.evalCondition(conditions[name]);
    this.conditionCache.set(name, v);
    return v;
  }

  private evalCondition(expr: Json): boolean {
    if (typeof expr === 'boolean') return expr;
    if (isObject(expr) && typeof expr.Condition === 'string' && Object.keys(expr).length === 1) return this.condition(expr.Condition);
    const v = this.inner(expr);
    if (typeof v === 'boolean') return v;
    if (v === 'true') return true;
    if (v === 'false') return false;
    throw new UnresolvableError(`condition does not evaluate to a boolean: ${JSON.stringify(expr)}`);
  }

  /** Resolves a value deeply, then the `{{resolve:…}}` dynamic references in the resulting strings. */
  resolve(value: Json): Json {
    return this.dynamic(this.inner(value));
  }

  private dynamic(v: Json): Json {
    if (typeof v === 'string') return this.resolveDynamicReferences(v);
    if (Array.isArray(v)) return v.map((x) => this.dynamic(x));
    if (isObject(v)) {
      const out: Record<string, unknown> = {};
      for (const [k, x] of Object.entries(v)) out[k] = this.dynamic(x);
      return out;
    }
    return v;
  }

  private inner(value: Json): Json {
    if (Array.isArray(value)) {
      return value.map((v) => this.inner(v)).filter((v) => v !== NO_VALUE);
    }
    if (typeof value === 'string') return value;
    if (!isObject(value)) return value;
    const keys = Object.keys(value);
    if (keys.length === 1) {
      const k = keys[0];
      const arg = value[k];
      if (k === 'Ref') return this.ref(arg);
      if (k.startsWith('Fn::') || k === 'Condition') {
        if (k === 'Condition' && typeof arg === 'string') return this.condition(arg);
        if (k.startsWith('Fn::')) return this.fn(k, arg);
      }
    }
    const out: Record<string, unknown> = {};
    for (const k of keys) {
      const v = this.inner(value[k]);
      if (v !== NO_VALUE) out[k] = v;
    }
    return out;
  }

  private ref(arg: Json): Json {
    if (typeof arg !== 'string') throw new UnresolvableError(`Ref takes a name, got ${JSON.stringify(arg)}`);
    const p = this.ctx.pseudo;
    switch (arg) {
      case 'AWS::Region': return p.region;
      case 'AWS::AccountId': return p.accountId;
      case 'AWS::Partition': return p.partition;
      case 'AWS::URLSuffix': return p.urlSuffix;
      case 'AWS::StackName': return p.stackName;
      case 'AWS::StackId': return p.stackId;
      case 'AWS::NoValue': return NO_VALUE;
      case 'AWS::NotificationARNs': return [];
    }
    const params = isObject(this.template.Parameters) ? this.template.Parameters : {};
    if (arg in params) {
      if (arg in this.parameters) return this.parameters[arg];
      const d = defaultParameterValue(arg, params[arg]);
      if (d === undefined) throw new UnresolvableError(`parameter ${arg} has no value and no default`);
      return d;
    }
    const v = this.ctx.ref(arg);
    if (v === undefined) throw new UnresolvableError(`Ref to ${arg}, which is not a resource or parameter of stack ${p.stackName}`);
    return v;
  }

  private getAtt(logicalId: string, attr: string): Json {
    const v = this.ctx.getAtt(logicalId, attr);
    if (v === undefined) throw new UnresolvableError(`Fn::GetAtt ${logicalId}.${attr} is not known locally`);
    return v;
  }

  private str(v: Json, fn: string): string {
    if (typeof v === 'string') return v;
    if (typeof v === 'number' || typeof v === 'boolean') return String(v);
    throw new UnresolvableError(`${fn}: expected a string, got ${JSON.stringify(v)}`);
  }

  private fn(name: string, arg: Json): Json {
    switch (name) {
      case 'Fn::GetAtt': return this.fnGetAtt(arg);
      case 'Fn::Join': return this.fnJoin(arg);
      case 'Fn::Sub': return this.fnSub(arg);
      case 'Fn::Select': return this.fnSelect(arg);
      case 'Fn::Split': {
        if (!Array.isArray(arg) || arg.length !== 2) throw new UnresolvableError(`Fn::Split takes [delimiter, string]`);
        return this.str(this.inner(arg[1]), name).split(this.str(arg[0], name));
      }
      case 'Fn::If': {
        if (!Array.isArray(arg) || arg.length !== 3 || typeof arg[0] !== 'string') throw new UnresolvableError(`Fn::If takes [condition, then, else]`);
        return this.inner(this.condition(arg[0]) ? arg[1] : arg[2]);
      }
      case 'Fn::Equals': case 'Fn::And': case 'Fn::Or': case 'Fn::Not': case 'Fn::Contains':
        return this.conditionFn(name, arg);
      case 'Fn::ImportValue': return this.fnImportValue(arg);
      case 'Fn::GetAZs': {
        const region = this.inner(arg);
        const r = typeof region === 'string' && region !== '' ? region : this.ctx.pseudo.region;
        return ['a', 'b', 'c'].map((s) => `${r}${s}`);
      }
      case 'Fn::FindInMap': return this.fnFindInMap(arg);
      case 'Fn::Base64': return Buffer.from(this.str(this.inner(arg), name)).toString('base64');
      case 'Fn::ToJsonString': return JSON.stringify(this.inner(arg));
      case 'Fn::Length': {
        const l = this.inner(arg);
        if (!Array.isArray(l)) throw new UnresolvableError('Fn::Length takes a list');
        return l.length;
      }
      default:
        throw new UnresolvableError(`intrinsic function ${name} is not supported locally`);
    }
  }

  private fnGetAtt(arg: Json): Json {
    let parts: Json[];
    if (typeof arg === 'string') {
      const i = arg.indexOf('.');
      parts = [arg.slice(0, i), arg.slice(i + 1)];
    } else if (Array.isArray(arg)) {
      parts = arg.map((a) => this.inner(a));
    } else throw new UnresolvableError(`Fn::GetAtt: bad argument ${JSON.stringify(arg)}`);
    return this.getAtt(this.str(parts[0], 'Fn::GetAtt'), this.str(parts[1], 'Fn::GetAtt'));
  }

  private fnJoin(arg: Json): Json {
    if (!Array.isArray(arg) || arg.length !== 2) throw new UnresolvableError(`Fn::Join takes [delimiter, list]`);
    const list = this.inner(arg[1]);
    if (!Array.isArray(list)) throw new UnresolvableError(`Fn::Join: second argument is not a list`);
    return list.map((x) => this.str(x, 'Fn::Join')).join(this.str(arg[0], 'Fn::Join'));
  }

  private fnSub(arg: Json): Json {
    const name = 'Fn::Sub';
    let text: string;
    let vars: Record<string, Json> = {};
    if (typeof arg === 'string') text = arg;
    else if (Array.isArray(arg) && typeof arg[0] === 'string') {
      text = arg[0];
      const m = this.inner(arg[1] ?? {});
      if (isObject(m)) vars = m;
    } else throw new UnresolvableError(`Fn::Sub: bad argument ${JSON.stringify(arg)}`);
    return text.replace(/\$\{([^}]*)\}/g, (_whole, expr: string) => {
      if (expr.startsWith('!')) return '${' + expr.slice(1) + '}';
      const e = expr.trim();
      if (e in vars) return this.str(vars[e], name);
      const dot = e.indexOf('.');
      if (dot > 0 && !e.startsWith('AWS::')) return this.str(this.getAtt(e.slice(0, dot), e.slice(dot + 1)), name);
      return this.str(this.ref(e), name);
    });
  }

  private fnSelect(arg: Json): Json {
    if (!Array.isArray(arg) || arg.length !== 2) throw new UnresolvableError(`Fn::Select takes [index, list]`);
    const idx = Number(this.inner(arg[0]));
    const list = this.inner(arg[1]);
    if (!Array.isArray(list) || !Number.isInteger(idx) || idx < 0 || idx >= list.length) {
      throw new UnresolvableError(`Fn::Select: index ${idx} out of range`);
    }
    return list[idx];
  }

  /** The condition functions: Fn::Equals, Fn::And, Fn::Or, Fn::Not, Fn::Contains. */
  private conditionFn(name: string, arg: Json): boolean {
    switch (name) {
      case 'Fn::Equals':
        if (!Array.isArray(arg) || arg.length !== 2) throw new UnresolvableError(`Fn::Equals takes two values`);
        return JSON.stringify(this.inner(arg[0])) === JSON.stringify(this.inner(arg[1]));
      case 'Fn::And':
        if (!Array.isArray(arg)) throw new UnresolvableError(`Fn::And takes a list`);
        return arg.every((c) => this.evalCondition(c));
      case 'Fn::Or':
        if (!Array.isArray(arg)) throw new UnresolvableError(`Fn::Or takes a list`);
        return arg.some((c) => this.evalCondition(c));
      case 'Fn::Not':
        if (!Array.isArray(arg) || arg.length !== 1) throw new UnresolvableError(`Fn::Not takes one condition`);
        return !this.evalCondition(arg[0]);
      default: {
        if (!Array.isArray(arg) || arg.length !== 2) throw new UnresolvableError(`Fn::Contains takes [list, value]`);
        const list = this.inner(arg[0]);
        const v = this.inner(arg[1]);
        return Array.isArray(list) && list.some((x) => JSON.stringify(x) === JSON.stringify(v));
      }
    }
  }

  private fnImportValue(arg: Json): Json {
    const exportName = this.str(this.inner(arg), 'Fn::ImportValue');
    const v = this.ctx.importValue(exportName);
    if (v === undefined) throw new UnresolvableError(`Fn::ImportValue: no stack of the assembly exports ${exportName}`);
    return v;
  }

  private fnFindInMap(arg: Json): Json {
    if (!Array.isArray(arg) || arg.length < 3) throw new UnresolvableError(`Fn::FindInMap takes [map, key, key]`);
    const [m, k1, k2] = arg.slice(0, 3).map((a) => this.str(this.inner(a), 'Fn::FindInMap'));
    const maps = isObject(this.template.Mappings) ? this.template.Mappings : {};
    const mm = maps[m];
    const row = isObject(mm) ? mm[k1] : undefined;
    const v = isObject(row) ? row[k2] : undefined;
    if (v === undefined) {
      if (arg[3] && isObject(arg[3]) && 'DefaultValue' in arg[3]) return this.inner(arg[3].DefaultValue);
      throw new UnresolvableError(`Fn::FindInMap: ${m}.${k1}.${k2} not found`);
    }
    return v;
  }

  private resolveDynamicReferences(s: string): string {
    if (!s.includes('{{resolve:')) return s;
    return s.replace(/\{\{resolve:([a-z-]+):([^}]*)\}\}/g, (_w, service: string, rest: string) => {
      if (service !== 'secretsmanager') {
        throw new UnresolvableError(`dynamic reference {{resolve:${service}:…}} is not supported locally (only secretsmanager)`);
      }
      // secret-id may be an ARN (contains colons): arn:aws:secretsmanager:r:a:secret:name[:SecretString:key:stage:version]
      let secretId: string;
      let tail: string[];
      if (rest.startsWith('arn:')) {
        const parts = rest.split(':');
        secretId = parts.slice(0, 7).join(':');
        tail = parts.slice(7);
      } else {
        const parts = rest.split(':');
        secretId = parts[0];
        tail = parts.slice(1);
      }
      const jsonKey = tail[0] === 'SecretString' && tail[1] ? tail[1] : undefined;
      const v = this.ctx.secretValue?.(secretId, jsonKey);
      if (v === undefined) {
        throw new UnresolvableError(`{{resolve:secretsmanager:${secretId}}} names a secret the app does not create`);
      }
      return v;
    });
  }
}
