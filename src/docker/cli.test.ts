import assert from 'node:assert/strict';
import { chmodSync, existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { status } from '@grpc/grpc-js';
import { DockerCli, MAX_ARG_BYTES, cliEnv, parseJsonLines, redactArgs, runDockerProcess, spawnFailure } from './cli.js';
import { DockerError } from './errors.js';
import { DockerSystem } from './system.js';

const dir = mkdtempSync(join(tmpdir(), 'mascri-cli-'));
after(() => rmSync(dir, { recursive: true, force: true }));

/** Writes an executable sh script into the test's temporary directory and returns its path. */
function script(name: string, body: string): string {
  const path = join(dir, name);
  writeFileSync(path, `#!/bin/sh\n${body}\n`);
  chmodSync(path, 0o755);
  return path;
}

/** Asserts that `promise` rejects with a DockerError and returns it for further checks. */
async function dockerError(promise: Promise<unknown>): Promise<DockerError> {
  let caught: unknown;
  await assert.rejects(promise, (error: unknown) => {
    caught = error;
    return true;
  });
  assert.ok(caught instanceof DockerError, `expected a DockerError, got ${String(caught)}`);
  return caught;
}

describe('parseJsonLines', () => {
  test('one value per line, blank and whitespace-only lines skipped', () => {
    assert.deepEqual(parseJsonLines('\n{"a":1}\n   \n{"b":[2]}\n\n"s"\n'), [{ a: 1 }, { b: [2] }, 's']);
  });

  test('empty output is an empty list', () => {
    assert.deepEqual(parseJsonLines(''), []);
    assert.deepEqual(parseJsonLines('\n\n'), []);
  });

  test('a line that is not JSON is an internal DockerError naming the command and the line', () => {
    assert.throws(
      () => parseJsonLines('{"a":1}\nWARNING: not json\n', ['image', 'ls']),
      (error: unknown) => {
        assert.ok(error instanceof DockerError);
        assert.equal(error.kind, 'internal');
        assert.equal(error.code, status.INTERNAL);
        assert.match(error.message, /docker image ls/);
        assert.match(error.message, /WARNING: not json/);
        assert.deepEqual(error.args, ['image', 'ls']);
        return true;
      },
    );
  });
});

describe('redactArgs', () => {
  test('hides the values of credential options and nothing else', () => {
    assert.deepEqual(redactArgs(['login', '--password', 'hunter2', '--username', 'me', 'localhost:5000']), [
      'login', '--password', '***', '--username', 'me', 'localhost:5000',
    ]);
    assert.deepEqual(redactArgs(['x', '--creds', 'u:p', '--auth', 'dTpw', '--token', 't', '-PASSWORD', 'p']), [
      'x', '--creds', '***', '--auth', '***', '--token', '***', '-PASSWORD', '***',
    ]);
  });

  test('arguments without secrets come back unchanged, as a copy', () => {
    const args = ['pull', '--quiet', '--', 'busybox'];
    const redacted = redactArgs(args);
    assert.deepEqual(redacted, args);
    assert.notEqual(redacted, args);
  });
});

describe('DockerCli.run', () => {
  test('arguments are passed as an array, never through a shell', async () => {
    const marker = join(dir, 'must-not-exist');
    const args = ['a b', `$(touch ${marker})`, ';', '*', '`id`', '|', 'x && y'];
    const { stdout, stderr } = await new DockerCli('/bin/echo').run(args);
    assert.equal(stdout, args.join(' '));
    assert.equal(stderr, '');
    assert.equal(existsSync(marker), false);
  });

  test('each argument arrives as one argv entry', async () => {
    const bin = script('argv', 'for a in "$@"; do printf "<%s>\\n" "$a"; done');
    const { stdout } = await new DockerCli(bin).run(['a b', '', '$HOME', '*']);
    assert.equal(stdout, '<a b>\n<>\n<$HOME>\n<*>');
  });

  test('input goes to stdin and extra env is visible to the binary', async () => {
    const bin = script('stdin-env', 'printf "%s|" "$MASCRI_TEST_VAR"; cat');
    const { stdout } = await new DockerCli(bin).run([], { input: 'from stdin', env: { MASCRI_TEST_VAR: 'v1' } });
    assert.equal(stdout, 'v1|from stdin');
  });

  test('the CLI runs with one Go P (GOMAXPROCS=1) unless mascri was given a GOMAXPROCS of its own', async () => {
    assert.deepEqual(cliEnv({}), { GOMAXPROCS: '1' });
    assert.deepEqual(cliEnv({ GOMAXPROCS: '4' }), {});
    const bin = script('gomaxprocs', 'printf "%s" "$GOMAXPROCS"');
    const { stdout } = await new DockerCli(bin).run([]);
    assert.equal(stdout, process.env.GOMAXPROCS || '1');
    const exec = await runDockerProcess(new DockerCli(bin), []);
    assert.equal(exec.stdout.toString(), process.env.GOMAXPROCS || '1');
  });

  test('a call that runs past its timeout is killed and fails with kind timeout (DEADLINE_EXCEEDED)', async () => {
    const started = Date.now();
    const error = await dockerError(new DockerCli('/bin/sleep').run(['5'], { timeoutMs: 200 }));
    const elapsed = Date.now() - started;
    assert.equal(error.kind, 'timeout');
    assert.equal(error.code, status.DEADLINE_EXCEEDED);
    assert.match(error.message, /200 ms/);
    assert.ok(elapsed < 3000, `took ${elapsed} ms`);
  });

  test('an aborted call fails with kind timeout, saying it was cancelled', async () => {
    const abort = new AbortController();
    // Aborted once the process is running (it says so with a file), not after a guessed time.
    const running = join(dir, 'abort-running');
    const sleeper = script('sleep-after-saying-so', `touch "$1"; exec sleep 5`);
    const started = Date.now();
    let settled = false;
    const outcome = dockerError(new DockerCli(sleeper).run([running], { signal: abort.signal }).finally(() => (settled = true)));
    while (!existsSync(running) && !settled) await new Promise((resolve) => setTimeout(resolve, 10));
    abort.abort();
    const error = await outcome;
    assert.equal(error.kind, 'timeout');
    assert.match(error.message, /cancelled/);
    assert.ok(Date.now() - started < 3000);
  });

  test('a missing binary is kind unavailable with a message naming it', async () => {
    const error = await dockerError(new DockerCli('/nonexistent/docker').run(['ps']));
    assert.equal(error.kind, 'unavailable');
    assert.equal(error.code, status.UNAVAILABLE);
    assert.match(error.message, /"\/nonexistent\/docker"/);
    assert.match(error.message, /not found/);
    assert.deepEqual(error.args, ['ps']);
  });

  test('a binary that is not executable is kind unavailable', async () => {
    const path = join(dir, 'not-executable');
    writeFileSync(path, '#!/bin/sh\necho hi\n', { mode: 0o644 });
    const error = await dockerError(new DockerCli(path).run(['ps']));
    assert.equal(error.kind, 'unavailable');
    assert.match(error.message, /not executable/);
  });

  test("a failure is classified from Docker's stderr and keeps stdout", async () => {
    const bin = script('no-such-container', 'echo \'{"Id":"partial"}\'\necho "Error response from daemon: No such container: x" >&2\nexit 1');
    const error = await dockerError(new DockerCli(bin).run(['inspect', 'x']));
    assert.equal(error.kind, 'not-found');
    assert.equal(error.code, status.NOT_FOUND);
    assert.equal(error.message, 'No such container: x');
    assert.equal(error.stdout, '{"Id":"partial"}');
    assert.deepEqual(error.args, ['inspect', 'x']);
  });

  test('a failure without stderr is internal and still has a message', async () => {
    const error = await dockerError(new DockerCli('/bin/false').run(['x']));
    assert.equal(error.kind, 'internal');
    assert.equal(error.message, 'docker x exited with code 1 without a message');
  });

  test('an argument longer than the kernel takes (E2BIG) fails at once, with a short message that names it and not its content', async () => {
    const cli = new DockerCli('/bin/true');
    const oks: boolean[] = [];
    cli.onCall((_args, _ms, ok) => oks.push(ok));
    const huge = 's'.repeat(MAX_ARG_BYTES + 1);
    const started = performance.now();
    const error = await dockerError(cli.run(['run', '--label', `a=${huge}`, 'img'], { timeoutMs: 20_000 }));
    assert.ok(performance.now() - started < 5000, 'not waiting for the timeout');
    assert.equal(error.kind, 'invalid-argument');
    assert.equal(error.code, status.INVALID_ARGUMENT);
    assert.match(error.message, /^docker run could not be started: its arguments are too long for the kernel \(E2BIG; the longest argument, number 3 \(the value of --label\), is 131075 bytes/);
    assert.ok(error.message.length < 400, `short message, not the command line (${error.message.length} characters)`);
    assert.ok(!error.message.includes('sss'));
    assert.deepEqual(oks, [false]);
    await assert.rejects(runDockerProcess(cli, ['exec', 'c', huge]), /docker exec could not be started: .*E2BIG/);
  });

  test('the onCall observers see every call, successful or not', async () => {
    const cli = new DockerCli('/bin/sh');
    const seen: Array<[readonly string[], number, boolean]> = [];
    const seenToo: boolean[] = [];
    cli.onCall((args, ms, ok) => seen.push([args, ms, ok]));
    cli.onCall((_args, _ms, ok) => seenToo.push(ok));
    await cli.run(['-c', 'exit 0']);
    await assert.rejects(cli.run(['-c', 'echo "Error: No such object: y" >&2; exit 1']));
    assert.equal(seen.length, 2);
    assert.deepEqual(seen[0]![0], ['-c', 'exit 0']);
    assert.equal(seen[0]![2], true);
    assert.deepEqual(seen[1]![0], ['-c', 'echo "Error: No such object: y" >&2; exit 1']);
    assert.equal(seen[1]![2], false);
    for (const [, ms] of seen) assert.ok(typeof ms === 'number' && ms >= 0);
    assert.deepEqual(seenToo, [true, false]);
  });

  test('an observer sees a missing binary as a failed call', async () => {
    const cli = new DockerCli('/nonexistent/docker');
    const oks: boolean[] = [];
    cli.onCall((_args, _ms, ok) => oks.push(ok));
    await assert.rejects(cli.run(['version']));
    assert.deepEqual(oks, [false]);
  });
});

describe('spawnFailure', () => {
  const args = ['create', '--env', `K=${'v'.repeat(20)}`, 'img'];
  test('no process could be started: EAGAIN and ENOMEM are UNAVAILABLE (try again), E2BIG is INVALID_ARGUMENT', () => {
    const again = spawnFailure({ code: 'EAGAIN' }, 'docker', args)!;
    assert.equal(again.code, status.UNAVAILABLE);
    assert.match(again.message, /^docker create could not be started: .*EAGAIN.*try again$/);
    const memory = spawnFailure({ code: 'ENOMEM' }, 'docker', args)!;
    assert.equal(memory.code, status.UNAVAILABLE);
    assert.match(memory.message, /out of memory \(ENOMEM\)/);
    const big = spawnFailure({ code: 'E2BIG' }, 'docker', args)!;
    assert.equal(big.code, status.INVALID_ARGUMENT);
    assert.match(big.message, /number 3 \(the value of --env\), is 22 bytes/);
    assert.equal(spawnFailure({ code: 'EMFILE' }, 'docker', args)!.message, 'docker create could not be started (EMFILE)');
    assert.match(spawnFailure({ code: 'ENOENT' }, '/x/docker', args)!.message, /"\/x\/docker" was not found/);
    for (const error of [again, memory, big]) assert.deepEqual(error.args, args);
  });

  test('a process that ran (an exit code or a signal) or a failure that is not an errno is not a spawn failure', () => {
    assert.equal(spawnFailure({ code: 'EPIPE', exitCode: 1 }, 'docker', args), undefined);
    assert.equal(spawnFailure({ code: 'E2BIG', signal: 'SIGKILL' }, 'docker', args), undefined);
    assert.equal(spawnFailure({ exitCode: 1 }, 'docker', args), undefined);
    assert.equal(spawnFailure({ code: 'ERR_CHILD_PROCESS_STDIO_MAXBUFFER' }, 'docker', args), undefined);
  });
});

describe('DockerCli.runJson and runJsonLines', () => {
  test('runJson parses one document', async () => {
    const bin = script('json', 'echo \'{"Host":"unix:///var/run/docker.sock","N":[1,2]}\'');
    assert.deepEqual(await new DockerCli(bin).runJson(['context', 'inspect']), { Host: 'unix:///var/run/docker.sock', N: [1, 2] });
  });

  test('runJson on output that is not JSON is an internal DockerError', async () => {
    const error = await dockerError(new DockerCli('/bin/echo').runJson(['not', 'json']));
    assert.equal(error.kind, 'internal');
    assert.match(error.message, /not JSON/);
  });

  test('runJsonLines parses one document per line', async () => {
    const bin = script('json-lines', 'echo \'{"Id":"a"}\'; echo; echo \'{"Id":"b"}\'');
    assert.deepEqual(await new DockerCli(bin).runJsonLines(['image', 'inspect']), [{ Id: 'a' }, { Id: 'b' }]);
  });
});

describe('runDockerProcess', () => {
  test("a non-zero exit is the process's answer, with its output as bytes", async () => {
    const cli = new DockerCli('/bin/sh');
    const oks: boolean[] = [];
    cli.onCall((_args, _ms, ok) => oks.push(ok));
    const result = await runDockerProcess(cli, ['-c', 'printf out; printf err >&2; exit 3']);
    assert.equal(result.exitCode, 3);
    assert.equal(result.stdout.toString(), 'out');
    assert.equal(result.stderr.toString(), 'err');
    assert.equal(result.timedOut, false);
    assert.equal(result.outputTooLarge, false);
    assert.deepEqual(oks, [true]);
  });

  test('a missing binary is kind unavailable', async () => {
    const error = await dockerError(runDockerProcess(new DockerCli('/nonexistent/docker'), ['exec', 'x', 'true']));
    assert.equal(error.kind, 'unavailable');
  });
});

describe('runWithHostConfig', () => {
  test('an engine the relay cannot reach (ssh, TLS) is FAILED_PRECONDITION before any create is sent', async () => {
    const marker = join(dir, 'created-over-ssh');
    const ssh = script('docker-ssh', `case "$1" in context) echo '{"Endpoints":{"docker":{"Host":"ssh://user@host"}},"TLSMaterial":{}}';; *) touch ${marker};; esac`);
    await assert.rejects(new DockerCli(ssh).runWithHostConfig(['create', 'img'], { MaskedPaths: ['/bin/ls'] }), (error: { code: number; message: string }) => {
      assert.equal(error.code, status.FAILED_PRECONDITION);
      assert.match(error.message, /ssh:\/\/user@host/);
      return true;
    });
    assert.ok(!existsSync(marker), 'docker create never ran');

    assert.match((await new DockerCli(ssh).createRelayUnsupported()) ?? '', /ssh:\/\/user@host/, 'said at start too');
    const unix = script('docker-unix', `echo '{"Endpoints":{"docker":{"Host":"unix:///var/run/docker.sock"}}}'`);
    assert.equal(await new DockerCli(unix).createRelayUnsupported(), undefined);

    const tls = script('docker-tls', `case "$1" in context) echo '{"Endpoints":{"docker":{"Host":"tcp://10.0.0.1:2376"}},"TLSMaterial":{"docker":["ca.pem"]}}';; *) touch ${marker};; esac`);
    await assert.rejects(new DockerCli(tls).runWithHostConfig(['create', 'img'], { ReadonlyPaths: ['/tmp'] }), /tcp:\/\/10\.0\.0\.1:2376 with TLS/);
    assert.ok(!existsSync(marker));
  });

  test('the CLI runs with DOCKER_HOST at the relay; a call that sends no create request is an error', async () => {
    const engine = join(dir, 'engine.sock');
    const fake = script('docker-relay', `case "$1" in context) echo '{"Endpoints":{"docker":{"Host":"unix://${engine}"}}}';; *) echo "host=$DOCKER_HOST context=$DOCKER_CONTEXT";; esac`);
    await assert.rejects(new DockerCli(fake).runWithHostConfig(['create', 'img'], { MaskedPaths: ['/bin/ls'] }), (error: DockerError) => {
      assert.equal(error.kind, 'internal');
      assert.match(error.message, /sent no create request .* MaskedPaths were not applied/);
      return true;
    });
  });
});

describe('DockerSystem.info', () => {
  test('a 20.10 CLI without a daemon exits 0 with ServerErrors: that is UNAVAILABLE, as with newer CLIs', async () => {
    const old = script('docker-2010-down', `echo '{"ServerErrors":["Cannot connect to the Docker daemon at unix:///var/run/docker.sock. Is the docker daemon running?"],"ClientInfo":{"Debug":false}}'`);
    const error = await dockerError(new DockerSystem(new DockerCli(old)).info());
    assert.equal(error.kind, 'unavailable');
    assert.equal(error.code, status.UNAVAILABLE);
    assert.match(error.message, /Cannot connect to the Docker daemon at unix:\/\/\/var\/run\/docker.sock/);

    const up = script('docker-2010-up', `echo '{"ServerVersion":"20.10.24","ServerErrors":null}'`);
    assert.equal((await new DockerSystem(new DockerCli(up)).info()).ServerVersion, '20.10.24');
  });
});
