#!/usr/bin/env node
import { App, Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import { PartnerApiStack } from './partner-api-stack';

// npx cdk synth --app "npx ts-node --prefer-ts-exts examples/partner-api/app.ts"
const app = new App();
new PartnerApiStack(app, 'KeygatePartnerApi', {
  env: { account: process.env.CDK_DEFAULT_ACCOUNT, region: process.env.CDK_DEFAULT_REGION },
});
Validations.of(app).addPlugins(new AwsSolutionsChecks(app, { verbose: true }));
