import {
  GetQueryExecutionCommand,
  GetQueryResultsCommand,
  StartQueryExecutionCommand,
  type AthenaClient,
} from '@aws-sdk/client-athena';
import { buildStartQueryExecutionInput, runAthenaQuery } from '../../../../localstack/query/athenaQuery';
import { AthenaQueryError } from '../../../../localstack/query/errors';

type Command = StartQueryExecutionCommand | GetQueryExecutionCommand | GetQueryResultsCommand;

/** A stub Athena client answering from scripted responses and recording every request. */
function stubClient(states: string[], pages: object[], reason?: string) {
  const calls: Command[] = [];
  const client = {
    send: async (command: Command): Promise<object> => {
      calls.push(command);
      if (command instanceof StartQueryExecutionCommand) return { QueryExecutionId: 'q-1' };
      if (command instanceof GetQueryExecutionCommand) {
        return {
          QueryExecution: { Status: { State: states.shift() ?? 'RUNNING', StateChangeReason: reason } },
        };
      }
      return pages.shift() ?? {};
    },
  } as unknown as Pick<AthenaClient, 'send'>;
  return { client, calls };
}

const columnInfo = [
  { Name: 'page', Type: 'varchar' },
  { Name: 'events', Type: 'bigint' },
  { Name: 'ok', Type: 'boolean' },
];
const row = (...values: (string | undefined)[]) => ({
  Data: values.map((v) => (v === undefined ? {} : { VarCharValue: v })),
});

describe('athena query', () => {
  it('when building the request, it sets the SQL, workgroup and database context', () => {
    expect(
      buildStartQueryExecutionInput('SELECT 1', { workGroup: 'shardflow', database: 'shardflow_results' }),
    ).toEqual({
      QueryString: 'SELECT 1',
      WorkGroup: 'shardflow',
      QueryExecutionContext: { Database: 'shardflow_results', Catalog: 'AwsDataCatalog' },
    });
    expect(buildStartQueryExecutionInput('SELECT 1', { workGroup: 'wg', clientRequestToken: 't' })).toEqual({
      QueryString: 'SELECT 1',
      WorkGroup: 'wg',
      ClientRequestToken: 't',
    });
  });

  it('when the query succeeds, it polls until SUCCEEDED and reads every result page without the header row', async () => {
    const { client, calls } = stubClient(
      ['QUEUED', 'RUNNING', 'SUCCEEDED'],
      [
        {
          ResultSet: {
            ResultSetMetadata: { ColumnInfo: columnInfo },
            Rows: [row('page', 'events', 'ok'), row('/', '10', 'true')],
          },
          NextToken: 'n1',
        },
        { ResultSet: { Rows: [row('/cart', '3', undefined)] } },
      ],
    );
    const sleeps: number[] = [];
    const result = await runAthenaQuery(client, 'SELECT page, events, ok FROM t', {
      workGroup: 'wg',
      database: 'db',
      pollIntervalMs: 5,
      sleep: async (ms) => void sleeps.push(ms),
    });
    expect(result.columns).toEqual([
      { name: 'page', type: 'varchar' },
      { name: 'events', type: 'bigint' },
      { name: 'ok', type: 'boolean' },
    ]);
    expect(result.rows).toEqual([
      ['/', 10, true],
      ['/cart', 3, null],
    ]);
    expect(sleeps).toEqual([5, 5]);
    expect(calls[0]?.input).toMatchObject({ QueryString: 'SELECT page, events, ok FROM t', WorkGroup: 'wg' });
    const resultCalls = calls.filter((c) => c instanceof GetQueryResultsCommand).map((c) => c.input);
    expect(resultCalls).toEqual([{ QueryExecutionId: 'q-1' }, { QueryExecutionId: 'q-1', NextToken: 'n1' }]);
  });

  it('when the query fails, it throws an AthenaQueryError with the reason and the execution id', async () => {
    const { client } = stubClient(['FAILED'], [], "line 1:8: Column 'nope' cannot be resolved\nmore");
    const error = await runAthenaQuery(client, 'SELECT nope', {
      workGroup: 'wg',
      sleep: async () => {},
    }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(AthenaQueryError);
    expect((error as AthenaQueryError).message).toBe(
      "Athena query q-1 FAILED: line 1:8: Column 'nope' cannot be resolved",
    );
    expect((error as AthenaQueryError).queryExecutionId).toBe('q-1');
  });

  it('when the query never finishes, it gives up at the deadline', async () => {
    const { client } = stubClient([], []);
    await expect(
      runAthenaQuery(client, 'SELECT 1', {
        workGroup: 'wg',
        pollIntervalMs: 10,
        timeoutMs: 30,
        sleep: async () => {},
      }),
    ).rejects.toThrow('Athena query q-1 still RUNNING after 30 ms');
  });
});
