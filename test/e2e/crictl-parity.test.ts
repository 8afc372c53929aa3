/**
 * mascri's client against the pinned crictl (scripts/crictl-build.sh, built when absent): both run
 * the same commands against the same `mascri serve`. JSON and YAML are compared as data (times
 * and samples dropped), tables by header and rows (ages and samples dropped), error lines by
 * crictl's message, exit codes as they are. Where mascri differs on purpose, KNOWN says how and why.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { parse as parseYaml } from 'yaml';
import { crictl, pinnedCrictl } from '../crictl.js';
import { BUSYBOX, MascriServer, PAUSE, mascri, uniqueSuffix, waitFor, type CliResult } from '../helpers.js';

/** Where mascri differs from crictl on purpose; the tests below check these as stated. */
const KNOWN = {
  exec: 'a command that exits non-zero: mascri exits with its exit code (and prints its output); crictl exits 1 with an error line',
  config: 'a malformed config file: mascri\'s message names the file and the line before crictl\'s words',
  stats: 'a stats or statsp table: crictl clears the screen before it even without --watch, mascri only with --watch (tables are compared without it)',
  klog: 'crictl also prints the CRI client library\'s klog line (E1202 ... remote_runtime.go:NNN]) before its own error line; mascri prints only the error line',
};

/** Keys whose values change from one call to the next: samples, clocks, the daemon's live counters, mascri's event-loop delay since the last verbose Status. */
const VOLATILE_KEYS = new Set(['timestamp', 'SystemTime', 'NFd', 'NGoroutines', 'NEventsListener', 'eventLoop']);
/** Rates the runtime has only once it holds an earlier sample of the same container: present in one call, absent in the next. */
const RATE_KEYS = new Set(['usageNanoCores']);

/** A copy with volatile keys and numeric samples (`value` fields) replaced by a marker. */
function dropSamples(value: unknown, key = ''): unknown {
  if (VOLATILE_KEYS.has(key)) return '<dropped>';
  if (key === 'value' && (typeof value === 'number' || (typeof value === 'string' && /^-?\d+(\.\d+)?$/.test(value)))) return '<sample>';
  if (Array.isArray(value)) return value.map((item) => dropSamples(item));
  if (value !== null && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) if (!RATE_KEYS.has(k)) out[k] = dropSamples(v, k);
    return out;
  }
  return value;
}

/** A table's lines as cells (crictl's tabwriter pads with at least 3 spaces), ages made equal, the clear-screen code dropped (KNOWN.stats). */
function tableCells(text: string): string[][] {
  return sameAges(text)
    .split('\x1b[2J\x1b[H')
    .join('')
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map((line) => line.trimEnd().split(/\s{2,}/));
}

/** Ages ("34 seconds ago") made equal: the two tools run a moment apart. */
function sameAges(text: string): string {
  return text.replace(/\b(\d+ \w+|About an? \w+|Less than a second) ago\b/g, '<age> ago');
}

/** crictl's error messages in stderr (logrus lines), without their time; klog lines left out. */
function errorMessages(stderr: string): string[] {
  const out: string[] = [];
  for (const line of stderr.split('\n')) {
    const match = /level=(?:error|fatal) msg=(.*)$/.exec(line);
    if (match) out.push(match[1]!.startsWith('"') ? (JSON.parse(match[1]!) as string) : match[1]!);
  }
  return out;
}

describe('mascri\'s client and crictl, same commands, same server', () => {
  let binary: string;
  let server: MascriServer;
  let dir: string;
  let env: Record<string, string>;
  let podId: string;
  let stoppedPodId: string;
  let talker: string;
  let quitter: string;
  const suffix = uniqueSuffix();

  const both = async (args: string[], options: { global?: string[]; env?: Record<string, string> } = {}): Promise<{ c: CliResult; m: CliResult }> => {
    const global = options.global ?? ['-r', server.endpoint];
    const runEnv = { ...env, ...options.env };
    const c = await crictl(binary, [...global, ...args], { env: runEnv });
    const m = await mascri([...global, ...args], { env: runEnv });
    return { c, m };
  };
  const label = (args: string[]) => `mascri/crictl ${args.join(' ')}`;

  /** Same exit code, and the same data on stdout (JSON, or YAML with `yaml`). */
  const sameData = async (args: string[], yaml = false) => {
    const { c, m } = await both(args);
    assert.equal(m.code, c.code, `${label(args)}: exit codes; crictl said ${c.stderr}; mascri said ${m.stderr}`);
    assert.equal(c.code, 0, `${label(args)}: ${c.stderr}`);
    const read = (text: string) => dropSamples(yaml ? parseYaml(text) : JSON.parse(text));
    assert.deepEqual(read(m.stdout), read(c.stdout), label(args));
  };
  /** Same exit code, the same table header and rows. */
  const sameTable = async (args: string[], columns?: number) => {
    const { c, m } = await both(args);
    assert.equal(m.code, c.code, `${label(args)}: exit codes; crictl said ${c.stderr}; mascri said ${m.stderr}`);
    const cut = (rows: string[][]) => (columns ? rows.map((row) => row.slice(0, columns)) : rows);
    assert.deepEqual(cut(tableCells(m.stdout)), cut(tableCells(c.stdout)), label(args));
  };
  /** Same exit code and the same text on stdout and stderr. */
  const sameText = async (args: string[]) => {
    const { c, m } = await both(args);
    assert.equal(m.code, c.code, `${label(args)}: exit codes; crictl said ${c.stderr}; mascri said ${m.stderr}`);
    assert.equal(sameAges(m.stdout), sameAges(c.stdout), `${label(args)}: stdout`);
    assert.equal(m.stderr, c.stderr, `${label(args)}: stderr`);
  };
  /** The same failure: exit code and crictl's error message. */
  const sameError = async (args: string[], options: { global?: string[]; env?: Record<string, string> } = {}) => {
    const { c, m } = await both(args, options);
    assert.notEqual(c.code, 0, `${label(args)}: crictl fails`);
    assert.equal(m.code, c.code, `${label(args)}: exit codes`);
    assert.deepEqual(errorMessages(m.stderr), errorMessages(c.stderr), `${label(args)}: error lines (${KNOWN.klog})`);
  };

  before(async () => {
    binary = await pinnedCrictl();
    server = await MascriServer.start();
    dir = mkdtempSync(join(tmpdir(), 'mascri-crictl-parity-'));
    // Each tool reads this (empty) config, never the machine's /etc/crictl.yaml.
    writeFileSync(join(dir, 'crictl.yaml'), '');
    env = { CRI_CONFIG_FILE: join(dir, 'crictl.yaml') };
    assert.equal((await server.cli(['pull', BUSYBOX])).code, 0);
    assert.equal((await server.cli(['pull', PAUSE])).code, 0);
    const pod = (name: string, uid: string) => ({
      metadata: { name, namespace: `parity-${suffix}`, uid, attempt: 0 },
      log_directory: join(dir, `logs-${name}`),
      labels: { suite: 'parity', which: name },
      annotations: { 'example.com/note': 'parity' },
      linux: { cgroup_parent: '' },
    });
    const container = (name: string, podName: string, command: string) => ({
      metadata: { name },
      image: { image: BUSYBOX },
      command: ['sh', '-c', command],
      log_path: `${name}.log`,
      labels: { 'io.kubernetes.pod.name': podName, 'io.kubernetes.pod.namespace': `parity-${suffix}`, role: name },
      linux: {},
    });
    const write = (name: string, value: unknown) => {
      writeFileSync(join(dir, name), JSON.stringify(value));
      return join(dir, name);
    };
    const podFile = write('pod.json', pod(`parity-${suffix}`, `uid-a-${suffix}`));
    podId = (await server.cli(['runp', podFile])).stdout.trim();
    talker = (await server.cli(['create', podId, write('talker.json', container('talker', `parity-${suffix}`, 'echo hello; echo oops >&2; exec sleep 100000')), podFile])).stdout.trim();
    quitter = (await server.cli(['create', podId, write('quitter.json', container('quitter', `parity-${suffix}`, 'echo bye; exit 3')), podFile])).stdout.trim();
    assert.equal((await server.cli(['start', talker, quitter])).code, 0);
    const stoppedFile = write('stopped-pod.json', pod(`parity-stopped-${suffix}`, `uid-b-${suffix}`));
    stoppedPodId = (await server.cli(['runp', stoppedFile])).stdout.trim();
    assert.equal((await server.cli(['stopp', stoppedPodId])).code, 0);
    await waitFor('the quitter to exit and the talker to log', async () => {
      const status = await server.client.callRuntime('ContainerStatus', { containerId: quitter });
      const logs = await server.cli(['logs', talker]);
      return status.status?.state === 'CONTAINER_EXITED' && logs.stdout.includes('hello') && logs.stderr.includes('oops') ? true : undefined;
    });
  });

  after(async () => {
    if (server) {
      for (const id of [podId, stoppedPodId]) if (id) await server.cli(['rmp', '-f', id]);
      await server.stop();
    }
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  test('version, info, runtime-config, imagefsinfo, metricdescs', async () => {
    await sameText(['version']);
    await sameData(['info']);
    await sameData(['info', '-q']);
    await sameData(['info', '-o', 'yaml'], true);
    await sameText(['info', '-o', 'go-template', '--template', '{{range .status.conditions}}{{.type}}={{.status}} {{end}}']);
    await sameText(['runtime-config']);
    await sameData(['imagefsinfo']);
    await sameData(['imagefsinfo', '-o', 'yaml'], true);
    const table = await both(['imagefsinfo', '-o', 'table']);
    const labels = (text: string) => text.split('\n').map((line) => line.replace(/:.*$/, ''));
    assert.deepEqual(labels(table.m.stdout), labels(table.c.stdout), 'imagefsinfo -o table');
    await sameData(['metricdescs']);
    await sameData(['metricdescs', '-o', 'yaml'], true);
    await sameData(['runp', 'jsonschema']);
    await sameData(['pull', 'js']);
    await sameData(['create', 'jsonschema', '--container']);
    await sameData(['run', 'js', '-p']);
  });

  test('update-runtime-config and checkpoint: the runtime\'s answers, as crictl prints them', async () => {
    const updated = await both(['update-runtime-config', '-p', '10.88.0.0/16']);
    assert.equal(updated.m.code, updated.c.code, `${updated.c.stderr} / ${updated.m.stderr}`);
    const infoLines = (text: string) => text.split('\n').filter((line) => / level=(info|error) /.test(line)).map((line) => line.replace(/^time="[^"]*" /, ''));
    assert.deepEqual(infoLines(updated.m.stderr), infoLines(updated.c.stderr));
    await sameError(['update-runtime-config', '-p', 'not-a-cidr']);
    await sameError(['checkpoint', '-e', join(dir, 'checkpoint.tar'), talker]);
    await sameError(['checkpoint', talker]);
  });

  test('images in all forms, and inspecti', async () => {
    for (const args of [[], ['-q'], ['--digests'], ['--no-trunc'], ['--pinned'], [BUSYBOX], ['localhost:5000/busybox'], ['-f', 'dangling=false'], ['-f', 'reference=busybox'], ['-f', `before=${PAUSE}`], ['-f', `since=${BUSYBOX}`], ['-f', 'dangling=false', '-f', 'reference=pause']]) {
      await sameTable(['images', ...args]);
    }
    await sameText(['images', '-v']);
    await sameText(['img', '-q']);
    await sameData(['images', '-o', 'json']);
    await sameData(['image', '-o', 'yaml'], true);
    await sameData(['images', '-o', 'json', '-f', 'reference=busybox']);
    await sameData(['inspecti', BUSYBOX]);
    await sameData(['inspecti', '-q', BUSYBOX, PAUSE]);
    await sameData(['inspecti', '-o', 'yaml', BUSYBOX], true);
    await sameData(['inspecti', '--name', PAUSE]);
    // Nothing selected: both log crictl's error line, show their help and exit 0.
    const none = await both(['inspecti', '--name', 'localhost:5000/no-such-image:1']);
    assert.deepEqual([none.m.code, errorMessages(none.m.stderr)], [none.c.code, errorMessages(none.c.stderr)]);
    assert.deepEqual(errorMessages(none.c.stderr), ['No IDs provided or nothing found per filter']);
    await sameText(['inspecti', '-o', 'table', '-q', BUSYBOX]);
    await sameText(['inspecti', '-o', 'go-template', '--template', '{{.status.id}} {{index .status.repoTags 0}}', BUSYBOX]);
    await sameError(['inspecti', 'localhost:5000/no-such-image:1']);
    await sameError(['images', '-f', 'colour=red']);
  });

  test('pods with every filter, and inspectp', async () => {
    const filters = [[], ['-q'], ['--no-trunc'], ['--id', podId], ['--id', podId.slice(0, 8)], ['--name', `parity-${suffix}`], ['--name', 'stopped'], ['--namespace', `parity-${suffix}`], ['-s', 'ready'], ['--state', 'NotReady'], ['--label', 'which=' + `parity-${suffix}`], ['--label', 'suite=parity'], ['-l'], ['--last', '1'], ['-n', '2']];
    for (const args of filters) await sameTable(['pods', ...args]);
    await sameText(['pods', '-v', '--namespace', `parity-${suffix}`]);
    await sameData(['pods', '-o', 'json', '--namespace', `parity-${suffix}`]);
    await sameData(['pods', '-o', 'yaml', '--label', 'suite=parity'], true);
    await sameError(['pods', '--state', 'sleepy']);
    await sameData(['inspectp', podId]);
    await sameData(['inspectp', stoppedPodId, podId]);
    await sameData(['inspectp', '-q', podId]);
    await sameData(['inspectp', '-o', 'yaml', podId], true);
    await sameData(['inspectp', '--name', 'stopped', '--namespace', `parity-${suffix}`]);
    await sameText(['inspectp', '-o', 'go-template', '--template', '{{.status.state}} {{.status.metadata.name}}', podId]);
    const table = await both(['inspectp', '-o', 'table', '-q', podId]);
    assert.deepEqual(tableCells(table.m.stdout), tableCells(table.c.stdout), 'inspectp -o table');
    await sameError(['inspectp', 'no-such-pod']);
  });

  test('ps with every filter, and inspect', async () => {
    const filters = [[], ['-a'], ['-q'], ['-a', '--no-trunc'], ['--id', talker], ['-a', '-p', podId], ['-a', '--name', 'quit'], ['-a', '--namespace', `parity-${suffix}`], ['-s', 'exited'], ['--state', 'Running'], ['-a', '--label', 'role=talker'], ['-a', '--image', BUSYBOX], ['-l'], ['-n', '2'], ['-a', '-r']];
    for (const args of filters) await sameTable(['ps', ...args]);
    await sameText(['ps', '-a', '-v', '-p', podId]);
    await sameData(['ps', '-a', '-o', 'json', '-p', podId]);
    await sameData(['ps', '-o', 'yaml', '-p', podId], true);
    await sameError(['ps', '--state', 'sleepy']);
    for (const id of [talker, quitter]) {
      await sameData(['inspect', id]);
      await sameData(['inspect', '-q', id]);
      await sameData(['inspect', '-o', 'yaml', id], true);
    }
    await sameData(['inspect', talker, quitter]);
    await sameData(['inspect', '-a', '--name', 'quitter', '-p', podId]);
    await sameText(['inspect', '-o', 'go-template', '--template', '{{.status.state}} {{.status.exitCode}} {{.info.pid}}', quitter]);
    const table = await both(['inspect', '-o', 'table', '-q', quitter]);
    assert.deepEqual(tableCells(table.m.stdout), tableCells(table.c.stdout), 'inspect -o table');
    await sameError(['inspect', 'no-such-container']);
  });

  test('stats, statsp and metricsp', async () => {
    await sameData(['stats', '-o', 'json', '--id', talker]);
    await sameData(['stats', '-a', '-o', 'yaml', '-p', podId], true);
    await sameData(['stats', '-o', 'json', '--label', 'role=talker']);
    await sameTable(['stats', '-s', '1', '--id', talker], 2);
    await sameTable(['stats', '-a', '-s', '1', '-p', podId], 2);
    await sameData(['statsp', '-o', 'json', '--id', podId]);
    await sameData(['statsp', '-o', 'yaml', '--label', 'suite=parity'], true);
    await sameTable(['statsp', '-s', '1', '--id', podId], 2);
    await sameData(['metricsp']);
    await sameData(['metricsp', '-o', 'yaml'], true);
  });

  test('exec and logs', async () => {
    await sameText(['exec', talker, 'echo', 'streamed']);
    await sameText(['exec', '-s', talker, 'sh', '-c', 'echo out; echo err >&2']);
    await sameText(['exec', '--name', 'talker', '-p', podId, 'echo', 'by filter']);
    await sameText(['exec', '-q', '--name', 'talker', '-p', podId, '-s', 'hostname']);
    // KNOWN.exec: both fail, mascri with the command's own exit code.
    const failing = await both(['exec', '-s', talker, 'sh', '-c', 'exit 3']);
    assert.equal(failing.c.code, 1, failing.c.stderr);
    assert.equal(failing.m.code, 3, `${KNOWN.exec}: ${failing.m.stderr}`);
    await sameError(['exec', '-s', 'no-such-container', 'true']);
    await sameText(['logs', talker]);
    await sameText(['logs', quitter]);
    await sameText(['logs', '--tail', '1', talker]);
    await sameText(['logs', '-t', talker]);
    await sameText(['logs', '--stream', 'stderr', talker]);
    await sameText(['logs', '--limit-bytes', '3', quitter]);
    await sameError(['logs', 'no-such-container']);
  });

  test('config: the same file written, the same answers; the file sets the endpoint', async () => {
    const files = { c: join(dir, 'c.yaml'), m: join(dir, 'm.yaml') };
    const steps = [['config', '--set', 'timeout=5,debug=true'], ['config', '--set', 'image-endpoint=unix:///x.sock', '--set', 'pull-image-on-create=true'], ['config', 'runtime-endpoint', server.endpoint], ['config', '--get', 'timeout'], ['config', '--get', 'runtime-endpoint'], ['config', '--list']];
    for (const args of steps) {
      const c = await crictl(binary, ['-c', files.c, ...args], { env });
      const m = await mascri(['-c', files.m, ...args], { env });
      assert.equal(m.code, c.code, `config ${args.join(' ')}: ${c.stderr} / ${m.stderr}`);
      assert.equal(m.stdout, c.stdout, `config ${args.join(' ')}: stdout`);
      assert.deepEqual(errorMessages(m.stderr), errorMessages(c.stderr));
    }
    assert.equal(readFileSync(files.m, 'utf8'), readFileSync(files.c, 'utf8'), 'the config files written');
    for (const args of [['config', '--get', 'colour'], ['config', '--set', 'timeout'], ['config', '--set', 'debug=maybe'], ['config', 'timeout', 'soon']]) {
      const c = await crictl(binary, ['-c', files.c, ...args], { env });
      const m = await mascri(['-c', files.m, ...args], { env });
      assert.notEqual(c.code, 0);
      assert.equal(m.code, c.code, `config ${args.join(' ')}`);
      assert.deepEqual(errorMessages(m.stderr), errorMessages(c.stderr), `config ${args.join(' ')}`);
    }
    // A crictl user's config file is all mascri needs: no -r, no environment (the image endpoint too).
    writeFileSync(join(dir, 'user.yaml'), `runtime-endpoint: ${server.endpoint}\nimage-endpoint: ${server.endpoint}\ntimeout: 10\n`);
    const userEnv = { CRI_CONFIG_FILE: join(dir, 'user.yaml') };
    for (const args of [['ps', '-a', '-p', podId], ['images', '-q']]) {
      const { c, m } = await both(args, { global: [], env: userEnv });
      assert.equal(c.code, 0, c.stderr);
      assert.equal(m.code, 0, m.stderr);
      assert.deepEqual(tableCells(m.stdout), tableCells(c.stdout), args.join(' '));
    }
    // The flag beats the environment, which beats the file.
    const wrong = { CONTAINER_RUNTIME_ENDPOINT: 'unix:///nonexistent/by-env.sock', ...userEnv };
    const byEnv = await both(['version'], { global: [], env: wrong });
    assert.equal(byEnv.m.code, byEnv.c.code);
    assert.deepEqual(errorMessages(byEnv.m.stderr), errorMessages(byEnv.c.stderr));
    const byFlag = await both(['version'], { global: ['-r', server.endpoint], env: wrong });
    assert.equal(byFlag.m.stdout, byFlag.c.stdout);
  });

  test('the same failures: an unreachable endpoint, a bad config file', async () => {
    const nothing = `unix://${join(dir, 'nothing-here.sock')}`;
    await sameError(['version'], { global: ['-r', nothing] });
    await sameError(['ps'], { global: ['-r', nothing] });
    await sameError(['images'], { global: ['-r', nothing] });
    await sameError(['images'], { global: ['-r', server.endpoint, '-i', nothing] });
    // A config file named by -c that is not there: crictl then looks beside its own binary, mascri beside its own.
    const missing = await both(['version'], { global: ['-c', join(dir, 'no-such-config.yaml'), '-r', server.endpoint] });
    assert.equal(missing.c.code, 1, missing.c.stderr);
    assert.equal(missing.m.code, missing.c.code);
    const besideBinary = (text: string) => errorMessages(text).map((message) => message.replace(/stat \S+\/crictl\.yaml/, 'stat <program dir>/crictl.yaml'));
    assert.deepEqual(besideBinary(missing.m.stderr), besideBinary(missing.c.stderr));
    for (const [name, text] of [['bad-key.yaml', 'runtime_endpoint: unix:///x.sock\n'], ['bad-timeout.yaml', 'debug: false\ntimeout: soon\n']]) {
      writeFileSync(join(dir, name!), text!);
      const { c, m } = await both(['version'], { global: ['-c', join(dir, name!)] });
      assert.equal(m.code, c.code, name);
      // KNOWN.config: crictl's words, with the file and the line added.
      const [crictlMessage] = errorMessages(c.stderr);
      const [mascriMessage] = errorMessages(m.stderr);
      const prefix = 'get server config: load config file: ';
      assert.ok(crictlMessage!.startsWith(prefix), crictlMessage);
      assert.ok(mascriMessage!.startsWith(`${prefix}${join(dir, name!)}: line `), mascriMessage);
      assert.ok(mascriMessage!.includes(crictlMessage!.slice(prefix.length)), `${mascriMessage} has crictl's words (${crictlMessage})`);
    }
  });
});
