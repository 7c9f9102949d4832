'use strict';
// Pet store handler for the keygate example: Lambda proxy integration (API Gateway v1 event).
const pets = new Map([
  ['1', { id: '1', name: 'Rex', type: 'dog' }],
  ['2', { id: '2', name: 'Tom', type: 'cat' }],
]);

function reply(statusCode, body) {
  return { statusCode, headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(body) };
}

exports.handler = async (event) => {
  // The key's id (never its value) tells which client called.
  const client = event.requestContext && event.requestContext.identity ? event.requestContext.identity.apiKeyId : undefined;
  const route = `${event.httpMethod} ${event.resource}`;
  switch (route) {
    case 'GET /pets':
      return reply(200, { pets: [...pets.values()], client });
    case 'POST /pets': {
      let pet;
      try {
        pet = JSON.parse(event.body || '{}');
      } catch {
        return reply(400, { message: 'body must be JSON' });
      }
      if (typeof pet.name !== 'string' || pet.name.length === 0) return reply(400, { message: 'name is required' });
      const id = String(pets.size + 1);
      const created = { id, name: pet.name, type: typeof pet.type === 'string' ? pet.type : 'unknown' };
      pets.set(id, created);
      return reply(201, created);
    }
    case 'GET /pets/{id}': {
      const pet = pets.get(event.pathParameters && event.pathParameters.id);
      return pet ? reply(200, pet) : reply(404, { message: 'no such pet' });
    }
    default:
      return reply(404, { message: `no handler for ${route}` });
  }
};
