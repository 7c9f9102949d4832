/**
 * TagResource, UntagResource and GetTags (`/tags/{resource_arn}`) for API keys and usage
 * plans in the local control plane, as the ops CLI and the client set reconciler call them.
 */
import { apiGatewayError, Model } from '../model';
import { bad } from './routes';

/** API Gateway's limits on tags. */
const MAX_TAGS = 50;
const MAX_TAG_KEY = 128;
const MAX_TAG_VALUE = 256;

export interface TagsRequest {
  readonly method: string;
  /** The resource ARN, decoded from the path. */
  readonly resourceArn: string;
  readonly query: URLSearchParams;
  readonly body: Buffer;
}

/** Answers a `/tags/{resource_arn}` request; `changed` persists the model after a write. */
export function routeTags(model: Model, req: TagsRequest, changed: () => void): { status: number; body?: unknown } {
  const tags = tagsOf(model, req.resourceArn);
  if (req.method === 'GET') return { status: 200, body: { tags: { ...tags } } };
  if (req.method === 'PUT') {
    const add = parseTags(req.body);
    const next = { ...tags, ...add };
    if (Object.keys(next).length > MAX_TAGS) throw bad(`A resource can have at most ${MAX_TAGS} tags`);
    Object.assign(tags, add);
    changed();
    return { status: 204 };
  }
  if (req.method === 'DELETE') {
    const keys = req.query.getAll('tagKeys');
    if (keys.length === 0) throw bad('tagKeys is required');
    for (const key of keys) delete tags[key];
    changed();
    return { status: 204 };
  }
  throw apiGatewayError('NotFoundException', `keygate local does not implement ${req.method} /tags/{resource_arn}`);
}

/** The live tag map of the key or usage plan an ARN names. */
function tagsOf(model: Model, arn: string): Record<string, string> {
  const match = /^arn:aws[a-z-]*:apigateway:[a-z0-9-]+::\/(apikeys|usageplans)\/([^/]+)$/.exec(arn);
  if (!match) throw bad(`Invalid resource ARN: keygate local tags API keys (arn:aws:apigateway:<region>::/apikeys/<id>) and usage plans, got ${arn}`);
  const resource = match[1] === 'apikeys' ? model.getKey(match[2]) : model.getPlan(match[2]);
  return resource.tags;
}

function parseTags(body: Buffer): Record<string, string> {
  let parsed: unknown;
  try {
    parsed = body.length === 0 ? {} : JSON.parse(body.toString('utf8'));
  } catch {
    throw bad('Invalid JSON in request body');
  }
  const tags = (parsed as { tags?: unknown } | null)?.tags;
  if (typeof tags !== 'object' || tags === null || Array.isArray(tags)) throw bad('tags must be a map of strings');
  const out: Record<string, string> = {};
  for (const [key, value] of Object.entries(tags)) {
    if (typeof value !== 'string') throw bad(`The value of tag ${key} must be a string`);
    if (key.length < 1 || key.length > MAX_TAG_KEY) throw bad(`Tag keys are 1-${MAX_TAG_KEY} characters: ${key.slice(0, 40)}`);
    if (key.toLowerCase().startsWith('aws:')) throw bad(`Tag keys can't start with aws: (${key})`);
    if (value.length > MAX_TAG_VALUE) throw bad(`The value of tag ${key} is longer than ${MAX_TAG_VALUE} characters`);
    out[key] = value;
  }
  return out;
}
