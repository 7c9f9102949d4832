/**
 * The gateway's scheduled jobs: the app's EventBridge rate rules with a Lambda target, and the
 * rotation schedules of its secrets, started on the gateway's clock (and continued from the
 * state file's last runs).
 */
import { rateMs, ScheduledInvocation, ScheduledJob, ScheduleRunner, ScheduleRunnerOptions } from '../events/schedules';
import { LocalAwsInvoker } from '../lambda/aws-invoker';
import { LocalSecretsManager } from '../secrets-manager/service';

export function scheduledJobs(schedules: ScheduledInvocation[], secretsManager: LocalSecretsManager, invoke: LocalAwsInvoker): ScheduledJob[] {
  return [
    ...schedules.map((s): ScheduledJob => ({
      name: `${s.stack}/${s.ruleLogicalId}`, description: s.description?.replace(/^Runs: /, ''), rateMs: s.rateMs, cron: s.cron, retry: s.retry,
      run: () => invoke(s.lambdaArn, s.event),
    })),
    ...secretsManager.rotationSchedules().flatMap((r): ScheduledJob[] => {
      const every = rateMs(r.scheduleExpression);
      return every === undefined ? [] : [{
        name: `rotation of ${r.name}`, description: `Secrets Manager rotation schedule, ${r.scheduleExpression}`, rateMs: every,
        firstDueAt: r.lastRotated === undefined ? undefined : r.lastRotated + every,
        run: () => secretsManager.rotateOnSchedule(r.arn),
      }];
    }),
  ];
}

/**
 * Starts the jobs. Schedules count from the deploy (a rotation from the secret's last
 * rotation): with a clock moved ahead (--clock +100d), the jobs that are due run at once,
 * before the gateway reports itself started, so its summary shows their effect.
 */
export async function startScheduledJobs(jobs: ScheduledJob[], opts: ScheduleRunnerOptions): Promise<ScheduleRunner> {
  const runner = new ScheduleRunner(jobs, opts);
  await runner.start();
  return runner;
}
