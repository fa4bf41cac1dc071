/**
 * Filter criteria of a mapping on a table's DynamoDB stream are matched against the DynamoDB-stream record
 * (`eventName`, `dynamodb.Keys`, `dynamodb.NewImage`…; Lambda guide with-ddb-filtering), not a Kinesis view.
 */
import { TEST_FUNCTION } from '../../../helpers/fixtures/esmHarness';
import { FakeTableStream, TABLE_STREAM } from '../../../helpers/fixtures/FakeTableStream';
import { EventSourceMappingRuntime } from '../../../../localstack/eventSourceMapping/EventSourceMappingRuntime';
import { MemoryCheckpointStore } from '../../../../localstack/eventSourceMapping/MemoryCheckpointStore';

describe('filter criteria of a table-stream mapping', () => {
  let runtime: EventSourceMappingRuntime | undefined;
  afterEach(async () => {
    await runtime?.stop();
    runtime = undefined;
  });

  /** Runs a mapping with `pattern` over INSERT a, MODIFY a, INSERT b; returns `<eventName>:<id>` delivered. */
  const deliveredWith = async (pattern: string): Promise<string[]> => {
    const table = new FakeTableStream();
    table.put('INSERT', 'a');
    table.put('MODIFY', 'a');
    table.put('INSERT', 'b');
    const delivered: string[] = [];
    runtime = new EventSourceMappingRuntime({
      mappings: [
        {
          uuid: 'table-mapping',
          functionName: TEST_FUNCTION.functionName,
          eventSourceArn: TABLE_STREAM,
          startingPosition: 'TRIM_HORIZON',
          filterPatterns: [pattern],
        },
      ],
      functions: [TEST_FUNCTION],
      dynamoDbStreams: table,
      invoker: {
        invoke: async (request) => {
          const records = request.event.Records as unknown as {
            eventName: string;
            dynamodb: { Keys: { id: { S: string } } };
          }[];
          for (const r of records) delivered.push(`${r.eventName}:${r.dynamodb.Keys.id.S}`);
          return { ok: true, payload: null };
        },
        close: async () => undefined,
      },
      checkpoints: new MemoryCheckpointStore(),
      pollIntervalMs: 5,
      shardDiscoveryIntervalMs: 20,
      retryBackoffMs: 0,
      log: () => undefined,
    });
    await runtime.start();
    await runtime.idle();
    return delivered;
  };

  it('when the pattern is on eventName ({"eventName":["INSERT"]}, the AWS docs example), it delivers the INSERT records', async () => {
    expect(await deliveredWith('{"eventName":["INSERT"]}')).toEqual(['INSERT:a', 'INSERT:b']);
  });

  it('when the pattern is on dynamodb.Keys, it delivers the records of that key', async () => {
    expect(await deliveredWith('{"dynamodb":{"Keys":{"id":{"S":["a"]}}}}')).toEqual(['INSERT:a', 'MODIFY:a']);
  });

  it('when the pattern is Kinesis-style ({"data": …}), which matches nothing on AWS for a table stream, it delivers nothing', async () => {
    expect(await deliveredWith('{"data":{"eventName":["INSERT"]}}')).toEqual([]);
  });
});
