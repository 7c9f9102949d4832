/**
 * AWS::SecretsManager::RotationSchedule and the app's secrets as the local Secrets Manager
 * serves them: each secret with its value and, where a schedule names it, its rotation Lambda.
 * Schedules are read first, so a secret's seed carries its rotation.
 */
import { SecretSeed } from './service';
import { ResourceHandler } from '../cloudformation/context';
import { obj, str, strMap, tagsToMap } from '../cloudformation/values';

export const rotationScheduleHandler: ResourceHandler = {
  type: 'AWS::SecretsManager::RotationSchedule',
  build(ctx, resources) {
    for (const { props: p } of resources) {
      const secretArn = str(p.SecretId);
      const lambdaArn = str(p.RotationLambdaARN);
      if (!secretArn || !lambdaArn) continue;
      ctx.rotations.set(secretArn, { lambdaArn, scheduleExpression: str(obj(p.RotationRules).ScheduleExpression) });
    }
  },
};

export const secretSeedHandler: ResourceHandler = {
  type: 'AWS::SecretsManager::Secret',
  build(ctx, resources) {
    for (const { logicalId, props: p } of resources) {
      const arn = ctx.ref(logicalId);
      if (!arn) continue;
      const seed: SecretSeed = {
        arn, name: ctx.secrets.name(arn), value: ctx.secrets.value(arn, undefined) ?? '', description: str(p.Description),
        tags: strMap(tagsToMap(p.Tags)), rotation: ctx.rotations.get(arn),
      };
      ctx.secretSeeds.push(seed);
    }
  },
};
