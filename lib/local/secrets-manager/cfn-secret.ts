/**
 * AWS::SecretsManager::Secret: the secrets of every stack are collected before any stack is
 * built (a `{{resolve:secretsmanager:…}}` reference may name a secret of another stack), and
 * their values are generated on first use and kept in the state file.
 */
import { generateSecretString, GenerateSecretStringOptions, secretJsonKey } from './secrets';
import { stableId } from '../ids';
import { BuildState } from '../cloudformation/context';
import { obj, Obj, str } from '../cloudformation/values';

interface SecretEntry {
  readonly key: string;
  readonly arn: string;
  readonly name: string;
  readonly props: Obj;
  value?: string;
}

export class SecretCatalog {
  private readonly secrets: SecretEntry[] = [];
  private readonly externalReported = new Set<string>();

  /** Finds every secret of the assembly; `refs` receives each secret's `Ref` (its ARN). */
  constructor(private readonly build: BuildState, refs: Map<string, string>) {
    const { region, accountId } = build.model;
    for (const stack of build.asm.stacks) {
      for (const [logicalId, rRaw] of Object.entries(obj(stack.template.Resources))) {
        const r = obj(rRaw);
        if (r.Type !== 'AWS::SecretsManager::Secret') continue;
        const props = obj(r.Properties);
        const seed = `${stack.stackName}/${logicalId}`;
        const name = str(props.Name) ?? `${logicalId}-${stableId(`${seed}/name`, 12)}`;
        const arn = `arn:aws:secretsmanager:${region}:${accountId}:secret:${name}-${stableId(seed, 6)}`;
        this.secrets.push({ key: seed, arn, name, props });
        refs.set(seed, arn);
      }
    }
  }

  /** The value of a secret (or of one JSON key of it), as a dynamic reference resolves it. */
  value(secretId: string, jsonKey: string | undefined): string | undefined {
    const s = this.find(secretId);
    if (s.value === undefined) {
      const prev = this.build.persisted?.secrets[s.key];
      if (prev !== undefined) s.value = prev;
      else if (typeof s.props.SecretString === 'string') s.value = s.props.SecretString;
      else s.value = generateSecretString(obj(s.props.GenerateSecretString) as GenerateSecretStringOptions);
      this.build.generated.secrets[s.key] = s.value;
    }
    return jsonKey ? secretJsonKey(s.value, jsonKey) : s.value;
  }

  /** The name of a secret (its ARN without the random suffix). */
  name(secretId: string): string {
    return this.find(secretId).name;
  }

  private find(secretId: string): SecretEntry {
    const found = this.secrets.find((x) => x.arn === secretId || x.name === secretId || secretId.startsWith(x.arn) || x.arn.startsWith(secretId));
    if (found) return found;
    // A secret the app does not create (imported by name or ARN): a local stand-in value, kept in the state file.
    const s: SecretEntry = { key: `external:${secretId}`, arn: secretId, name: secretId, props: { GenerateSecretString: { PasswordLength: 40, ExcludePunctuation: true } } };
    this.secrets.push(s);
    reportExternal(this.build, this.externalReported, secretId);
    return s;
  }
}

function reportExternal(build: BuildState, reported: Set<string>, secretId: string): void {
  if (reported.has(secretId)) return;
  reported.add(secretId);
  build.model.unsupported.push({
    stack: '(external)', logicalId: secretId, type: 'AWS::SecretsManager::Secret',
    reason: 'the app reads this secret but does not create it; a random stand-in value is used locally (see the key values with --show-values)',
  });
}
