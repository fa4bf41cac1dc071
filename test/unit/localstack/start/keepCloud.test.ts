import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { keepCloudRunning } from '../../../../localstack/start/keepCloud';
import { pageActivity } from '../../../../functions/pipelines/pageActivity';
import type { CompiledPipeline } from '../../../../functions/core/engine/CompiledPipeline';

// The console is a web server reading the cloud: not what this test is about.
jest.mock('../../../../localstack/console', () => ({
  DEFAULT_CONSOLE_PORT: 4567,
  openConsole: () => Promise.reject(new Error('no console in this test')),
}));

describe('keepCloudRunning', () => {
  let dir: string;
  const previous = process.env['SHARDFLOW_STATE_DIR'];
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'sf-keep-'));
    process.env['SHARDFLOW_STATE_DIR'] = dir;
  });
  afterAll(() => {
    if (previous === undefined) delete process.env['SHARDFLOW_STATE_DIR'];
    else process.env['SHARDFLOW_STATE_DIR'] = previous;
    rmSync(dir, { recursive: true, force: true });
  });

  it('when it says Ctrl-C stops it, it already listens for Ctrl-C (a parent reading the line may signal at once)', async () => {
    const before = process.listenerCount('SIGINT');
    let listeningWhenSaid: number | undefined;
    const session = {
      cloud: { endpoint: 'http://127.0.0.1:1', endpoints: {}, pids: {}, kinesisEmulator: 'kinesalite' },
      outputs: {},
      clients: {},
      bucket: 'b',
      stateTable: 't',
      streamOf: () => 'clickstream',
      templatePath: join(dir, 'template.json'),
    } as unknown as Parameters<typeof keepCloudRunning>[0];
    await keepCloudRunning(session, 'run', pageActivity as CompiledPipeline<unknown>, (line) => {
      if (!line.includes('Press Ctrl-C to stop.')) return;
      listeningWhenSaid = process.listenerCount('SIGINT');
      // What the parent's Ctrl-C does, once the line is out: with no listener yet, the process would die.
      if (listeningWhenSaid > before) process.emit('SIGINT');
      else process.nextTick(() => process.emit('SIGINT'));
    });
    expect(listeningWhenSaid).toBe(before + 1);
    expect(process.listenerCount('SIGINT')).toBe(before);
  });
});
