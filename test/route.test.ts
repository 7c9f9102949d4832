import { KeygateErrors, ParsedRoute, Route } from '../lib';

describe('Route.parse', () => {
  test.each([
    ['GET /pets/{id}', 'GET', '/pets/{id}'],
    ['get /pets/', 'GET', '/pets'],
    ['  any   /files/{proxy+}  ', 'ANY', '/files/{proxy+}'],
    ['GET /', 'GET', '/'],
    ['DELETE /v1/orders/{orderId}/items/{item_id}', 'DELETE', '/v1/orders/{orderId}/items/{item_id}'],
    ['PATCH /a.b/c-d/e_f~g', 'PATCH', '/a.b/c-d/e_f~g'],
  ])('%j is method %s on %s', (route, httpMethod, path) => {
    // WHEN
    const parsed = Route.parse(route);
    // THEN
    expect({ httpMethod: parsed.httpMethod, path: parsed.path }).toEqual({ httpMethod, path });
    expect(Route.problemWith(route)).toBeUndefined();
  });

  test.each([
    ['', "a route is 'METHOD /path'"],
    ['/pets', "a route is 'METHOD /path'"],
    ['GET', "a route is 'METHOD /path'"],
    ['GET pets', "a route is 'METHOD /path'"],
    ['CONNECT /pets', 'the method must be one of ANY, DELETE, GET, HEAD, OPTIONS, PATCH, POST, PUT'],
    ['GET /pets/{id', "path segment '{id' is not"],
    ['GET /{proxy+}/x', 'a greedy {param+} segment must be the last one'],
    ['GET /a//b', "path segment '' is not"],
  ])('%j is rejected: %s', (route, reason) => {
    // WHEN / THEN
    expect(Route.problemWith(route)).toContain(reason);
    expect(() => Route.parse(route)).toThrow(reason);
  });

  test('the error of a bad route is a keygate error naming the route', () => {
    // WHEN
    let error: unknown;
    try {
      Route.parse('FETCH /x');
    } catch (e) {
      error = e;
    }
    // THEN
    expect(KeygateErrors.isKeygateError(error)).toBe(true);
    expect(KeygateErrors.isKeygateError(new Error('FETCH /x'))).toBe(false);
    expect((error as Error).message).toMatch(/^"FETCH \/x": the method must be one of/);
  });
});

describe('Route.format and Route.methodSettingsKey', () => {
  test('canonical text and the /path/METHOD key of usage plans and stage settings', () => {
    // GIVEN / WHEN / THEN
    expect(Route.format(Route.parse('get /pets/{id}/'))).toBe('GET /pets/{id}');
    expect(Route.parse('get /pets/{id}/').toString()).toBe('GET /pets/{id}');
    expect(Route.methodSettingsKey(Route.parse('GET /pets/{id}'))).toBe('/pets/{id}/GET');
    expect(Route.methodSettingsKey(Route.parse('ANY /files/{proxy+}'))).toBe('/files/{proxy+}/ANY');
    const root: ParsedRoute = { httpMethod: 'POST', path: '/' };
    expect(Route.methodSettingsKey(root)).toBe('//POST');
  });

  test('HTTP_METHODS: what API Gateway accepts, plus ANY', () => {
    expect(Route.HTTP_METHODS).toEqual(['ANY', 'DELETE', 'GET', 'HEAD', 'OPTIONS', 'PATCH', 'POST', 'PUT']);
  });
});
