import { Validations } from 'aws-cdk-lib';
import { LAMBDA_BASIC_EXECUTION_REASON, LAMBDA_BASIC_EXECUTION_ROLE } from '../common/nag';
import { Construct } from 'constructs';

/**
 * cdk-nag AwsSolutions findings on the portal's own resources that are choices, each with its
 * reason. The portal's policies name the region with `Aws.REGION` (portal-permissions.ts), so
 * cdk-nag prints `<AWS::Region>` with or without a fixed env and these ids match both ways.
 */
export function acknowledgePortalFindings(portal: Construct): void {
  const ack = (id: string, reason: string) => Validations.of(portal).acknowledge({ id: `AwsSolutions::${id}`, reason });
  ack(LAMBDA_BASIC_EXECUTION_ROLE, LAMBDA_BASIC_EXECUTION_REASON);
  ack('AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:apigateway:<AWS::Region>::/apikeys/*]',
    'Consumers\' keys are created at run time, so their ids are unknown at synth; changes and deletes are limited by the aws:ResourceTag condition on the keygate:portal tag, reads are needed to list a consumer\'s keys by name.');
  ack('AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:apigateway:<AWS::Region>::/tags/*]',
    'TagResource and UntagResource on consumers\' keys, whose ids are unknown at synth; limited by the aws:ResourceTag condition on the keygate:portal tag.');
  ack('AwsSolutions-COG2', 'A developer portal hands out API keys, which are themselves bearer secrets; MFA is left to the owner (UserPool.mfa) so sign-up stays self-service.');
  ack('AwsSolutions-COG3', 'Cognito threat protection (advanced security) is a paid feature plan; the portal API throttles sign-up and sign-in instead. Owners may enable it on portal.userPool.');
  ack('AwsSolutions-COG8', 'The Plus feature plan (threat protection) is a paid choice left to the owner; sign-up and sign-in are throttled by the portal API.');
  ack('AwsSolutions-APIG2', 'The portal Lambda validates every body itself (JSON object, typed and length-checked fields) and answers 400 with the reason.');
  ack('AwsSolutions-APIG3', 'WAF is an account-level choice with its own cost; the portal stage is throttled (sign-up and sign-in at a tenth of the rate).');
  ack('AwsSolutions-APIG4', 'The pages (GET /, /app.js, /style.css), sign-up/sign-in (POST /auth/{action}) and the AWS Marketplace fulfillment URL (POST /marketplace, the buyer\'s browser) must be reachable before a user has a token; everything under /api needs a Cognito ID token.');
  ack('AwsSolutions-COG4', 'Only the pages, sign-up/sign-in and the AWS Marketplace fulfillment URL go without the Cognito authorizer: they are what a user reaches before having a token.');
  ack('AwsSolutions-APIG6', 'Execution logging would need the account-wide API Gateway CloudWatch role; the portal stage writes an access log and the Lambda logs every key action.');
}
