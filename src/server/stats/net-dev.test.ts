import assert from 'node:assert/strict';
import { test } from 'node:test';
import { networkUsage } from './convert.js';
import { defaultInterface, parseNetDev, podInterfaces } from './net-dev.js';

const NET_DEV = `Inter-|   Receive                                                |  Transmit
 face |bytes    packets errs drop fifo frame compressed multicast|bytes    packets errs drop fifo colls carrier compressed
    lo:     120       2    0    0    0     0          0         0      120       2    0    0    0     0       0          0
  eth0:     486       5    1    2    0     0          0         0      900       7    3    4    0     0       0          0
  net1:123456789012 99    0    0    0     0          0         0       10       1    0    0    0     0       0          0
`;

test('/proc/net/dev: bytes, packets, errors and drops per interface; counters may touch the colon', () => {
  const counters = parseNetDev(NET_DEV);
  assert.deepEqual(counters.map((c) => c.name), ['lo', 'eth0', 'net1']);
  assert.deepEqual(counters[1], { name: 'eth0', rxBytes: 486n, rxPackets: 5n, rxErrors: 1n, rxDropped: 2n, txBytes: 900n, txPackets: 7n, txErrors: 3n, txDropped: 4n });
  assert.equal(counters[2]!.rxBytes, 123456789012n);
});

test('the pod network leaves loopback out and picks eth0 as the default', () => {
  const counters = parseNetDev(NET_DEV);
  assert.deepEqual(podInterfaces(counters).map((c) => c.name), ['eth0', 'net1']);
  assert.equal(defaultInterface(podInterfaces(counters))?.name, 'eth0');
  assert.equal(defaultInterface(podInterfaces(parseNetDev(NET_DEV.replace('eth0', 'ens3'))))?.name, 'ens3');
  assert.equal(defaultInterface([]), undefined);
});

test('CRI network usage: rx/tx bytes and errors with a timestamp', () => {
  const usage = networkUsage(42n, parseNetDev(NET_DEV));
  assert.equal(usage.timestamp, '42');
  assert.deepEqual(usage.defaultInterface, { name: 'eth0', rxBytes: { value: '486' }, rxErrors: { value: '1' }, txBytes: { value: '900' }, txErrors: { value: '3' } });
  assert.equal(usage.interfaces?.length, 2);
});

test('a namespace without interfaces but loopback has no default interface', () => {
  const usage = networkUsage(1n, parseNetDev(NET_DEV.split('\n').slice(0, 3).join('\n')));
  assert.equal(usage.defaultInterface, undefined);
  assert.deepEqual(usage.interfaces, []);
});
