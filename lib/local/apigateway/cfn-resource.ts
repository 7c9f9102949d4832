/** AWS::ApiGateway::Resource → the API's resource tree (parents may come in any order). */
import { ResourceHandler } from '../cloudformation/context';
import { str } from '../cloudformation/values';

export const resourceHandler: ResourceHandler = {
  type: 'AWS::ApiGateway::Resource',
  build(ctx, resources) {
    const pending = [...resources];
    let progress = true;
    while (pending.length > 0 && progress) {
      progress = false;
      for (let i = 0; i < pending.length; i++) {
        const { logicalId, props: p } = pending[i];
        const api = ctx.apiOf(logicalId, p.RestApiId);
        if (!api) { pending.splice(i--, 1); progress = true; continue; }
        const parent = api.resources.get(String(p.ParentId));
        if (!parent) continue;
        const id = ctx.ref(logicalId) as string;
        const part = str(p.PathPart) ?? '';
        api.resources.set(id, { id, parentId: parent.id, pathPart: part, path: parent.path === '/' ? `/${part}` : `${parent.path}/${part}`, methods: new Map(), logicalId });
        pending.splice(i--, 1);
        progress = true;
      }
    }
    for (const { logicalId } of pending) ctx.report(logicalId, 'AWS::ApiGateway::Resource', 'its ParentId is not a resource of its API');
  },
};
