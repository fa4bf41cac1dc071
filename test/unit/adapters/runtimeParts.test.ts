import { kinesisPublisher } from '../../../functions/adapters/kinesisPublisher';
import { kinesisSource } from '../../../functions/adapters/kinesisSource';
import { runtimePartsFor } from '../../../functions/adapters/operatorRuntime';
import { assembleOperatorRuntime } from '../../../functions/adapters/operatorRuntimeCore';
import { runtimePartsOf } from '../../../functions/adapters/runtimeParts';
import { tableSource } from '../../../functions/adapters/tableSource';
import { pageActivity } from '../../../functions/pipelines/pageActivity';
import { orderRevenue } from '../../helpers/orderRevenue';
import { runtimeEnv, tapping } from '../../helpers/tappingPipeline';

const env = (name: string) => ({ ...runtimeEnv(name), SHARDFLOW_PUBLISH_STREAM: 'views' });

describe('runtime parts', () => {
  test('a Kinesis pipeline needs the Kinesis source only; a table pipeline the table source; one that publishes the publisher too', () => {
    expect(runtimePartsOf(pageActivity.spec)).toEqual({ source: 'kinesisSource' });
    expect(runtimePartsOf(orderRevenue().spec)).toEqual({ source: 'tableSource' });
    expect(runtimePartsOf(tapping.spec)).toEqual({ source: 'kinesisSource', publisher: 'kinesisPublisher' });
    expect(runtimePartsFor(tapping.spec)).toEqual({ source: kinesisSource, publisher: kinesisPublisher });
    expect(runtimePartsFor(orderRevenue().spec)).toEqual({ source: tableSource });
  });

  test('when a runtime is given the reader of another kind of source, it fails at load naming both and the fix', () => {
    expect(() =>
      assembleOperatorRuntime('t', pageActivity, { source: tableSource }, env('page-activity')),
    ).toThrow(
      'This function was built with source part tableSource, but pipeline page-activity needs kinesisSource: build its entry with pipelineEntries (it passes kinesisSource)',
    );
  });

  test('when a pipeline that publishes is given no publisher, it fails at load naming the stream', () => {
    expect(() => assembleOperatorRuntime('t', tapping, { source: kinesisSource }, env('clicks'))).toThrow(
      'This function was built with no kinesisPublisher, but pipeline clicks publishes to stream views: build its entry with pipelineEntries (it passes kinesisSource and kinesisPublisher)',
    );
  });

  test('when given the parts its pipeline needs, the runtime decodes the source through them', async () => {
    const runtime = assembleOperatorRuntime(
      't',
      tapping,
      { source: kinesisSource, publisher: kinesisPublisher },
      env('clicks'),
    );
    await expect(runtime.decode({ Records: [] })).resolves.toEqual([]);
    await expect(runtime.listOpenShards()).resolves.toBeUndefined();
  });
});
