/**
 * Issue #19 item 14: the README's advice on snapshot-testing a user's stack holds — two
 * synths of the same stack give the same template, and the README's mask turns every keygate
 * handler hash into HANDLER.zip (and nothing else changes).
 */
import * as fs from 'fs';
import * as path from 'path';
import { App } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { PetStoreStack } from '../examples/pet-store/pet-store-stack';

const readme = fs.readFileSync(path.join(__dirname, '..', 'README.md'), 'utf8');
const section = readme.slice(readme.indexOf('### Snapshot-testing your stack'), readme.indexOf('## Key lifecycle'));
const ENV = { account: '111111111111', region: 'eu-west-1' };

function synth(): object {
  return Template.fromStack(new PetStoreStack(new App(), 'MyApi', { env: ENV })).toJSON();
}

test('the README shows Template.fromStack + toMatchSnapshot and how asset hashes stay stable', () => {
  expect(section).toMatch(/Template\.fromStack\(stack\)\.toJSON\(\)\)\)\.toMatchSnapshot\(\)/);
  expect(section).toMatch(/pre-bundled in the package \(`assets\/handlers\/`\)/);
});

test('two synths give the same template; the README\'s mask replaces exactly the handler hashes', () => {
  const first = synth();
  expect(synth()).toEqual(first);
  const pattern = /\/(\[0-9a-f\]\{64\}\\\.zip)\/g/.exec(section);
  expect(pattern).not.toBeNull();
  const mask = new RegExp(pattern![1], 'g');
  const text = JSON.stringify(first);
  const hashes = text.match(mask) ?? [];
  expect(hashes.length).toBeGreaterThan(0);
  const masked = text.replace(mask, 'HANDLER.zip');
  expect(masked).not.toMatch(/[0-9a-f]{64}\.zip/);
  expect(masked.length).toBe(text.length - hashes.length * ('0'.repeat(64).length - 'HANDLER'.length));
});
