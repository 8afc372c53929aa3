import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { COMPACT_EVERY_TOMBSTONES, StoreCore } from './store-core.js';

/** Each case is an interleaving of looks at Docker (begin ... resolve) and removals. */
describe('StoreCore orderings', () => {
  test('an event look and a direct write, answers in order: the later one wins', () => {
    const core = new StoreCore<string>();
    const event = core.begin();
    const write = core.begin();
    assert.ok(core.resolve('c', event, 'running'));
    assert.ok(core.resolve('c', write, 'exited'));
    assert.equal(core.get('c'), 'exited');
  });

  test('answers out of order: an older answer arriving late is dropped', () => {
    const core = new StoreCore<string>();
    const slowEvent = core.begin(); // started first, answers last
    const write = core.begin();
    assert.ok(core.resolve('c', write, 'exited'));
    assert.equal(core.resolve('c', slowEvent, 'running'), false);
    assert.equal(core.get('c'), 'exited', 'the container does not come back to life');
  });

  test('a removal is not undone by a look that started before it', () => {
    const core = new StoreCore<string>();
    const look = core.begin();
    core.resolve('c', core.begin(), undefined); // removed
    assert.equal(core.resolve('c', look, 'running'), false);
    assert.equal(core.get('c'), undefined);
    assert.deepEqual(core.values(), []);
  });

  test('a look that started after a removal may bring the ID back (Docker reused it: never, but the rule is consistent)', () => {
    const core = new StoreCore<string>();
    core.resolve('c', core.begin(), undefined);
    const look = core.begin();
    assert.ok(core.resolve('c', look, 'created'));
    assert.equal(core.get('c'), 'created');
  });

  test('a full resync does not remove a container created while it was listing', () => {
    const core = new StoreCore<string>();
    const resync = core.begin(); // listing starts
    const created = core.begin(); // an event for a new container arrives meanwhile
    core.resolve('new', created, 'created');
    // The listing did not see "new": the resync marks unseen IDs gone with its own (older) number.
    assert.equal(core.resolve('new', resync, undefined), false);
    assert.equal(core.get('new'), 'created');
  });

  test('the same container seen by a resync and a newer event: the event wins whatever the arrival order', () => {
    const core = new StoreCore<string>();
    const resync = core.begin();
    const die = core.begin();
    core.resolve('c', die, 'exited');
    assert.equal(core.resolve('c', resync, 'running'), false);
    assert.equal(core.get('c'), 'exited');
  });

  test('compact drops only old tombstones', () => {
    const core = new StoreCore<string>();
    core.resolve('gone', core.begin(), undefined);
    core.resolve('live', core.begin(), 'running');
    const mark = core.begin();
    core.resolve('recent', core.begin(), undefined);
    core.compact(mark);
    assert.equal(core.knows('gone'), false);
    assert.equal(core.knows('recent'), true);
    assert.deepEqual(core.ids(), ['live']);
  });
});

describe('tombstones of removed containers', () => {
  test('are dropped once no look that began before them is in flight', () => {
    const core = new StoreCore<string>();
    for (let i = 0; i < COMPACT_EVERY_TOMBSTONES; i++) {
      const made = core.begin();
      core.resolve(`c${i}`, made, 'running');
      core.finish(made);
    }
    const slow = core.begin(); // a look that started before the removals and is still running
    for (let i = 0; i < COMPACT_EVERY_TOMBSTONES; i++) {
      const gone = core.begin();
      core.resolve(`c${i}`, gone, undefined);
      core.finish(gone);
    }
    assert.equal(core.size, COMPACT_EVERY_TOMBSTONES, 'kept while the slow look may still answer');
    assert.equal(core.resolve('c0', slow, 'running'), false, 'and that look cannot bring a container back');
    core.finish(slow);
    assert.equal(core.size, 0, 'dropped once it is over');
    assert.deepEqual(core.ids(), []);
  });

  test('a few are kept until there are enough to be worth a pass', () => {
    const core = new StoreCore<string>();
    const made = core.begin();
    core.resolve('c', made, 'running');
    core.finish(made);
    const gone = core.begin();
    core.resolve('c', gone, undefined);
    core.finish(gone);
    assert.equal(core.size, 1);
    assert.equal(core.knows('c'), true);
  });
});
