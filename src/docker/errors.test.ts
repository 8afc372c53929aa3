import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { status } from '@grpc/grpc-js';
import { MascriError } from '../common/errors.js';
import { DockerError, classifyDockerFailure, dockerMessage, isRemovalInProgress, type DockerErrorKind } from './errors.js';

/** Docker's own words (captured from real docker CLI runs) and the kind each must be classified as. */
const REAL_MESSAGES: Array<[string, DockerErrorKind]> = [
  ['Error response from daemon: manifest for localhost:5000/does-not-exist:1 not found: manifest unknown: manifest unknown', 'not-found'],
  ['invalid reference format: repository name (/Ref) must be lowercase', 'invalid-argument'],
  ['Error response from daemon: no such image: nosuch: No such image: nosuch:latest', 'not-found'],
  ['Error: No such object: nosuch', 'not-found'],
  ['Error response from daemon: No such container: nosuch', 'not-found'],
  ['Cannot connect to the Docker daemon at unix:///nonexistent.sock. Is the docker daemon running?', 'unavailable'],
  ['Error response from daemon: Get "http://127.0.0.1:5999/v2/": dial tcp 127.0.0.1:5999: connect: connection refused', 'unavailable'],
  [
    'docker: Error response from daemon: Conflict. The container name "/dup" is already in use by container "65e6...". You have to remove (or rename) that container to be able to reuse that name.\n\nRun \'docker run --help\' for more information',
    'already-exists',
  ],
  [
    'Error response from daemon: conflict: unable to remove repository reference "localhost:5000/pause:3.10" (must force) - container 65e62b8e1e3b is using its referenced image 46fd2b7b140a',
    'conflict',
  ],
  ['unauthorized: authentication required', 'unauthenticated'],
  ['Error response from daemon: Head "https://localhost:5000/v2/private/manifests/latest": no basic auth credentials', 'unauthenticated'],
  [
    "Error response from daemon: pull access denied for nosuch, repository does not exist or may require 'docker login': denied: requested access to the resource is denied",
    'not-found',
  ],
  ['error during connect: Get "http://%2Fvar%2Frun%2Fdocker.sock/v1.47/info": dial unix /var/run/docker.sock: connect: permission denied', 'unavailable'],
  ['Error response from daemon: Get "https://registry.invalid/v2/": dial tcp: lookup registry.invalid: no such host', 'unavailable'],
  ['Error response from daemon: Container 65e62b8e1e3b is not running', 'conflict'],
  ['Error response from daemon: removal of container 65e62b8e1e3b is already in progress', 'conflict'],
  ['Error: No such container: 0123abcd\nError response from daemon: removal of container 65e62b8e1e3b is already in progress', 'conflict'],
  [
    'Error response from daemon: failed to create task for container: failed to create shim task: OCI runtime create failed: runc create failed: unable to start container process: exec: "nosuch": executable file not found in $PATH: unknown',
    'internal',
  ],
  ['unknown flag: --nosuch\nSee \'docker run --help\'.', 'invalid-argument'],
  ['something nobody has ever seen before', 'internal'],
  ['', 'internal'],
];

describe('classifyDockerFailure', () => {
  for (const [stderr, kind] of REAL_MESSAGES) {
    test(`${kind}: ${JSON.stringify(stderr.slice(0, 70))}`, () => {
      assert.equal(classifyDockerFailure(stderr), kind);
    });
  }

  test('daemon reachability wins over words of other rules in the same message', () => {
    // "not found" would be not-found, but the daemon did not answer at all.
    assert.equal(classifyDockerFailure('Cannot connect to the Docker daemon at unix:///x.sock. Is the docker daemon running? (image not found)'), 'unavailable');
  });

  test('an OCI runtime failure naming a missing file is internal, not not-found', () => {
    assert.equal(classifyDockerFailure('OCI runtime exec failed: exec failed: unable to start container process: no such file or directory: unknown'), 'internal');
  });
});

describe('isRemovalInProgress', () => {
  test('only a conflict saying another removal is running', () => {
    const stderr = 'Error response from daemon: removal of container k8s_POD_p_ns_u_0 is already in progress';
    assert.ok(isRemovalInProgress(new DockerError(classifyDockerFailure(stderr), dockerMessage(stderr))));
    assert.ok(!isRemovalInProgress(new DockerError('conflict', 'Container 65e62b8e1e3b is not running')));
    assert.ok(!isRemovalInProgress(new DockerError('internal', 'removal of container x is already in progress')));
    assert.ok(!isRemovalInProgress(new Error('removal of container x is already in progress')));
  });
});

describe('dockerMessage', () => {
  test('drops the "docker: Error response from daemon: " prefix and the "Run \'docker run --help\'" line', () => {
    const stderr = REAL_MESSAGES[7]![0];
    const message = dockerMessage(stderr);
    assert.equal(
      message,
      'Conflict. The container name "/dup" is already in use by container "65e6...". You have to remove (or rename) that container to be able to reuse that name.',
    );
    assert.doesNotMatch(message, /--help/);
    assert.doesNotMatch(message, /^docker:/);
    assert.doesNotMatch(message, /Error response from daemon/);
  });

  test('drops "Error response from daemon: " and "Error: "', () => {
    assert.equal(dockerMessage('Error response from daemon: No such container: nosuch'), 'No such container: nosuch');
    assert.equal(dockerMessage('Error: No such object: nosuch'), 'No such object: nosuch');
    assert.equal(
      dockerMessage('Error response from daemon: manifest for localhost:5000/does-not-exist:1 not found: manifest unknown: manifest unknown'),
      'manifest for localhost:5000/does-not-exist:1 not found: manifest unknown: manifest unknown',
    );
  });

  test('drops a "See \'docker ... --help\'" line and joins the remaining lines', () => {
    assert.equal(dockerMessage("unknown flag: --nosuch\nSee 'docker run --help'.\n"), 'unknown flag: --nosuch');
    assert.equal(dockerMessage('  first line  \n\n second line \n'), 'first line second line');
  });

  test('keeps a message without a known prefix as it is', () => {
    assert.equal(dockerMessage('unauthorized: authentication required'), 'unauthorized: authentication required');
  });

  test('an empty or blank stderr still gives a message', () => {
    assert.equal(dockerMessage(''), 'docker failed without a message');
    assert.equal(dockerMessage('\n  \n'), 'docker failed without a message');
  });
});

describe('DockerError', () => {
  const codes: Array<[DockerErrorKind, number]> = [
    ['not-found', status.NOT_FOUND],
    ['already-exists', status.ALREADY_EXISTS],
    ['invalid-argument', status.INVALID_ARGUMENT],
    ['conflict', status.FAILED_PRECONDITION],
    ['unauthenticated', status.UNAUTHENTICATED],
    ['unavailable', status.UNAVAILABLE],
    ['timeout', status.DEADLINE_EXCEEDED],
    ['internal', status.INTERNAL],
  ];
  for (const [kind, code] of codes) {
    test(`kind ${kind} becomes gRPC code ${code}`, () => {
      const error = new DockerError(kind, 'msg');
      assert.equal(error.code, code);
      assert.equal(error.kind, kind);
    });
  }

  test('is a MascriError and an Error, keeps message, args and stdout', () => {
    const error = new DockerError('not-found', 'No such image: x', ['image', 'inspect', 'x'], '[{"Id":"a"}]');
    assert.ok(error instanceof MascriError);
    assert.ok(error instanceof Error);
    assert.equal(error.name, 'DockerError');
    assert.equal(error.message, 'No such image: x');
    assert.deepEqual(error.args, ['image', 'inspect', 'x']);
    assert.equal(error.stdout, '[{"Id":"a"}]');
  });

  test('args and stdout default to empty', () => {
    const error = new DockerError('internal', 'boom');
    assert.deepEqual(error.args, []);
    assert.equal(error.stdout, '');
  });
});
