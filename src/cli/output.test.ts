import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { toProtoJson } from '../cri/proto-json.js';
import { UsageError, humanSize, parseDuration, parseOutputFormat, truncateId } from './output.js';


describe('humanSize', () => {
  const cases: Array<[number | string, string]> = [
    [0, '0B'],
    [999, '999B'],
    [1000, '1kB'],
    [1500, '1.5kB'],
    [4096, '4.1kB'],
    [1984293, '1.98MB'],
    [5951000, '5.95MB'],
    [1234567890, '1.23GB'],
    [2_000_000_000_000, '2TB'],
    ['4261550', '4.26MB'],
  ];
  for (const [bytes, wanted] of cases) {
    test(`${JSON.stringify(bytes)} -> ${wanted}`, () => {
      assert.equal(humanSize(bytes), wanted);
    });
  }
});

describe('truncateId', () => {
  const id = 'sha256:' + '0123456789abcdef'.repeat(4);
  test('drops sha256: and keeps 13 characters', () => {
    assert.equal(truncateId(id), '0123456789abc');
    assert.equal(truncateId('0123456789abcdef'), '0123456789abc');
  });

  test('noTrunc keeps the whole ID without sha256:', () => {
    assert.equal(truncateId(id, true), '0123456789abcdef'.repeat(4));
  });

  test('short IDs stay as they are', () => {
    assert.equal(truncateId('abc'), 'abc');
  });
});

describe('parseDuration', () => {
  const cases: Array<[string, number]> = [
    ['2s', 2000],
    ['500ms', 500],
    ['1m30s', 90_000],
    ['1h', 3_600_000],
    ['1.5s', 1500],
    ['3', 3000],
    ['0.5', 500],
    ['0s', 0],
    ['0', 0],
    [' 2s ', 2000],
    ['100us', 0.1],
  ];
  for (const [text, ms] of cases) {
    test(`${JSON.stringify(text)} -> ${ms} ms`, () => {
      assert.equal(parseDuration(text), ms);
    });
  }

  for (const bad of ['', ' ', 'abc', '2x', '-1s', 's', '1m30', '2 s', '1e3']) {
    test(`${JSON.stringify(bad)} is a UsageError`, () => {
      assert.throws(() => parseDuration(bad), (error: unknown) => error instanceof UsageError && /duration/.test(error.message));
    });
  }
});

describe('parseOutputFormat', () => {
  test('missing or empty values give the fallback', () => {
    assert.equal(parseOutputFormat(undefined, ['json', 'yaml'], 'json'), 'json');
    assert.equal(parseOutputFormat('', ['json', 'yaml', 'table'], 'table'), 'table');
  });

  test('an allowed value is kept', () => {
    assert.equal(parseOutputFormat('yaml', ['json', 'yaml'], 'json'), 'yaml');
    assert.equal(parseOutputFormat('table', ['json', 'yaml', 'table'], 'json'), 'table');
  });

  test('a value not allowed here is a UsageError listing the choices', () => {
    assert.throws(
      () => parseOutputFormat('table', ['json', 'yaml'], 'json'),
      (error: unknown) => error instanceof UsageError && error.message === 'unsupported output format "table": use one of json|yaml',
    );
    assert.throws(() => parseOutputFormat('xml', ['json', 'yaml', 'table'], 'json'), UsageError);
  });
});

describe('toProtoJson', () => {
  test('drops null and undefined fields, keeps falsy values', () => {
    assert.deepEqual(toProtoJson({ a: null, b: undefined, c: 0, d: '', e: false, f: 'x' }), { c: 0, d: '', e: false, f: 'x' });
  });

  test('bytes (Buffer or Uint8Array) become base64', () => {
    assert.deepEqual(toProtoJson({ stdout: Buffer.from('hello'), raw: new Uint8Array([1, 2, 255]) }), { stdout: 'aGVsbG8=', raw: 'AQL/' });
  });

  test('nested objects and arrays are converted all the way down', () => {
    const value = {
      status: { conditions: [{ type: 'RuntimeReady', status: true, reason: null }, { type: 'NetworkReady', data: Buffer.from([0]) }] },
      images: [[{ id: 'a', uid: null }], []],
      labels: {},
    };
    assert.deepEqual(toProtoJson(value), {
      status: { conditions: [{ type: 'RuntimeReady', status: true }, { type: 'NetworkReady', data: 'AA==' }] },
      images: [[{ id: 'a' }], []],
      labels: {},
    });
  });

  test('top-level null/undefined give undefined; scalars pass through', () => {
    assert.equal(toProtoJson(null), undefined);
    assert.equal(toProtoJson(undefined), undefined);
    assert.equal(toProtoJson('s'), 's');
    assert.equal(toProtoJson(7), 7);
  });

});

test('humanSize rounds before choosing the unit', () => {
  assert.equal(humanSize(999999), '1MB');
  assert.equal(humanSize(999_499), '999kB');
});
