import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import {
  parseState,
  readState,
  removeState,
  stateDirectory,
  stateFilePath,
  writeState,
  type LocalCloudState,
} from '../../../../localstack/emulators/stateFile';

const STATE: LocalCloudState = {
  pid: 4242,
  endpoint: 'http://127.0.0.1:4566',
  endpoints: {
    kinesis: 'http://127.0.0.1:40001',
    dynamodb: 'http://127.0.0.1:40002',
    s3: 'http://127.0.0.1:40003',
  },
  pids: { kinesis: 5001, dynamodb: 5002, s3: 5003 },
  startedAt: '2026-01-01T00:00:00.000Z',
};

describe('stateFile', () => {
  let directory: string;
  beforeEach(async () => {
    directory = await mkdtemp(join(tmpdir(), 'shardflow-state-test-'));
  });
  afterEach(async () => {
    await rm(directory, { recursive: true, force: true });
  });

  it('when SHARDFLOW_STATE_DIR is set, it is the state directory; otherwise .shardflow in the working directory', () => {
    expect(stateDirectory({ SHARDFLOW_STATE_DIR: directory })).toBe(directory);
    expect(stateDirectory({})).toBe(resolve('.shardflow'));
  });

  it('when written and read back, it round-trips, is private to the user, and is gone after remove', async () => {
    const path = stateFilePath(join(directory, 'nested'));
    await writeState(STATE, path);
    expect(await readState(path)).toEqual(STATE);
    expect((await stat(path)).mode & 0o777).toBe(0o600);
    await removeState(path);
    expect(await readState(path)).toBeUndefined();
  });

  it('when there is no file, reading gives undefined', async () => {
    expect(await readState(join(directory, 'local.json'))).toBeUndefined();
  });

  it('when the file is corrupt, reading fails with a message naming the file', async () => {
    const path = join(directory, 'local.json');
    await writeFile(path, '{"pid": 1');
    await expect(readState(path)).rejects.toThrow(`${path} is not a valid local cloud state file; remove it`);
    expect(await readFile(path, 'utf8')).toBe('{"pid": 1');
  });

  it.each([
    ['a pid of 1 (init)', { ...STATE, pid: 1 }],
    ['a non-integer emulator pid', { ...STATE, pids: { ...STATE.pids, s3: 1.5 } }],
    ['a non-loopback endpoint', { ...STATE, endpoint: 'http://10.0.0.1:4566' }],
    [
      'an emulator endpoint with a path',
      { ...STATE, endpoints: { ...STATE.endpoints, kinesis: 'http://127.0.0.1:1/x' } },
    ],
    ['a missing service', { ...STATE, pids: { kinesis: 1, dynamodb: 2 } }],
  ])('when the content has %s, it is rejected', (_, value) => {
    expect(parseState(JSON.stringify(value))).toBeUndefined();
  });
});
