import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseJsonObject } from './json.js';

test('parseJsonObject answers objects only', () => {
  assert.deepEqual(parseJsonObject('{"a":1,"b":{"c":"d"}}'), { a: 1, b: { c: 'd' } });
  for (const text of ['', '{', 'not json', 'null', '[1,2]', '"text"', '3', 'true']) assert.equal(parseJsonObject(text), undefined, text);
});
