import { formatRoute, methodSettingsKey, ParsedRoute, parseRoute } from '../lib';

function parsed(route: string): ParsedRoute {
  const result = parseRoute(route);
  if (typeof result === 'string') throw new Error(result);
  return result;
}

describe('parseRoute', () => {
  test.each([
    ['GET /pets/{id}', 'GET', '/pets/{id}'],
    ['get /pets/', 'GET', '/pets'],
    ['  any   /files/{proxy+}  ', 'ANY', '/files/{proxy+}'],
    ['GET /', 'GET', '/'],
    ['DELETE /v1/orders/{orderId}/items/{item_id}', 'DELETE', '/v1/orders/{orderId}/items/{item_id}'],
    ['PATCH /a.b/c-d/e_f~g', 'PATCH', '/a.b/c-d/e_f~g'],
  ])('%j is method %s on %s', (route, httpMethod, path) => {
    // WHEN / THEN
    expect(parseRoute(route)).toEqual({ httpMethod, path });
  });

  test.each([
    ['', "a route is 'METHOD /path'"],
    ['/pets', "a route is 'METHOD /path'"],
    ['GET', "a route is 'METHOD /path'"],
    ['GET pets', "a route is 'METHOD /path'"],
    ['CONNECT /pets', 'the method must be one of'],
    ['GET /pets/{id', "path segment '{id' is not"],
    ['GET /{proxy+}/x', 'a greedy {param+} segment must be the last one'],
    ['GET /a//b', "path segment '' is not"],
  ])('%j is rejected: %s', (route, reason) => {
    // WHEN
    const result = parseRoute(route);

    // THEN
    expect(typeof result).toBe('string');
    expect(result).toContain(reason);
  });
});

describe('formatRoute and methodSettingsKey', () => {
  test('canonical text and the /path/METHOD key of usage plans and stage settings', () => {
    // GIVEN / WHEN / THEN
    expect(formatRoute(parsed('get /pets/{id}/'))).toBe('GET /pets/{id}');
    expect(methodSettingsKey(parsed('GET /pets/{id}'))).toBe('/pets/{id}/GET');
    expect(methodSettingsKey(parsed('ANY /files/{proxy+}'))).toBe('/files/{proxy+}/ANY');
    expect(methodSettingsKey(parsed('POST /'))).toBe('//POST');
  });
});
