import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { ConfigFileError, emptyConfig, findConfig, parseGoBool, readConfigFile, setConfigValue, writeConfigFile } from './crictl-config.js';

describe('crictl\'s config file', () => {
  const dir = mkdtempSync(join(tmpdir(), 'mascri-crictl-config-'));
  after(() => rmSync(dir, { recursive: true, force: true }));
  const file = (name: string, text: string) => {
    const path = join(dir, name);
    writeFileSync(path, text);
    return path;
  };

  test('reads crictl\'s keys; an empty file is all defaults', () => {
    const path = file('ok.yaml', 'runtime-endpoint: unix:///run/x.sock\nimage-endpoint: "unix:///run/i.sock"\ntimeout: 10\ndebug: true\npull-image-on-create: true\ndisable-pull-on-run: false\nmax-retries: 5\n');
    assert.deepEqual(readConfigFile(path).config, {
      'runtime-endpoint': 'unix:///run/x.sock', 'image-endpoint': 'unix:///run/i.sock', timeout: 10, debug: true, 'pull-image-on-create': true, 'disable-pull-on-run': false, 'max-retries': 5,
    });
    assert.deepEqual(readConfigFile(file('empty.yaml', '')).config, emptyConfig());
    assert.deepEqual(readConfigFile(file('comment.yaml', '# nothing yet\n')).config, emptyConfig());
  });

  test('a malformed file names the file, the line and the key', () => {
    const badTimeout = file('bad-timeout.yaml', 'runtime-endpoint: unix:///x.sock\ntimeout: soon\n');
    assert.throws(() => readConfigFile(badTimeout), (error: Error) => error instanceof ConfigFileError && error.message === `${badTimeout}: line 2: parsing config option 'timeout': strconv.Atoi: parsing "soon": invalid syntax`);
    const unknown = file('unknown.yaml', 'debug: true\n\nruntime_endpoint: unix:///x.sock\n');
    assert.throws(() => readConfigFile(unknown), new RegExp(`^ConfigFileError: ${unknown}: line 3: Config option 'runtime_endpoint' is not valid`));
    const badBool = file('bad-bool.yaml', 'debug: yes\n');
    assert.throws(() => readConfigFile(badBool), /line 1: parsing config option 'debug': strconv.ParseBool: parsing "yes": invalid syntax/);
    const syntax = file('syntax.yaml', 'timeout: 2\ndebug: [\n');
    assert.throws(() => readConfigFile(syntax), new RegExp(`^ConfigFileError: ${syntax}: yaml: line \\d+:`));
  });

  test('--set values are checked as crictl checks them', () => {
    const config = emptyConfig();
    setConfigValue(config, 'timeout', '5');
    setConfigValue(config, 'debug', 'T');
    assert.deepEqual([config.timeout, config.debug], [5, true]);
    assert.throws(() => setConfigValue(config, 'timeout', '5s'), /^ConfigFileError: parse timeout value '5s': strconv.Atoi: parsing "5s": invalid syntax$/);
    assert.throws(() => setConfigValue(config, 'colour', 'red'), /no configuration option named colour/);
    assert.equal(parseGoBool('FALSE'), false);
  });

  test('writing keeps the file\'s comments and order, adds every key, a new one with mode 0600', () => {
    const path = file('keep.yaml', '# my comment\ndebug: true # keep\nruntime-endpoint: unix:///a.sock\n');
    const loaded = readConfigFile(path);
    loaded.config.debug = false;
    loaded.config['image-endpoint'] = 'unix:///b.sock';
    writeConfigFile(path, loaded.config, loaded.document);
    assert.equal(
      readFileSync(path, 'utf8'),
      '# my comment\ndebug: false # keep\nruntime-endpoint: unix:///a.sock\nimage-endpoint: unix:///b.sock\ntimeout: 0\npull-image-on-create: false\ndisable-pull-on-run: false\nmax-retries: 0\n',
    );
    const fresh = join(dir, 'sub', 'new.yaml');
    writeConfigFile(fresh, emptyConfig());
    assert.equal(statSync(fresh).mode & 0o777, 0o600);
    assert.equal(readFileSync(fresh, 'utf8'), 'runtime-endpoint: ""\nimage-endpoint: ""\ntimeout: 0\ndebug: false\npull-image-on-create: false\ndisable-pull-on-run: false\nmax-retries: 0\n');
  });

  test('findConfig: a missing file named by --config is crictl\'s error; the default path may be missing', () => {
    assert.throws(() => findConfig(join(dir, 'nosuch.yaml'), true), /^ConfigFileError: get server config: load config file: stat .*crictl\.yaml: no such file or directory$/);
    assert.equal(findConfig(join(dir, 'nosuch.yaml'), false), undefined);
    assert.throws(() => findConfig(file('bad.yaml', 'timeout: x\n'), true), /^ConfigFileError: get server config: load config file: .*bad\.yaml: line 1: parsing config option 'timeout'/);
  });
});
