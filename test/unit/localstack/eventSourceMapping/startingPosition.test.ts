/**
 * A mapping's starting position is fixed when the mapping starts (Lambda fixes it when the mapping is
 * created): reading a shard again before its first checkpoint does not move it.
 */
import { createHarness, type Harness } from '../../../helpers/fixtures/esmHarness';

describe('starting position', () => {
  let harness: Harness | undefined;
  afterEach(async () => {
    await harness?.runtime.stop();
    harness = undefined;
  });

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
});
