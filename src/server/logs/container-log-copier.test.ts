import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { appendFile, copyFile, mkdir, mkdtemp, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, test, type TestContext } from 'node:test';
import { GrpcCode } from '../../common/errors.js';
import { Logger } from '../../common/logger.js';
import { ContainerLogCopier, POLL_INTERVAL_MS, parseSavedPosition } from './container-log-copier.js';

const ID = 'c0ffee1234';
let dir: string;
let dockerLog: string;
let criLog: string;
let stateDir: string;
let logLines: string[];
let copiers: ContainerLogCopier[];

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'mascri-logs-'));
  dockerLog = join(dir, 'docker', `${ID}-json.log`);
  criLog = join(dir, 'pods', 'web', 'app', '0.log');
  stateDir = join(dir, 'state');
  await mkdir(join(dir, 'docker'));
  logLines = [];
  copiers = [];
});

afterEach(async () => {
  for (const copier of copiers) await copier.close();
  await rm(dir, { recursive: true, force: true });
});

function newCopier(): ContainerLogCopier {
  const copier = new ContainerLogCopier({ stateDir, log: new Logger('debug', (line) => logLines.push(line)) });
  copiers.push(copier);
  return copier;
}

let clock = 0;
/** A Docker json-file line with a distinct, increasing time. */
function dockerLine(log: string, stream: 'stdout' | 'stderr' = 'stdout'): string {
  clock++;
  const time = `2026-11-23T10:00:${String(Math.floor(clock / 10) % 60).padStart(2, '0')}.${clock % 10}1Z`;
  return JSON.stringify({ log, stream, time }) + '\n';
}

async function writeDocker(...lines: string[]): Promise<void> {
  await appendFile(dockerLog, lines.join(''));
}

/** The content of each CRI entry in a file ('' when the file does not exist). */
async function criContents(path = criLog): Promise<string[]> {
  const text = existsSync(path) ? await readFile(path, 'utf8') : '';
  return text
    .split('\n')
    .filter((line) => line !== '')
    .map((line) => {
      const match = /^\S+ (stdout|stderr) ([FP]) (.*)$/.exec(line);
      assert.ok(match, `not a CRI log line: ${JSON.stringify(line)}`);
      return `${match[1]} ${match[2]} ${match[3]}`;
    });
}

/** Polls `check` until it holds (a copy by the watch or the poll, which the test does not await); generous for a loaded machine. */
async function eventually(what: string, check: () => Promise<boolean>, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs / 1000} s waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/** The copier's poll under the test's control: `poll()` runs it once, as if POLL_INTERVAL_MS had passed (enable before the first follow). */
function fakePoll(t: TestContext): () => void {
  t.mock.timers.enable({ apis: ['setInterval'] });
  return () => t.mock.timers.tick(POLL_INTERVAL_MS);
}

test('copies a Docker log into a CRI file, whole lines only, and keeps following it', async () => {
  await writeDocker(dockerLine('one\n'), dockerLine('err\n', 'stderr'), dockerLine('split-'), dockerLine('line\n'));
  const copier = newCopier();
  await copier.follow(ID, dockerLog, criLog);
  assert.ok(existsSync(criLog), 'the CRI file exists when follow returns');
  await copier.flush(ID);
  assert.deepEqual(await criContents(), ['stdout F one', 'stderr F err', 'stdout P split-', 'stdout F line']);

  // A JSON line written in two halves is copied once it is whole.
  const half = dockerLine('two halves\n');
  await writeDocker(dockerLine('three\n'), half.slice(0, 10));
  await copier.flush(ID);
  assert.deepEqual((await criContents()).slice(4), ['stdout F three']);
  await writeDocker(half.slice(10));
  await copier.flush(ID);
  assert.deepEqual((await criContents()).slice(4), ['stdout F three', 'stdout F two halves']);

  // Without flush: the watch (or the poll) picks new lines up.
  await writeDocker(dockerLine('by itself\n'));
  await eventually('the new line to be copied', async () => (await criContents()).length === 7);
  assert.equal((await criContents())[6], 'stdout F by itself');

  const criStat = await stat(criLog);
  assert.equal(criStat.mode & 0o777, 0o640);
  assert.equal((await stat(join(dir, 'pods', 'web', 'app'))).mode & 0o777, 0o755);
  const saved = parseSavedPosition(await readFile(join(stateDir, `${ID}.json`), 'utf8'));
  assert.equal(saved?.offset, (await stat(dockerLog)).size);
  assert.equal(saved?.criLogPath, criLog);
});

test('follow is idempotent per container', async () => {
  await writeDocker(dockerLine('once\n'));
  const copier = newCopier();
  await Promise.all([copier.follow(ID, dockerLog, criLog), copier.follow(ID, dockerLog, criLog)]);
  await copier.follow(ID, dockerLog, criLog);
  await copier.flush(ID);
  assert.deepEqual(await criContents(), ['stdout F once']);
});

test('a restart resumes where it stopped: lines written while down are copied, none twice', async () => {
  const first = newCopier();
  await writeDocker(dockerLine('before 1\n'), dockerLine('before 2\n'));
  await first.follow(ID, dockerLog, criLog);
  await first.flush(ID);
  await first.close();

  const half = dockerLine('straddling\n');
  await writeDocker(dockerLine('while down 1\n'), dockerLine('while down 2\n', 'stderr'), half.slice(0, 7));

  const second = newCopier();
  await second.follow(ID, dockerLog, criLog);
  await second.flush(ID);
  await writeDocker(half.slice(7), dockerLine('after\n'));
  await second.flush(ID);
  assert.deepEqual(await criContents(), ['stdout F before 1', 'stdout F before 2', 'stdout F while down 1', 'stderr F while down 2', 'stdout F straddling', 'stdout F after']);
});

test('lines written to the CRI file but not saved before a crash are not repeated', async () => {
  const first = newCopier();
  await writeDocker(dockerLine('saved\n'));
  await first.follow(ID, dockerLog, criLog);
  await first.flush(ID);
  const statePath = join(stateDir, `${ID}.json`);
  await copyFile(statePath, join(dir, 'old-state'));
  await writeDocker(dockerLine('copied, position lost\n'));
  await first.flush(ID);
  await first.close();
  await rename(join(dir, 'old-state'), statePath); // as if the process died between the write and the save

  await writeDocker(dockerLine('later\n'));
  const second = newCopier();
  await second.follow(ID, dockerLog, criLog);
  await second.flush(ID);
  assert.deepEqual(await criContents(), ['stdout F saved', 'stdout F copied, position lost', 'stdout F later']);
  assert.ok(logLines.some((line) => line.includes('cutting off')), 'the unsaved copy was cut off and copied again');
});

test('forget stops following after a final copy; follow resumes it without repeating lines', async (t) => {
  const poll = fakePoll(t);
  const copier = newCopier();
  // Another container, still followed: the poll keeps running, and its copy shows the poll has run.
  const witness = 'feedface';
  const witnessDocker = join(dir, 'docker', `${witness}-json.log`);
  const witnessCri = join(dir, 'pods', 'web', 'witness', '0.log');
  await copier.follow(witness, witnessDocker, witnessCri);
  await writeDocker(dockerLine('a\n'));
  await copier.follow(ID, dockerLog, criLog);
  await writeDocker(dockerLine('b\n'));
  await copier.forget(ID);
  assert.deepEqual(await criContents(), ['stdout F a', 'stdout F b']);
  await writeDocker(dockerLine('c\n'));
  await appendFile(witnessDocker, dockerLine('w\n'));
  poll();
  await copier.flush(witness);
  assert.deepEqual(await criContents(witnessCri), ['stdout F w'], 'the poll ran');
  assert.deepEqual(await criContents(), ['stdout F a', 'stdout F b'], 'no copying after forget');
  await copier.follow(ID, dockerLog, criLog);
  await copier.flush(ID);
  assert.deepEqual(await criContents(), ['stdout F a', 'stdout F b', 'stdout F c']);
});

test('reopen moves later lines to a new file at the same path, losing and repeating none', async () => {
  const copier = newCopier();
  await writeDocker(dockerLine('old 1\n'), dockerLine('old 2\n'));
  await copier.follow(ID, dockerLog, criLog);
  await copier.flush(ID);
  const rotated = `${criLog}.20261123-100000`;
  await rename(criLog, rotated);
  await writeDocker(dockerLine('between\n'));
  await copier.reopen(ID);
  await writeDocker(dockerLine('new 1\n'));
  await copier.flush(ID);
  const old = await criContents(rotated);
  const current = await criContents();
  assert.deepEqual(old.slice(0, 2), ['stdout F old 1', 'stdout F old 2']);
  assert.deepEqual([...old, ...current], ['stdout F old 1', 'stdout F old 2', 'stdout F between', 'stdout F new 1']);
  assert.equal(current.at(-1), 'stdout F new 1');
  assert.equal((await stat(criLog)).mode & 0o777, 0o640);
});

test('reopen of a container not followed is FAILED_PRECONDITION', async () => {
  await assert.rejects(newCopier().reopen('nope'), (error: { code?: number }) => error.code === GrpcCode.FAILED_PRECONDITION);
});

test('forget with removeFiles deletes the CRI file and the saved position, even after a restart', async () => {
  const copier = newCopier();
  await writeDocker(dockerLine('x\n'));
  await copier.follow(ID, dockerLog, criLog);
  await copier.flush(ID);
  const statePath = join(stateDir, `${ID}.json`);
  assert.ok(existsSync(criLog) && existsSync(statePath));
  await copier.forget(ID, { removeFiles: true });
  assert.ok(!existsSync(criLog) && !existsSync(statePath));

  // A container not followed by this run (exited before a restart): the saved position says where its file is.
  const other = 'deadbeef';
  const otherCri = join(dir, 'pods', 'other.log');
  await copier.follow(other, dockerLog, otherCri);
  await copier.forget(other);
  await copier.close();
  assert.ok(existsSync(otherCri));
  await newCopier().forget(other, { removeFiles: true });
  assert.ok(!existsSync(otherCri) && !existsSync(join(stateDir, `${other}.json`)));
});

test("Docker's log rotation: the rest of the old file, then the new one", async () => {
  const copier = newCopier();
  await writeDocker(dockerLine('1\n'));
  await copier.follow(ID, dockerLog, criLog);
  await copier.flush(ID);
  await writeDocker(dockerLine('2\n'));
  await rename(dockerLog, `${dockerLog}.1`);
  await writeDocker(dockerLine('3\n'));
  await copier.flush(ID);
  assert.deepEqual(await criContents(), ['stdout F 1', 'stdout F 2', 'stdout F 3']);

  // Rotated while mascri was down.
  await copier.close();
  await writeDocker(dockerLine('4\n'));
  await rename(`${dockerLog}`, `${dockerLog}.1`);
  await writeDocker(dockerLine('5\n'));
  const second = newCopier();
  await second.follow(ID, dockerLog, criLog);
  await second.flush(ID);
  assert.deepEqual(await criContents(), ['stdout F 1', 'stdout F 2', 'stdout F 3', 'stdout F 4', 'stdout F 5']);
});

test('a Docker log that appears later is copied; one that vanishes is logged, not thrown', async (t) => {
  const poll = fakePoll(t);
  const copier = newCopier();
  await copier.follow(ID, dockerLog, criLog);
  await copier.flush(ID);
  assert.ok(existsSync(criLog));
  assert.deepEqual(await criContents(), []);
  await writeDocker(dockerLine('late\n'));
  poll(); // no watch on a file that did not exist: the poll finds it
  await eventually('the late line to be copied', async () => (await criContents()).length === 1);

  await writeDocker(dockerLine('last words\n'));
  const before = logLines.length;
  await rm(dockerLog);
  await copier.flush(ID);
  poll(); // a poll with the file gone
  await copier.flush(ID);
  assert.deepEqual(await criContents(), ['stdout F late', 'stdout F last words']);
  assert.equal(logLines.slice(before).filter((line) => line.includes('does not exist')).length, 1, 'a lasting condition is logged once');

  // The same path with a new file starts from its beginning.
  await writeDocker(dockerLine('reborn\n'));
  await copier.flush(ID);
  assert.deepEqual(await criContents(), ['stdout F late', 'stdout F last words', 'stdout F reborn']);
});

test('lines that are not Docker entries are skipped with a warning', async () => {
  const copier = newCopier();
  await writeDocker(dockerLine('ok\n'), 'garbage\n', dockerLine('still ok\n'));
  await copier.follow(ID, dockerLog, criLog);
  await copier.flush(ID);
  assert.deepEqual(await criContents(), ['stdout F ok', 'stdout F still ok']);
  assert.ok(logLines.some((line) => line.includes('"level":"warn"') && line.includes('not log entries')));
});

test('a large backlog with long split lines is copied whole', async () => {
  const big = 'y'.repeat(16 * 1024);
  const lines: string[] = [];
  for (let i = 0; i < 400; i++) lines.push(dockerLine(big), dockerLine(`end ${i}\n`, i % 2 ? 'stderr' : 'stdout'));
  await writeDocker(...lines);
  const copier = newCopier();
  await copier.follow(ID, dockerLog, criLog);
  await copier.flush(ID);
  const contents = await criContents();
  assert.equal(contents.length, 800);
  assert.equal(contents[0], `stdout P ${big}`);
  assert.equal(contents[799], 'stderr F end 399');
});

test('an unusable state file is ignored (copy from the start), and a broken state never throws', async () => {
  await mkdir(stateDir, { recursive: true });
  await writeFile(join(stateDir, `${ID}.json`), '{not json');
  await writeDocker(dockerLine('from the start\n'));
  const copier = newCopier();
  await copier.follow(ID, dockerLog, criLog);
  await copier.flush(ID);
  assert.deepEqual(await criContents(), ['stdout F from the start']);
  assert.equal(parseSavedPosition('{"version":1}'), undefined);
});
