/**
 * A mapping's starting position is fixed when the mapping starts (Lambda fixes it when the mapping is
 * created): reading a shard again before its first checkpoint does not move it.
 */
import { createHarness, type Harness } from '../../../helpers/fixtures/esmHarness';
import { MemoryCheckpointStore } from '../../../../localstack/eventSourceMapping/MemoryCheckpointStore';

describe('starting position', () => {
  let harness: Harness | undefined;
  afterEach(async () => {
    await harness?.runtime.stop();
    harness = undefined;
  });

  /**
   * Restarts `first`'s mapping as a LATEST one on the same stream and checkpoints, writes 'after-restart' once
   * it is idle, and returns what the restarted mapping delivered.
   */
  async function restartAndWrite(first: Harness, checkpoints: MemoryCheckpointStore, arn: string) {
    harness = createHarness({
      kinesis: first.kinesis,
      checkpoints,
      mapping: { startingPosition: 'LATEST', eventSourceArn: arn },
    });
    await harness.runtime.start();
    await harness.runtime.idle();
    first.kinesis.put(arn, 'k', 'after-restart');
    await harness.runtime.idle();
    return harness.invoker.delivered();
  }

  it('when a LATEST mapping loses its iterator (a GetRecords error) before reading a record, it still delivers what was written since the start', async () => {
    harness = createHarness({
      mapping: { startingPosition: 'LATEST' },
      // Arrived a second before the start (one in the very millisecond of the start could go either way).
      before: (kinesis, arn) => kinesis.put(arn, 'k', 'before-start', Date.now() - 1_000),
    });
    await harness.runtime.start();
    await harness.runtime.idle(); // the shard has been polled at its tip at least once
    harness.kinesis.failNextGetRecords(1);
    harness.put(['a']);
    await harness.runtime.idle();
    harness.put(['b']);
    await harness.runtime.idle();
    expect(harness.invoker.delivered()).toEqual(['a', 'b']);
  });

  it('when a LATEST mapping restarts before its first checkpoint, it does not replay the records from before its start', async () => {
    const checkpoints = new MemoryCheckpointStore();
    let arn = '';
    const first = createHarness({
      checkpoints,
      mapping: { startingPosition: 'LATEST' },
      before: (kinesis, a) => {
        arn = a;
        kinesis.put(a, 'k', 'history-1', Date.now() - 1_000);
        kinesis.put(a, 'k', 'history-2', Date.now() - 1_000);
      },
    });
    await first.runtime.start();
    await first.runtime.idle();
    await first.runtime.stop();
    expect(first.invoker.delivered()).toEqual([]);
    expect(await restartAndWrite(first, checkpoints, arn)).toEqual(['after-restart']);
  });

  it('when an AT_TIMESTAMP mapping restarts before its first batch completed, it does not replay records from before the timestamp', async () => {
    const checkpoints = new MemoryCheckpointStore();
    let arn = '';
    const t = 1_700_000_100;
    const first = createHarness({
      checkpoints,
      mapping: { startingPosition: 'AT_TIMESTAMP', startingPositionTimestamp: t, maximumRetryAttempts: -1 },
      handler: () => {
        throw new Error('downstream unavailable');
      },
      before: (kinesis, a) => {
        arn = a;
        kinesis.put(a, 'k', 'before-ts', t * 1000 - 1);
        kinesis.put(a, 'k', 'after-ts', t * 1000 + 1);
      },
    });
    await first.runtime.start();
    await expect(first.runtime.idle(200)).rejects.toThrow('not idle');
    await first.runtime.stop();
    harness = createHarness({
      kinesis: first.kinesis,
      checkpoints,
      mapping: { startingPosition: 'AT_TIMESTAMP', startingPositionTimestamp: t, eventSourceArn: arn },
    });
    await harness.runtime.start();
    await harness.runtime.idle();
    expect(harness.invoker.delivered()).toEqual(['after-ts']);
  });

  it('when describing the stream fails once at a restart, it retries and resumes from the saved checkpoints (nothing written while stopped is lost)', async () => {
    const checkpoints = new MemoryCheckpointStore();
    let arn = '';
    const first = createHarness({
      checkpoints,
      mapping: { startingPosition: 'LATEST' },
      before: (_k, a) => (arn = a),
    });
    await first.runtime.start();
    await first.runtime.idle();
    first.put(['a']);
    await first.runtime.idle();
    await first.runtime.stop();
    expect(first.invoker.delivered()).toEqual(['a']);
    first.kinesis.put(arn, 'k', 'written-while-stopped');
    const describe = first.kinesis.streamCreatedAt.bind(first.kinesis);
    let failures = 1;
    first.kinesis.streamCreatedAt = async (streamArn: string) => {
      if (failures-- > 0) throw new Error('connect ECONNREFUSED 127.0.0.1:4567');
      return describe(streamArn);
    };
    expect(await restartAndWrite(first, checkpoints, arn)).toEqual([
      'written-while-stopped',
      'after-restart',
    ]);
    expect(Object.keys(checkpoints.snapshot())).toEqual([first.checkpointKey]);
  });

  it('when ListShards failed all through the first run and the runtime restarts, a LATEST mapping does not replay the history written before it started', async () => {
    const checkpoints = new MemoryCheckpointStore();
    let arn = '';
    const first = createHarness({
      checkpoints,
      mapping: { startingPosition: 'LATEST' },
      before: (kinesis, a) => {
        arn = a;
        kinesis.put(a, 'k', 'history', Date.now() - 60_000);
      },
    });
    const list = first.kinesis.listShards.bind(first.kinesis);
    first.kinesis.listShards = async () => {
      throw new Error('connect ECONNREFUSED 127.0.0.1:4567');
    };
    await first.runtime.start();
    await new Promise((resolve) => setTimeout(resolve, 100));
    await first.runtime.stop();
    first.kinesis.listShards = list;

    expect(await restartAndWrite(first, checkpoints, arn)).toEqual(['after-restart']);
  });
});
