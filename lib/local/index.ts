/** keygate local: serve a synthesized CDK app with API Gateway's key, usage-plan, throttle and quota behaviour. */
export { startLocalGateway } from './gateway';
export type { LocalGateway, LocalGatewayInfo, LocalGatewayOptions, LocalApiInfo, LocalStageInfo, LocalKeyInfo, LocalScheduledJobInfo } from './gateway';
export type { ThrottleSettings, UnsupportedItem } from './apigateway/model';
export type { RequestRecord } from './apigateway/data-plane';
export { checkLoopbackHost, checkNotCrossSite, checkSigV4Header, guardLocalService } from './request-guard';
export type { GuardRefusal } from './request-guard';
export { loadAssembly } from './cloudformation/assembly';
export type { CloudAssembly, AssemblyStack } from './cloudformation/assembly';
export { synthesizeApp } from './synth';
