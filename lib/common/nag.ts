import { CfnElement, Stack, Token, Validations } from 'aws-cdk-lib';
import { IConstruct } from 'constructs';

/**
 * cdk-nag findings on the resources keygate makes that are by design, acknowledged on those
 * resources with keygate's reason, so an app acknowledges only what it chose itself. cdk-nag
 * names resources as CloudFormation resolves them at synth: pseudo parameters as
 * `<AWS::Region>`, references as `<LogicalId>`, and a stack's fixed region and account as
 * written; `nagArn` and `nagRef` name them the same way, so one acknowledgement fits both.
 */
export function acknowledgeNag(scope: IConstruct, rule: string, reason: string): void {
  Validations.of(scope).acknowledge({ id: `AwsSolutions::${rule}`, reason });
}

/** An ARN as cdk-nag prints it: `arn:<AWS::Partition>:<service>:<region>:<account>:<resource>`. */
export function nagArn(scope: IConstruct, service: string, resource: string, withAccount = false): string {
  const stack = Stack.of(scope);
  const region = Token.isUnresolved(stack.region) ? '<AWS::Region>' : stack.region;
  const account = !withAccount ? '' : Token.isUnresolved(stack.account) ? '<AWS::AccountId>' : stack.account;
  return `arn:<AWS::Partition>:${service}:${region}:${account}:${resource}`;
}

/** A value as cdk-nag prints it: a `Ref` as `<LogicalId>`, a literal as itself. */
export function nagRef(scope: IConstruct, value: string): string {
  const resolved = Stack.of(scope).resolve(value) as unknown;
  if (typeof resolved === 'string') return resolved;
  const ref = (resolved as { Ref?: string }).Ref;
  return ref ? `<${ref}>` : JSON.stringify(resolved);
}

/** `<LogicalId.Arn>` of a resource, as cdk-nag prints `Fn::GetAtt [id, Arn]`. */
export function nagArnOf(resource: CfnElement): string {
  return `<${Stack.of(resource).getLogicalId(resource)}.Arn>`;
}

/** The reason for AWSLambdaBasicExecutionRole on keygate's functions. */
export const LAMBDA_BASIC_EXECUTION_ROLE = 'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole]';
export const LAMBDA_BASIC_EXECUTION_REASON = 'AWSLambdaBasicExecutionRole is the AWS-managed minimum for a Lambda function to write its own logs (CreateLogStream, PutLogEvents).';
