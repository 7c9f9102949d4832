/**
 * Physical ids and attributes (`Ref`, `Fn::GetAtt`) shaped like the ones CloudFormation and
 * API Gateway give. APIs, resources and stages keep ids derived from the template, so stage
 * URLs stay the same across restarts (a convenience AWS gives by keeping the deployed API).
 * Usage plans and API keys get random ids as on AWS, kept in the state file when there is one.
 */
import { randomId, stableId } from '../ids';
import { StackContext } from './context';
import { obj, str } from './values';

/** Types whose ids are random at every start (unless the state file keeps them). */
const RANDOM_ID_LENGTH: Record<string, number> = { 'AWS::ApiGateway::UsagePlan': 6, 'AWS::ApiGateway::ApiKey': 10 };

/** The name CloudFormation gives a resource created without one: `<stack>-<logicalId>-<SUFFIX>`. */
export function generatedName(ctx: Pick<StackContext, 'stackName' | 'seed'>, logicalId: string): string {
  return `${ctx.stackName}-${logicalId}-${stableId(ctx.seed(logicalId), 12).toUpperCase()}`.slice(0, 128);
}

/** `Ref` of a resource (memoized in `memo` by `stack/logicalId`). */
export function physicalId(ctx: StackContext, memo: Map<string, string>, logicalId: string, resolveOr: (v: unknown) => unknown): string | undefined {
  const r = obj(ctx.resources[logicalId]);
  if (!r.Type) return undefined;
  const seed = ctx.seed(logicalId);
  const known = memo.get(seed);
  if (known !== undefined) return known;
  const type = String(r.Type);
  const props = obj(r.Properties);
  let v: string;
  const randomLength = RANDOM_ID_LENGTH[type];
  if (randomLength !== undefined) {
    v = ctx.persisted?.physicalIds[seed] ?? randomId(randomLength);
    ctx.generated.physicalIds[seed] = v;
  } else {
    switch (type) {
      case 'AWS::ApiGateway::RestApi':
        v = stableId(seed, 10);
        break;
      case 'AWS::ApiGateway::Stage':
        v = str(resolveOr(props.StageName)) ?? logicalId;
        break;
      case 'AWS::ApiGateway::UsagePlanKey':
        v = str(resolveOr(props.KeyId)) ?? stableId(seed, 10);
        break;
      case 'AWS::Lambda::Function':
        v = str(resolveOr(props.FunctionName)) ?? `${ctx.stackName}-${logicalId}-${stableId(seed, 12)}`.slice(0, 64);
        break;
      case 'AWS::IAM::Role':
        v = str(resolveOr(props.RoleName)) ?? `${ctx.stackName}-${logicalId}-${stableId(seed, 12)}`.slice(0, 64);
        break;
      case 'AWS::SNS::Topic':
        // A topic's Ref is its ARN.
        v = `arn:aws:sns:${ctx.model.region}:${ctx.model.accountId}:${str(resolveOr(props.TopicName)) ?? `${ctx.stackName}-${logicalId}-${stableId(seed, 12).toUpperCase()}`.slice(0, 256)}`;
        break;
      case 'AWS::StepFunctions::StateMachine':
        v = `arn:aws:states:${ctx.model.region}:${ctx.model.accountId}:stateMachine:${str(resolveOr(props.StateMachineName)) ?? `${logicalId}-${stableId(seed, 12)}`}`;
        break;
      case 'AWS::Cognito::UserPool':
        v = `${ctx.model.region}_${stableId(seed, 9)}`;
        break;
      case 'AWS::Logs::LogGroup':
        v = str(resolveOr(props.LogGroupName)) ?? `${ctx.stackName}-${logicalId}-${stableId(seed, 12)}`;
        break;
      case 'AWS::CloudWatch::Alarm':
        v = str(resolveOr(props.AlarmName)) ?? `${ctx.stackName}-${logicalId}-${stableId(seed, 12).toUpperCase()}`;
        break;
      default:
        v = type.startsWith('AWS::ApiGateway::') ? stableId(seed, 6) : `${ctx.stackName}-${logicalId}-${stableId(seed, 12)}`;
    }
  }
  memo.set(seed, v);
  return v;
}

/** `Fn::GetAtt` of a resource. */
export function attribute(ctx: StackContext, logicalId: string, attr: string): unknown {
  const type = str(obj(ctx.resources[logicalId]).Type);
  if (!type) return undefined;
  const id = ctx.ref(logicalId);
  if (id === undefined) return undefined;
  const { region, accountId: account } = ctx.model;
  switch (`${type}.${attr}`) {
    case 'AWS::ApiGateway::RestApi.RootResourceId': return stableId(ctx.seed(logicalId) + '/root', 10);
    case 'AWS::ApiGateway::RestApi.RestApiId':
    case 'AWS::ApiGateway::ApiKey.APIKeyId':
    case 'AWS::ApiGateway::UsagePlan.Id':
    case 'AWS::ApiGateway::Authorizer.AuthorizerId':
    case 'AWS::ApiGateway::Resource.ResourceId':
    case 'AWS::ApiGateway::Deployment.DeploymentId':
    case 'AWS::SecretsManager::Secret.Id':
    case 'AWS::SNS::Topic.TopicArn':
      return id;
    case 'AWS::SNS::Topic.TopicName': return id.slice(id.lastIndexOf(':') + 1);
    case 'AWS::Lambda::Function.Arn': return `arn:aws:lambda:${region}:${account}:function:${id}`;
    case 'AWS::IAM::Role.Arn': return `arn:aws:iam::${account}:role/${id}`;
    case 'AWS::IAM::Role.RoleId': return `AROA${stableId(ctx.seed(logicalId), 17).toUpperCase()}`;
    case 'AWS::Cognito::UserPool.Arn': return `arn:aws:cognito-idp:${region}:${account}:userpool/${id}`;
    case 'AWS::Cognito::UserPool.ProviderName': return `cognito-idp.${region}.amazonaws.com/${id}`;
    case 'AWS::Logs::LogGroup.Arn': return `arn:aws:logs:${region}:${account}:log-group:${id}:*`;
    case 'AWS::CloudWatch::Alarm.Arn': return `arn:aws:cloudwatch:${region}:${account}:alarm:${id}`;
    case 'AWS::Cognito::UserPool.ProviderURL': return `https://cognito-idp.${region}.amazonaws.com/${id}`;
  }
  if (attr === 'Arn') {
    const svc = type.split('::')[1]?.toLowerCase() ?? 'unknown';
    return `arn:aws:${svc}:${region}:${account}:${logicalId.toLowerCase()}/${id}`;
  }
  return `${id}.${attr}`;
}
