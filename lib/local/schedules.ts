/**
 * EventBridge schedule rules that invoke the app's Lambda functions (e.g. keygate's hourly
 * retirement of rotated keys), run on timers while the gateway is up.
 */
import { LocalAwsInvoker } from './local-aws-invoker';

/** One Lambda target of a `rate(...)` rule. */
export interface ScheduledInvocation {
  readonly stack: string;
  readonly ruleLogicalId: string;
  readonly rateMs: number;
  readonly lambdaArn: string;
  readonly event: object;
}

const UNIT_MS: Record<string, number> = { minute: 60_000, minutes: 60_000, hour: 3_600_000, hours: 3_600_000, day: 86_400_000, days: 86_400_000 };

/** Milliseconds of a `rate(N unit)` expression; undefined for cron and anything else. */
export function rateMs(expression: string): number | undefined {
  const m = /^rate\((\d+) (minutes?|hours?|days?)\)$/.exec(expression.trim());
  return m ? Number(m[1]) * UNIT_MS[m[2]] : undefined;
}

export class ScheduleRunner {
  private readonly timers: NodeJS.Timeout[] = [];

  constructor(private readonly invocations: ScheduledInvocation[], private readonly invoke: LocalAwsInvoker, private readonly log: (line: string) => void) {}

  start(): void {
    for (const s of this.invocations) {
      const timer = setInterval(() => {
        this.invoke(s.lambdaArn, s.event).catch((e: unknown) => this.log(`keygate local: schedule ${s.stack}/${s.ruleLogicalId} failed: ${(e as Error).message}`));
      }, s.rateMs);
      timer.unref();
      this.timers.push(timer);
    }
  }

  stop(): void {
    for (const t of this.timers) clearInterval(t);
    this.timers.length = 0;
  }
}
