import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  DOCKER_HUB_AUTH_KEY,
  authConfigKey,
  familiarRepository,
  familiarTagged,
  isImageId,
  parseReference,
  referenceMatchesImage,
  type ImageNames,
  type ImageReference,
} from './reference.js';

const DIGEST = 'sha256:' + '0123456789abcdef'.repeat(4);
const ID = 'sha256:46fd2b7b140a' + 'c'.repeat(52);

/** parseReference that must succeed. */
function parse(ref: string): ImageReference {
  const parsed = parseReference(ref);
  assert.ok(parsed, `expected "${ref}" to parse`);
  return parsed;
}

describe('parseReference', () => {
  test('a bare name is a Docker Hub library image without tag', () => {
    assert.deepEqual(parseReference('busybox'), { domain: 'docker.io', path: 'library/busybox', tag: undefined, digest: undefined });
  });

  test('a name with a tag', () => {
    assert.deepEqual(parseReference('busybox:1.36'), { domain: 'docker.io', path: 'library/busybox', tag: '1.36', digest: undefined });
  });

  test('a registry with a port, a path and a tag', () => {
    assert.deepEqual(parseReference('localhost:5000/busybox:latest'), { domain: 'localhost:5000', path: 'busybox', tag: 'latest', digest: undefined });
    assert.deepEqual(parseReference('registry.example.com:5000/a/b/c:v1'), { domain: 'registry.example.com:5000', path: 'a/b/c', tag: 'v1', digest: undefined });
  });

  test('"localhost" and names with a dot are registries; others are Hub user repositories', () => {
    assert.equal(parse('localhost/busybox').domain, 'localhost');
    assert.equal(parse('quay.io/org/app').domain, 'quay.io');
    assert.deepEqual(parseReference('myuser/app'), { domain: 'docker.io', path: 'myuser/app', tag: undefined, digest: undefined });
  });

  test('docker.io and index.docker.io normalize to docker.io/library/...', () => {
    assert.deepEqual(parse('docker.io/busybox'), parse('busybox'));
    assert.deepEqual(parse('index.docker.io/library/busybox'), parse('busybox'));
    assert.deepEqual(parse('docker.io/library/busybox:latest'), parse('busybox:latest'));
  });

  test('a digest, alone or with a tag', () => {
    assert.deepEqual(parseReference(`busybox@${DIGEST}`), { domain: 'docker.io', path: 'library/busybox', tag: undefined, digest: DIGEST });
    assert.deepEqual(parseReference(`localhost:5000/busybox:1@${DIGEST}`), { domain: 'localhost:5000', path: 'busybox', tag: '1', digest: DIGEST });
  });

  test('an IPv6 registry with a port', () => {
    assert.deepEqual(parseReference('[::1]:5000/app:v1'), { domain: '[::1]:5000', path: 'app', tag: 'v1', digest: undefined });
  });

  for (const bad of ['', 'Bad//Ref', 'a:b:c', 'Busybox', 'foo/Bar', ' busybox', 'busybox ', 'busybox:', 'busybox:-tag', 'busybox@sha256:abc', 'busybox@', 'a..b', 'a___b', '/busybox', 'busybox/', 'local host/app', 'busybox:a/b']) {
    test(`invalid: ${JSON.stringify(bad)}`, () => {
      assert.equal(parseReference(bad), undefined);
    });
  }
});

describe('familiarRepository and familiarTagged', () => {
  test('Docker Hub library images lose docker.io/library/', () => {
    const ref = parse('docker.io/library/busybox');
    assert.equal(familiarRepository(ref), 'busybox');
    assert.equal(familiarTagged(ref), 'busybox:latest');
  });

  test('Docker Hub user repositories lose only docker.io/', () => {
    assert.equal(familiarRepository(parse('docker.io/myuser/app')), 'myuser/app');
    assert.equal(familiarTagged(parse('myuser/app:2')), 'myuser/app:2');
  });

  test('other registries keep their host', () => {
    assert.equal(familiarRepository(parse('localhost:5000/busybox:1')), 'localhost:5000/busybox');
    assert.equal(familiarTagged(parse('localhost:5000/busybox:1')), 'localhost:5000/busybox:1');
    assert.equal(familiarTagged(parse('localhost:5000/busybox')), 'localhost:5000/busybox:latest');
  });

  test('a digest without tag stays a digest; with a tag the tag is shown', () => {
    assert.equal(familiarTagged(parse(`busybox@${DIGEST}`)), `busybox@${DIGEST}`);
    assert.equal(familiarTagged(parse(`busybox:1@${DIGEST}`)), 'busybox:1');
  });
});

describe('authConfigKey', () => {
  test('Docker Hub uses the legacy index URL', () => {
    assert.equal(DOCKER_HUB_AUTH_KEY, 'https://index.docker.io/v1/');
    assert.equal(authConfigKey(parse('busybox')), 'https://index.docker.io/v1/');
    assert.equal(authConfigKey(parse('docker.io/myuser/app:1')), 'https://index.docker.io/v1/');
    assert.equal(authConfigKey(parse('index.docker.io/library/busybox')), 'https://index.docker.io/v1/');
  });

  test('other registries use host[:port]', () => {
    assert.equal(authConfigKey(parse('localhost:5000/busybox:latest')), 'localhost:5000');
    assert.equal(authConfigKey(parse('quay.io/org/app')), 'quay.io');
    assert.equal(authConfigKey(parse(`registry.example.com:443/a/b@${DIGEST}`)), 'registry.example.com:443');
  });
});

describe('isImageId', () => {
  test('full IDs with or without sha256:', () => {
    assert.equal(isImageId(ID), true);
    assert.equal(isImageId(ID.slice('sha256:'.length)), true);
  });

  test('prefixes, names and upper-case hex are not full IDs', () => {
    assert.equal(isImageId('46fd2b'), false);
    assert.equal(isImageId('sha256:46fd2b'), false);
    assert.equal(isImageId('busybox'), false);
    assert.equal(isImageId('sha256:' + 'A'.repeat(64)), false);
    assert.equal(isImageId(ID + 'c'), false);
  });
});

describe('referenceMatchesImage', () => {
  const image: ImageNames = {
    Id: ID,
    RepoTags: ['busybox:latest', 'localhost:5000/pause:3.10'],
    RepoDigests: [`busybox@${DIGEST}`],
  };

  test('by full ID, with or without sha256:', () => {
    assert.equal(referenceMatchesImage(ID, image), true);
    assert.equal(referenceMatchesImage(ID.slice('sha256:'.length), image), true);
  });

  test('by an ID prefix of at least 6 hex digits, with or without sha256:', () => {
    assert.equal(referenceMatchesImage('46fd2b', image), true);
    assert.equal(referenceMatchesImage('46fd2b7b140a', image), true);
    assert.equal(referenceMatchesImage('sha256:46fd2b7b140a', image), true);
    assert.equal(referenceMatchesImage('46fd2', image), false, 'too short a prefix');
    assert.equal(referenceMatchesImage('46fd2c', image), false, 'another ID');
  });

  test('by tag, in short and normalized forms', () => {
    for (const ref of ['busybox', 'busybox:latest', 'docker.io/busybox', 'docker.io/busybox:latest', 'docker.io/library/busybox:latest', 'index.docker.io/library/busybox']) {
      assert.equal(referenceMatchesImage(ref, image), true, ref);
    }
    assert.equal(referenceMatchesImage('localhost:5000/pause:3.10', image), true);
  });

  test('by digest, in short and normalized forms', () => {
    assert.equal(referenceMatchesImage(`busybox@${DIGEST}`, image), true);
    assert.equal(referenceMatchesImage(`docker.io/library/busybox@${DIGEST}`, image), true);
    assert.equal(referenceMatchesImage(`busybox:other@${DIGEST}`, image), true, 'the digest decides, not the tag');
  });

  test('names the image does not have do not match', () => {
    for (const ref of ['busybox:1.36', 'alpine', 'localhost:5000/pause', 'localhost:5000/busybox:latest', 'myuser/busybox:latest', `alpine@${DIGEST}`, `busybox@sha256:${'f'.repeat(64)}`, 'Bad//Ref', '']) {
      assert.equal(referenceMatchesImage(ref, image), false, ref);
    }
  });

  test('null RepoTags and RepoDigests match only by ID', () => {
    const untagged: ImageNames = { Id: ID, RepoTags: null, RepoDigests: null };
    assert.equal(referenceMatchesImage('busybox', untagged), false);
    assert.equal(referenceMatchesImage(`busybox@${DIGEST}`, untagged), false);
    assert.equal(referenceMatchesImage('46fd2b7b', untagged), true);
  });
});
