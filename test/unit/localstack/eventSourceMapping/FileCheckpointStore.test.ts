import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FileCheckpointStore } from '../../../../localstack/eventSourceMapping/FileCheckpointStore';
import { EventSourceMappingError } from '../../../../localstack/eventSourceMapping/errors';
import { createHarness } from '../../../helpers/fixtures/esmHarness';
import { FakeKinesis } from '../../../helpers/fixtures/FakeKinesis';

describe('FileCheckpointStore', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'checkpoints-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('when a new store opens the same file, it sees the checkpoints and mappings written before', async () => {
    const path = join(dir, 'nested', 'checkpoints.json');
    const first = new FileCheckpointStore(path);
    await first.markMapping('m');
    await first.put('m', 'shardId-1', { sequenceNumber: '42', ended: false });
    const second = new FileCheckpointStore(path);
    expect(await second.hasMapping('m')).toBe(true);
    expect(await second.get('m', 'shardId-1')).toEqual({ sequenceNumber: '42', ended: false });
    expect(JSON.parse(readFileSync(path, 'utf8'))).toEqual({
      m: { 'shardId-1': { sequenceNumber: '42', ended: false } },
    });
  });

  it('when the file is corrupt, it refuses to start instead of reprocessing from scratch', () => {
    const path = join(dir, 'checkpoints.json');
    writeFileSync(path, '{not json');
    expect(() => new FileCheckpointStore(path)).toThrow(EventSourceMappingError);
  });

  it('when a runtime restarts on the same checkpoint file, it resumes after the last processed record', async () => {
    const path = join(dir, 'checkpoints.json');
    const kinesis = new FakeKinesis();
    let arn = '';
    const first = createHarness({
      kinesis,
      checkpoints: new FileCheckpointStore(path),
      before: (_k, a) => (arn = a),
    });
    first.put(['a', 'b']);
    await first.runtime.start();
    await first.runtime.idle();
    await first.runtime.stop();
    kinesis.put(arn, 'k', 'c');
    const second = createHarness({
      kinesis,
      checkpoints: new FileCheckpointStore(path),
      mapping: { eventSourceArn: arn, startingPosition: 'TRIM_HORIZON' },
    });
    await second.runtime.start();
    await second.runtime.idle();
    await second.runtime.stop();
    expect(second.invoker.delivered()).toEqual(['c']);
  });
});
