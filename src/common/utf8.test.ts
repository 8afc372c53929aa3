import assert from 'node:assert/strict';
import { test } from 'node:test';
import { isWellFormed, splitUtf8, truncateUtf8, utf8Length } from './utf8.js';

test('splitUtf8 cuts between code points only: every piece is valid UTF-8 within the limit, and they join back', () => {
  const text = 'aé€😀'.repeat(1000) + 'tail';
  for (const max of [4, 5, 7, 100, 4096]) {
    const pieces = splitUtf8(text, max);
    assert.equal(pieces.join(''), text);
    for (const piece of pieces) {
      assert.ok(piece.length > 0);
      assert.ok(utf8Length(piece) <= max, `${utf8Length(piece)} > ${max}`);
      assert.ok(isWellFormed(piece), 'no surrogate pair is split');
      assert.equal(Buffer.from(piece, 'utf8').toString('utf8'), piece);
    }
  }
  assert.deepEqual(splitUtf8('', 10), ['']);
  assert.deepEqual(splitUtf8('abcdef', 4), ['abcd', 'ef']);
  assert.deepEqual(splitUtf8('ab😀', 5), ['ab', '😀']);
  assert.throws(() => splitUtf8('x', 3), RangeError);
});

test('truncateUtf8 keeps short text and cuts long text under the limit', () => {
  assert.equal(truncateUtf8('short', 100), 'short');
  const cut = truncateUtf8('😀'.repeat(1000), 200);
  assert.ok(utf8Length(cut) <= 200);
  assert.match(cut, /^(😀)+… \(\d+ more bytes left out\)$/);
});

test('isWellFormed finds lone surrogates only', () => {
  assert.ok(isWellFormed('plain é 😀'));
  assert.ok(!isWellFormed('a\uD800b'));
  assert.ok(!isWellFormed('\uDC00'));
});
