#!/usr/bin/env node
import { App, Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import { PetStoreStack } from '../examples/pet-store/pet-store-stack';

// The example app that `npx cdk synth` / `npx cdk deploy` / `npm start` run.
const app = new App();
new PetStoreStack(app, 'KeygatePetStore', {
  env: { account: process.env.CDK_DEFAULT_ACCOUNT, region: process.env.CDK_DEFAULT_REGION },
});
Validations.of(app).addPlugins(new AwsSolutionsChecks(app, { verbose: true }));
