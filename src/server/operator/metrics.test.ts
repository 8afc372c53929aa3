import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { MetricsRegistry, escapeLabelValue, formatNumber } from './metrics.js';

describe('MetricsRegistry.render (Prometheus text format)', () => {
  test('a counter: HELP, TYPE and one line per label set, in a stable order', () => {
    const registry = new MetricsRegistry();
    const counter = registry.counter('x_total', 'Things counted.');
    counter.inc({ method: 'b', code: 'OK' });
    counter.inc({ method: 'a', code: 'OK' }, 2);
    counter.inc({ code: 'OK', method: 'a' }); // same series whatever the key order
    assert.equal(
      registry.render(),
      ['# HELP x_total Things counted.', '# TYPE x_total counter', 'x_total{method="a",code="OK"} 3', 'x_total{method="b",code="OK"} 1', ''].join('\n'),
    );
    assert.equal(counter.get({ code: 'OK', method: 'a' }), 3);
    assert.equal(counter.get({ method: 'c' }), 0);
  });

  test('a histogram: cumulative buckets, +Inf, sum and count', () => {
    const registry = new MetricsRegistry();
    const histogram = registry.histogram('d_seconds', 'Durations.', [0.1, 1]);
    histogram.observe({ m: 'x' }, 0.05);
    histogram.observe({ m: 'x' }, 0.5);
    histogram.observe({ m: 'x' }, 5);
    assert.deepEqual(registry.render().trimEnd().split('\n'), [
      '# HELP d_seconds Durations.',
      '# TYPE d_seconds histogram',
      'd_seconds_bucket{m="x",le="0.1"} 1',
      'd_seconds_bucket{m="x",le="1"} 2',
      'd_seconds_bucket{m="x",le="+Inf"} 3',
      'd_seconds_sum{m="x"} 5.55',
      'd_seconds_count{m="x"} 3',
    ]);
  });

  test('a value on a bucket bound counts in that bucket (le is "less or equal")', () => {
    const registry = new MetricsRegistry();
    registry.histogram('h', 'h', [1]).observe({}, 1);
    assert.match(registry.render(), /^h_bucket\{le="1"\} 1$/m);
  });

  test('gauges are collected at render time; a metric without samples still has HELP and TYPE', () => {
    const registry = new MetricsRegistry();
    let n = 1;
    registry.gauge('g', 'A gauge.', () => [{ labels: { state: 'up' }, value: n }]);
    registry.counter('empty_total', 'Nothing yet.');
    assert.match(registry.render(), /^g\{state="up"\} 1$/m);
    n = 7;
    const text = registry.render();
    assert.match(text, /^g\{state="up"\} 7$/m);
    assert.match(text, /^# TYPE empty_total counter$/m);
  });

  test('label values and help text are escaped', () => {
    assert.equal(escapeLabelValue('a"b\\c\nd'), 'a\\"b\\\\c\\nd');
    const registry = new MetricsRegistry();
    registry.counter('c_total', 'line one\nline two').inc({ v: 'say "hi"' });
    assert.match(registry.render(), /^# HELP c_total line one\\nline two$/m);
    assert.match(registry.render(), /^c_total\{v="say \\"hi\\""\} 1$/m);
  });

  test('numbers: integers plain, infinities and NaN by name', () => {
    assert.equal(formatNumber(3), '3');
    assert.equal(formatNumber(0.25), '0.25');
    assert.equal(formatNumber(Infinity), '+Inf');
    assert.equal(formatNumber(-Infinity), '-Inf');
    assert.equal(formatNumber(NaN), 'NaN');
  });

  test('a name registered twice is a programming error', () => {
    const registry = new MetricsRegistry();
    registry.counter('a', 'a');
    assert.throws(() => registry.counter('a', 'a'), /registered twice/);
  });
});
