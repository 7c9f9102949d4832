/**
 * Step 5, integrate: run the method's integration — MOCK in process, AWS_PROXY through the
 * Lambda runner, HTTP / HTTP_PROXY to the backend — and put its response on the state.
 */
import { inputFor, UTIL } from './gateway-responses';
import { applyIntegrationResponse, IntegrationConfigError, IntegrationResult, pickTemplate, runMock, selectIntegrationResponse, UnsupportedMediaType } from './mock-integration';
import { renderVtl } from './vtl';
import { forwardHttp } from './http-integration';
import { invokeLambdaProxy } from './lambda-proxy';
import { DataPlaneEnv, fail, RequestState, STOP, StepResult } from './request-state';

export function integrate(st: RequestState, env: DataPlaneEnv): StepResult | Promise<StepResult> {
  const integration = st.method!.integration;
  const { req, headers, rc } = st;
  if (integration.unsupportedReason) {
    return fail(st, 'API_CONFIGURATION_ERROR', `keygate local cannot run the integration of ${req.method} ${st.resource!.path}: ${integration.unsupportedReason}`);
  }
  switch (integration.type) {
    case 'MOCK': {
      try {
        return done(st, runMock(integration, rc, req.body.length ? req.body.toString('utf8') : '', headers['content-type'], headers['accept']));
      } catch (e) {
        if (e instanceof UnsupportedMediaType) return fail(st, 'UNSUPPORTED_MEDIA_TYPE');
        if (e instanceof IntegrationConfigError) {
          env.options.log?.(`${st.requestId} ${req.method} ${st.resource!.path}: ${e.message}`);
          return fail(st, 'API_CONFIGURATION_ERROR');
        }
        throw e;
      }
    }
    case 'AWS_PROXY':
      return invokeLambdaProxy(st, env).then((r) => ('gateway' in r ? fail(st, r.gateway, r.message, r.status) : done(st, r)));
    case 'HTTP_PROXY':
      return forwardHttp(st, undefined).then((r) => ('gateway' in r ? fail(st, r.gateway, r.message) : done(st, r)));
    case 'HTTP': {
      // Non-proxy HTTP: the request template (for the request's content type) builds the backend body.
      let body: Buffer | undefined;
      const picked = pickTemplate(integration.requestTemplates, headers['content-type']);
      if (picked) body = Buffer.from(renderVtl(picked.template, { context: rc.context, input: inputFor(rc, req.body.toString('utf8')), util: UTIL, stageVariables: rc.stageVariables }));
      else if (Object.keys(integration.requestTemplates).length > 0 && integration.passthroughBehavior !== 'WHEN_NO_MATCH' && integration.passthroughBehavior !== undefined) {
        return fail(st, 'UNSUPPORTED_MEDIA_TYPE');
      }
      return forwardHttp(st, body).then((r) => {
        if ('gateway' in r) return fail(st, r.gateway, r.message);
        const ir = selectIntegrationResponse(integration.integrationResponses, String(r.status));
        if (!ir) return fail(st, 'API_CONFIGURATION_ERROR');
        return done(st, applyIntegrationResponse(ir, rc, { body: r.body.toString('utf8'), headers: r.headers }, headers['accept']));
      });
    }
    default:
      return fail(st, 'API_CONFIGURATION_ERROR', `integration type ${integration.type} is not supported`);
  }
}

function done(st: RequestState, result: IntegrationResult): StepResult {
  st.response = { status: result.status, headers: result.headers, body: result.body };
  return STOP;
}
