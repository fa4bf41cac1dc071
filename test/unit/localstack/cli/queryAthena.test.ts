import { spawn } from 'node:child_process';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const ROOT = join(__dirname, '../../../..');

/** A fake Athena JSON-1.1 endpoint: records each call and answers a scripted query lifecycle. */
function fakeAthena(): Promise<{
  server: Server;
  url: string;
  calls: { target: string; body: Record<string, unknown> }[];
}> {
  const calls: { target: string; body: Record<string, unknown> }[] = [];
  let polls = 0;
  const answer = (target: string): object => {
    switch (target) {
      case 'AmazonAthena.StartQueryExecution':
        return { QueryExecutionId: 'qe-1' };
      case 'AmazonAthena.GetQueryExecution':
        polls += 1;
        return {
          QueryExecution: {
            QueryExecutionId: 'qe-1',
            Status: { State: polls < 2 ? 'RUNNING' : 'SUCCEEDED' },
          },
        };
      default:
        return {
          ResultSet: {
            ResultSetMetadata: {
              ColumnInfo: [
                { Name: 'page', Type: 'varchar' },
                { Name: 'events', Type: 'bigint' },
              ],
            },
            Rows: [
              { Data: [{ VarCharValue: 'page' }, { VarCharValue: 'events' }] },
              { Data: [{ VarCharValue: '/' }, { VarCharValue: '42' }] },
            ],
          },
        };
    }
  };
  const server = createServer((req: IncomingMessage, res) => {
    let text = '';
    req.on('data', (d: Buffer) => (text += d.toString()));
    req.on('end', () => {
      const target = String(req.headers['x-amz-target'] ?? '');
      calls.push({ target, body: JSON.parse(text || '{}') as Record<string, unknown> });
      res.writeHead(200, { 'content-type': 'application/x-amz-json-1.1' });
      res.end(JSON.stringify(answer(target)));
    });
  });
  return new Promise((resolve) =>
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address !== null ? address.port : 0;
      resolve({ server, url: `http://127.0.0.1:${port}`, calls });
    }),
  );
}

describe('shardflow query --athena', () => {
  it('when --athena is given, it starts the query in the workgroup and database, polls, and prints the rows', async () => {
    const { server, url, calls } = await fakeAthena();
    const stateDir = mkdtempSync(join(tmpdir(), 'sf-athena-'));
    try {
      const sql = 'SELECT page, sum(events) AS events FROM page_activity_minutely GROUP BY 1';
      const child = spawn(
        join(ROOT, 'node_modules/.bin/tsx'),
        [
          join(ROOT, 'localstack/cli/main.ts'),
          'query',
          sql,
          '--athena',
          '--workgroup',
          'shardflow-wg',
          '--database',
          'shardflow_db',
          '-f',
          'json',
        ],
        {
          cwd: ROOT,
          env: {
            ...process.env,
            SHARDFLOW_STATE_DIR: stateDir,
            AWS_ENDPOINT_URL_ATHENA: url,
            AWS_REGION: 'us-east-1',
            AWS_ACCESS_KEY_ID: 'test',
            AWS_SECRET_ACCESS_KEY: 'test',
          },
        },
      );
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
      child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
      const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
      expect({ code, stderr }).toEqual({ code: 0, stderr: '' });
      expect(JSON.parse(stdout)).toEqual([{ page: '/', events: 42 }]);
      expect(calls.map((c) => c.target)).toEqual([
        'AmazonAthena.StartQueryExecution',
        'AmazonAthena.GetQueryExecution',
        'AmazonAthena.GetQueryExecution',
        'AmazonAthena.GetQueryResults',
      ]);
      expect(calls[0]?.body).toMatchObject({
        QueryString: sql,
        WorkGroup: 'shardflow-wg',
        QueryExecutionContext: { Database: 'shardflow_db', Catalog: 'AwsDataCatalog' },
      });
    } finally {
      server.close();
      rmSync(stateDir, { recursive: true, force: true });
    }
  }, 60_000);

  it('when no workgroup is known, it exits 1 saying how to get one', async () => {
    const stateDir = mkdtempSync(join(tmpdir(), 'sf-athena-'));
    try {
      const child = spawn(
        join(ROOT, 'node_modules/.bin/tsx'),
        [join(ROOT, 'localstack/cli/main.ts'), 'query', 'SELECT 1', '--athena'],
        {
          cwd: ROOT,
          env: { ...process.env, SHARDFLOW_STATE_DIR: stateDir },
        },
      );
      let stderr = '';
      child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
      const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
      expect(code).toBe(1);
      expect(stderr).toBe(
        'shardflow: No Athena workgroup: pass --workgroup or run "shardflow deploy" first\n',
      );
    } finally {
      rmSync(stateDir, { recursive: true, force: true });
    }
  }, 60_000);
});
