import assert from 'node:assert/strict';
import { test } from 'node:test';
import { isoTime } from './time.js';

test('isoTime writes what toISOString writes', () => {
  const times = [0, 1, -1, 999, 1_765_000_000_123, Date.UTC(2026, 11, 7, 23, 59, 59, 999), Date.UTC(1969, 0, 1), Date.UTC(9999, 11, 31, 23, 59, 59, 999), Date.UTC(10000, 0, 1), Date.UTC(-1, 5, 6), -8.64e15, 8.64e15];
  for (let i = 0; i < 500; i++) times.push(Math.floor((Math.random() - 0.3) * 1e13));
  for (const ms of times) assert.equal(isoTime(ms), new Date(ms).toISOString(), String(ms));
  const date = new Date(1_765_000_000_456);
  assert.equal(isoTime(date), date.toISOString());
});

test('isoTime of an invalid date throws as toISOString does', () => {
  assert.throws(() => isoTime(Number.NaN), RangeError);
  assert.throws(() => isoTime(new Date('not a date')), RangeError);
});

test('isoTime without an argument is now', () => {
  const before = Date.now();
  const text = isoTime();
  assert.ok(Date.parse(text) >= before && Date.parse(text) <= Date.now());
});
