import * as apigw from 'aws-cdk-lib/aws-apigateway';
import * as sns from 'aws-cdk-lib/aws-sns';
import { IConstruct } from 'constructs';
import type { StageAccessLogInsights } from './monitoring/access-log-insights';

/**
 * What keygate's features (tiers, client sets, monitoring, lifecycle jobs) need of a
 * key-protected API. `KeyProtectedApi` implements it; the features take this contract, never
 * the class, so the API can offer `addTier`, `addDashboard`, … without an import circle
 * (as aws-cdk's `IRestApi` does for its features).
 */
export interface IKeyProtectedApi extends IConstruct {
  /** The underlying RestApi. */
  readonly restApi: apigw.RestApi;
  /** All deployed stages, the default one first. */
  readonly stages: apigw.Stage[];
  /** Every declared route, as `METHOD /path`. */
  readonly routeKeys: string[];
  /** The SNS topic (KMS-encrypted, TLS only) that keygate's alarms and jobs notify, created on first use. */
  readonly alertTopic: sns.ITopic;
  /** The metric filters and Contributor Insights rules on a stage's access log; undefined when the stage has no access log. */
  accessLogInsights(stage: apigw.Stage): StageAccessLogInsights | undefined;
}
