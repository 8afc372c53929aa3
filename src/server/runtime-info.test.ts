import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { checkpointUnsupportedReason, criCgroupDriver } from './runtime-info.js';

describe('criCgroupDriver', () => {
  test('Docker\'s CgroupDriver as the CRI enum; anything else is unknown', () => {
    assert.equal(criCgroupDriver('systemd'), 'SYSTEMD');
    assert.equal(criCgroupDriver('cgroupfs'), 'CGROUPFS');
    assert.equal(criCgroupDriver(''), undefined);
    assert.equal(criCgroupDriver('none'), undefined);
  });
});

describe('checkpointUnsupportedReason', () => {
  test('names what is missing: experimental mode, CRIU, or the daemon itself', () => {
    const both = checkpointUnsupportedReason({ daemonAnswers: true, experimental: false, criu: false });
    assert.match(both, /^CheckpointContainer is not supported/);
    assert.match(both, /experimental features/);
    assert.match(both, /CRIU/);
    const onlyCriu = checkpointUnsupportedReason({ daemonAnswers: true, experimental: true, criu: false });
    assert.doesNotMatch(onlyCriu, /experimental/);
    assert.match(onlyCriu, /CRIU/);
    assert.match(checkpointUnsupportedReason({ daemonAnswers: false, experimental: false, criu: true }), /does not answer/);
    assert.match(checkpointUnsupportedReason({ daemonAnswers: true, experimental: true, criu: true }), /checkpoint archive/);
  });
});
