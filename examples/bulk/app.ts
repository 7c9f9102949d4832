#!/usr/bin/env node
import { App } from 'aws-cdk-lib';
import { BulkStack } from './bulk-stack';

// `npm run synth:bulk`: 10,000 clients in three tiers, synthesized into cdk.out.bulk/.
const app = new App();
new BulkStack(app, 'KeygateBulk', {
  clients: Number(process.env.KEYGATE_BULK_CLIENTS ?? 10_000),
  env: { account: process.env.CDK_DEFAULT_ACCOUNT, region: process.env.CDK_DEFAULT_REGION },
});
