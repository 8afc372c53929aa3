import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { MAX_PENDING_TOKENS, TokenCache } from './tokens.js';

describe('TokenCache', () => {
  test('tokens are long, random and single-use', () => {
    const cache = new TokenCache<string>();
    const a = cache.insert('a')!;
    const b = cache.insert('b')!;
    assert.notEqual(a, b);
    assert.match(a, /^[A-Za-z0-9_-]{32}$/); // 192 bits
    assert.equal(cache.consume(a), 'a');
    assert.equal(cache.consume(a), undefined);
    assert.equal(cache.consume('guess'), undefined);
    assert.equal(cache.consume(b), 'b');
  });

  test('an unused token expires after its time to live', () => {
    let now = 1000;
    const cache = new TokenCache<string>(30_000, () => now);
    const token = cache.insert('x')!;
    now += 29_999;
    const fresh = cache.insert('y')!;
    assert.equal(cache.consume(fresh), 'y');
    now += 1;
    assert.equal(cache.consume(token), undefined);
    assert.equal(cache.size, 0);
  });

  test('too many pending tokens are refused', () => {
    const cache = new TokenCache<number>();
    for (let i = 0; i < MAX_PENDING_TOKENS; i++) assert.ok(cache.insert(i));
    assert.equal(cache.insert(-1), undefined);
  });
});
