/** AWS::Lambda::Function → a function the local Lambda runner can invoke (Node.js, code in the assembly). */
import * as fs from 'fs';
import * as path from 'path';
import { LambdaFunction } from '../apigateway/model';
import { ResourceHandler } from '../cloudformation/context';
import { num, obj, str, strMap } from '../cloudformation/values';

export const lambdaFunctionHandler: ResourceHandler = {
  type: 'AWS::Lambda::Function',
  build(ctx, resources) {
    for (const { logicalId, props: p } of resources) {
      const name = ctx.ref(logicalId) as string;
      const arn = ctx.getAtt(logicalId, 'Arn') as string;
      const runtime = str(p.Runtime) ?? '';
      const handler = str(p.Handler) ?? 'index.handler';
      const code = obj(p.Code);
      const meta = obj(obj(ctx.resources[logicalId]).Metadata);
      let codeDir: string | undefined;
      let inlineCode: string | undefined;
      let reason: string | undefined;
      if (typeof code.ZipFile === 'string') inlineCode = code.ZipFile;
      else if (typeof code.ImageUri === 'string') reason = 'container image functions are not run locally';
      else {
        const assetPath = str(meta['aws:asset:path']);
        const candidates: string[] = [];
        if (assetPath) candidates.push(path.isAbsolute(assetPath) ? assetPath : path.join(ctx.stack.assemblyDir, assetPath));
        const key = str(code.S3Key);
        const hash = key?.replace(/\.zip$/, '');
        const asset = hash ? ctx.asm.assets.get(hash) : undefined;
        if (asset) candidates.push(asset.path);
        codeDir = candidates.find((c) => fs.existsSync(c) && fs.statSync(c).isDirectory());
        if (!codeDir) {
          reason = candidates.length > 0
            ? `its code asset ${path.relative(ctx.asm.dir, candidates[0]) || candidates[0]} is missing from the assembly`
            : `its code is in S3 (${str(code.S3Bucket) ?? '?'}/${key ?? '?'}), not in the assembly`;
        }
      }
      if (!reason && !/^nodejs/.test(runtime)) reason = `runtime ${runtime || '(none)'} is not supported locally (Node.js only)`;
      const fn: LambdaFunction = {
        logicalId, stack: ctx.stackName, name, arn, runtime, handler, codeDir, inlineCode,
        environment: strMap(obj(p.Environment).Variables), timeoutSeconds: num(p.Timeout) ?? 3, memorySize: num(p.MemorySize) ?? 128,
        region: ctx.model.region, unsupportedReason: reason,
      };
      if (reason) ctx.report(logicalId, 'AWS::Lambda::Function', reason);
      ctx.model.functions.set(arn, fn);
    }
  },
};
