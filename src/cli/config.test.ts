import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { after, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { lineColumn, loadContainerConfig, loadSandboxConfig, parseMessageJson } from './config.js';
import { UsageError } from './output.js';

const dir = mkdtempSync(join(tmpdir(), 'mascri-config-'));
after(() => rmSync(dir, { recursive: true, force: true }));

/** Writes a file into the test's temporary directory and returns its path. */
function file(name: string, content: unknown): string {
  const path = join(dir, name);
  writeFileSync(path, typeof content === 'string' ? content : JSON.stringify(content));
  return path;
}

/** The project root (holds package.json), from wherever the compiled test runs. */
function projectRoot(): string {
  let at = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(at, 'package.json'))) at = dirname(at);
  return at;
}

const sandbox = (value: unknown) => parseMessageJson('runtime.v1.PodSandboxConfig', value, 'pod.json');

/** Asserts a UsageError whose message matches. */
function assertUsage(fn: () => unknown, message: RegExp | string): void {
  assert.throws(fn, (error: unknown) => {
    assert.ok(error instanceof UsageError, `expected a UsageError, got ${String(error)}`);
    if (typeof message === 'string') assert.equal(error.message, message);
    else assert.match(error.message, message);
    return true;
  });
}

describe('parseMessageJson', () => {
  test('snake_case and camelCase names both become camelCase', () => {
    const snake = sandbox({ log_directory: '/logs', dns_config: { servers: ['1.1.1.1'] }, port_mappings: [{ container_port: 80, host_ip: '127.0.0.1' }] });
    const camel = sandbox({ logDirectory: '/logs', dnsConfig: { servers: ['1.1.1.1'] }, portMappings: [{ containerPort: 80, hostIp: '127.0.0.1' }] });
    const wanted = { logDirectory: '/logs', dnsConfig: { servers: ['1.1.1.1'] }, portMappings: [{ containerPort: 80, hostIp: '127.0.0.1' }] };
    assert.deepEqual(snake, wanted);
    assert.deepEqual(camel, wanted);
  });

  test('a field given in both spellings is an error', () => {
    assertUsage(() => sandbox({ log_directory: 'a', logDirectory: 'b' }), 'pod.json: field "logDirectory": given twice (also as "log_directory")');
  });

  test('enums by number or by name become names', () => {
    const byNumber = sandbox({ linux: { security_context: { namespace_options: { network: 2, pid: 1, ipc: 0 } } } });
    const byName = sandbox({ linux: { security_context: { namespace_options: { network: 'NODE', pid: 'CONTAINER', ipc: 'POD' } } } });
    const wanted = { linux: { securityContext: { namespaceOptions: { network: 'NODE', pid: 'CONTAINER', ipc: 'POD' } } } };
    assert.deepEqual(byNumber, wanted);
    assert.deepEqual(byName, wanted);
  });

  test('an unknown enum name or number names the field and the choices', () => {
    assertUsage(
      () => parseMessageJson('runtime.v1.PodSandboxConfig', { linux: { security_context: { namespace_options: { network: 'NODES' } } } }, 'sandbox-config.json'),
      'sandbox-config.json: field "linux.security_context.namespace_options.network": unknown enum value "NODES" (expected one of POD, CONTAINER, NODE, TARGET or 0-3)',
    );
    assertUsage(() => sandbox({ port_mappings: [{ protocol: 7 }] }), /field "port_mappings\[0\]\.protocol": unknown enum value 7 \(expected one of TCP, UDP, SCTP or 0-2\)/);
    assertUsage(() => sandbox({ port_mappings: [{ protocol: true }] }), /field "port_mappings\[0\]\.protocol": expected an enum value/);
  });

  test('64-bit integers are accepted as numbers or decimal strings and become strings', () => {
    const config = parseMessageJson(
      'runtime.v1.ContainerConfig',
      { linux: { resources: { memory_limit_in_bytes: 1048576, cpu_quota: '-1', memory_swap_limit_in_bytes: '9223372036854775807' }, security_context: { run_as_user: { value: 0 }, supplemental_groups: [1, '2'] } } },
      'c.json',
    );
    assert.deepEqual(config, {
      linux: {
        resources: { memoryLimitInBytes: '1048576', cpuQuota: '-1', memorySwapLimitInBytes: '9223372036854775807' },
        securityContext: { runAsUser: { value: '0' }, supplementalGroups: ['1', '2'] },
      },
    });
  });

  test('integers out of range, fractional or imprecise are errors naming the field', () => {
    assertUsage(() => sandbox({ metadata: { attempt: 1.5 } }), 'pod.json: field "metadata.attempt": expected an integer (uint32), got 1.5');
    assertUsage(() => sandbox({ metadata: { attempt: -1 } }), /field "metadata\.attempt": -1 is out of range for uint32/);
    assertUsage(() => sandbox({ port_mappings: [{ container_port: 2 ** 31 }] }), /field "port_mappings\[0\]\.container_port": 2147483648 is out of range for int32/);
    assertUsage(
      () => parseMessageJson('runtime.v1.ContainerConfig', { linux: { resources: { cpu_quota: '9223372036854775808' } } }, 'c.json'),
      /field "linux\.resources\.cpu_quota": "9223372036854775808" is out of range for int64/,
    );
    assertUsage(
      () => parseMessageJson('runtime.v1.ContainerConfig', { linux: { resources: { cpu_quota: 2 ** 60 } } }, 'c.json'),
      /cpu_quota": .* write it as a string/,
    );
    assertUsage(() => sandbox({ metadata: { attempt: 'one' } }), 'pod.json: field "metadata.attempt": expected an integer (uint32), got "one"');
  });

  test('maps are objects of strings', () => {
    assert.deepEqual(sandbox({ labels: { app: 'demo' }, annotations: { 'example.com/note': 'x' } }), { labels: { app: 'demo' }, annotations: { 'example.com/note': 'x' } });
    assertUsage(() => sandbox({ labels: { version: 1 } }), 'pod.json: field "labels[version]": expected a string, got 1');
    assertUsage(() => sandbox({ labels: ['app=demo'] }), 'pod.json: field "labels": expected an object (a map), got an array');
  });

  test('unknown fields are errors with their full path', () => {
    assertUsage(() => sandbox({ metadata: { nmae: 'x' } }), /^pod\.json: unknown field "metadata\.nmae"/);
    assertUsage(() => sandbox({ bogus: 1 }), /^pod\.json: unknown field "bogus"$/);
    assertUsage(() => sandbox({ port_mappings: [{}, { hostport: 1 }] }), /^pod\.json: unknown field "port_mappings\[1\]\.hostport" \(did you mean "host_port"\?\)$/);
  });

  test('wrong types are errors with their full path', () => {
    assertUsage(() => sandbox({ linux: { security_context: { privileged: 'true' } } }), 'pod.json: field "linux.security_context.privileged": expected true or false, got "true"');
    assertUsage(() => sandbox({ hostname: { name: 'x' } }), 'pod.json: field "hostname": expected a string, got an object');
    assertUsage(() => sandbox({ metadata: 'demo' }), 'pod.json: field "metadata": expected an object (PodSandboxMetadata), got "demo"');
    assertUsage(() => sandbox({ dns_config: { servers: '1.1.1.1' } }), 'pod.json: field "dns_config.servers": expected an array, got "1.1.1.1"');
    assertUsage(() => sandbox([]), 'pod.json: expected an object (PodSandboxConfig), got an array');
  });

  test('null means absent', () => {
    assert.deepEqual(sandbox({ hostname: null, linux: null, metadata: { name: 'x', uid: null } }), { metadata: { name: 'x' } });
  });

  test('bytes come from base64, except environment values which are plain strings (as crictl reads them)', () => {
    const config = parseMessageJson('runtime.v1.ContainerConfig', { envs: [{ key: 'GREETING', value: 'hello world' }] }, 'c.json');
    const envs = config.envs as Array<{ key: string; value: Buffer }>;
    assert.equal(envs[0]!.key, 'GREETING');
    assert.ok(Buffer.isBuffer(envs[0]!.value));
    assert.equal(envs[0]!.value.toString('utf8'), 'hello world');
  });
});

describe('loadSandboxConfig', () => {
  test('reads a crictl-style file', () => {
    const path = file('pod.json', { metadata: { name: 'p', namespace: 'default', uid: 'u', attempt: 1 }, log_directory: '/tmp/p', linux: {} });
    assert.deepEqual(loadSandboxConfig(path), { metadata: { name: 'p', namespace: 'default', uid: 'u', attempt: 1 }, logDirectory: '/tmp/p', linux: {} });
  });

  test('a pod without a UID gets a fresh one, as crictl gives it', () => {
    const path = file('no-uid.json', { metadata: { name: 'p' } });
    const first = loadSandboxConfig(path).metadata?.uid;
    const second = loadSandboxConfig(path).metadata?.uid;
    assert.match(first ?? '', /^[0-9a-f-]{36}$/);
    assert.notEqual(first, second);
  });

  test('metadata and its name are required', () => {
    const noMetadata = file('no-metadata.json', { hostname: 'x' });
    assertUsage(() => loadSandboxConfig(noMetadata), `${noMetadata}: field "metadata" is required`);
    const noName = file('no-name.json', { metadata: { namespace: 'default' } });
    assertUsage(() => loadSandboxConfig(noName), new RegExp(`^${escape(noName)}: field "metadata\\.name" is required`));
  });

  test('a missing file is named', () => {
    const path = join(dir, 'absent.json');
    assertUsage(() => loadSandboxConfig(path), `${path}: config file not found`);
  });

  test('invalid JSON names the file and the position', () => {
    const path = file('broken.json', '{\n  "metadata": {\n    "name": "x",\n  }\n}\n');
    assertUsage(() => loadSandboxConfig(path), new RegExp(`^${escape(path)}: invalid JSON at line 4, column 3: `));
  });

  test('YAML files are read by extension', () => {
    const yaml = 'metadata:\n  name: y\n  namespace: default\n  uid: u1\n  attempt: 2\nlog_directory: /tmp/y\nlinux:\n  security_context:\n    namespace_options:\n      network: NODE\n';
    for (const name of ['pod.yaml', 'pod.yml']) {
      assert.deepEqual(loadSandboxConfig(file(name, yaml)), {
        metadata: { name: 'y', namespace: 'default', uid: 'u1', attempt: 2 },
        logDirectory: '/tmp/y',
        linux: { securityContext: { namespaceOptions: { network: 'NODE' } } },
      });
    }
    const broken = file('broken.yaml', 'metadata:\n  name: [x\n');
    assertUsage(() => loadSandboxConfig(broken), new RegExp(`^${escape(broken)}: invalid YAML at line \\d+, column \\d+: `));
  });

  test('the fixtures parse', () => {
    const fixtures = join(projectRoot(), 'fixtures');
    const pod = loadSandboxConfig(join(fixtures, 'sandbox-config.json'));
    assert.deepEqual(pod.metadata, { name: 'demo-pod', namespace: 'default', uid: 'demo-pod-uid-1', attempt: 1 });
    assert.deepEqual(pod.labels, { app: 'demo' });
    assert.deepEqual(pod.linux?.securityContext?.namespaceOptions, { network: 'POD', pid: 'CONTAINER', ipc: 'POD' });

    const hostnet = loadSandboxConfig(join(fixtures, 'sandbox-config-hostnet.json'));
    assert.equal(hostnet.linux?.securityContext?.namespaceOptions?.network, 'NODE');
    assert.notEqual(hostnet.metadata?.name, pod.metadata?.name);
    assert.notEqual(hostnet.metadata?.uid, pod.metadata?.uid);

    const ports = loadSandboxConfig(join(fixtures, 'sandbox-config-ports.json'));
    assert.deepEqual(ports.portMappings, [{ protocol: 'TCP', containerPort: 80, hostPort: 18081, hostIp: '127.0.0.1' }]);
    assert.notEqual(ports.metadata?.name, pod.metadata?.name);
  });
});

describe('loadContainerConfig', () => {
  test('reads a container config; metadata.name and image.image are required', () => {
    const good = file('ctr.json', { metadata: { name: 'c' }, image: { image: 'localhost:5000/busybox:latest' }, command: ['sleep', '60'], log_path: 'c.log' });
    assert.deepEqual(loadContainerConfig(good), { metadata: { name: 'c' }, image: { image: 'localhost:5000/busybox:latest' }, command: ['sleep', '60'], logPath: 'c.log' });
    const noImage = file('ctr-no-image.json', { metadata: { name: 'c' } });
    assertUsage(() => loadContainerConfig(noImage), `${noImage}: field "image" is required`);
    const emptyImage = file('ctr-empty-image.json', { metadata: { name: 'c' }, image: { image: '' } });
    assertUsage(() => loadContainerConfig(emptyImage), new RegExp(`^${escape(emptyImage)}: field "image\\.image" is required`));
  });
});

test('line and column of an offset count from 1', () => {
  assert.equal(lineColumn('ab\ncd', 0), 'line 1, column 1');
  assert.equal(lineColumn('ab\ncd', 4), 'line 2, column 2');
});

function escape(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
