/**
 * The CDC example through the local stack, as a user runs it: `shardflow run
 * functions/pipelines/orders/orderRevenue.ts --input <change file> --keep` synthesizes the app (which creates
 * the `orders` table the module declares), deploys it on the embedded cloud (the table first, with its stream;
 * the mapping on the table's real stream ARN), applies the change file to the table (inserts, updates, deletes)
 * and prints the rows. Summed over the minutes, a status's rows equal what the table holds in that status at
 * the end, computed by DuckDB from the change file alone (the last write of each order). While the cloud is
 * kept, `status` reads the table stream's shards and `savepoint` names the table's stream, whose restore
 * checks compare it (a savepoint of another incarnation of the stream is refused).
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GetObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { DuckDBInstance } from '@duckdb/node-api';
import { s3Client } from '../../functions/adapters/aws';
import { LOCAL_CREDENTIALS, LOCAL_REGION } from '../../localstack/emulators/constants';
import { runCli, unusedPort, whileKept } from '../helpers/cli';

const MODULE = 'functions/pipelines/orders/orderRevenue.ts';
const STATUSES = ['pending', 'paid', 'shipped', 'refunded'];

/** A seeded change file: inserts, status moves and amount changes, deletes; `hostile` invalid items. */
function changeFile(seed: number): { text: string; writes: number; blank: number } {
  let state = seed;
  const next = (n: number): number => (state = (state * 1103515245 + 12345) % 2 ** 31) % n;
  const live = new Map<string, { orderId: string; status: string; amount: number; customer: string }>();
  const lines: string[] = [];
  for (let i = 0; i < 90; i++) {
    const ids = [...live.keys()];
    const pick = next(10);
    if (ids.length < 4 || pick < 4) {
      const order = {
        orderId: `o${i}`,
        status: 'pending',
        amount: 100 + next(9_900),
        customer: `c${next(5)}`,
      };
      live.set(order.orderId, order);
      lines.push(JSON.stringify({ put: order }));
    } else if (pick < 8) {
      const before = live.get(ids[next(ids.length)]!)!;
      const at = STATUSES.indexOf(before.status);
      const after =
        at < STATUSES.length - 1 && pick < 7
          ? { ...before, status: STATUSES[at + 1]! }
          : { ...before, amount: before.amount + 1 + next(500) };
      live.set(after.orderId, after);
      lines.push(JSON.stringify({ put: after }));
    } else {
      const orderId = ids[next(ids.length)]!;
      live.delete(orderId);
      lines.push(JSON.stringify({ delete: { orderId } }));
    }
    if (i === 30) lines.push('');
  }
  // An order the pipeline's schema refuses (a negative amount), deleted again: both changes are rejected,
  // and the table ends without it, as the reference reads it.
  lines.splice(10, 0, JSON.stringify({ put: { orderId: 'bad', status: 'paid', amount: -5 } }));
  lines.splice(50, 0, JSON.stringify({ delete: { orderId: 'bad' } }));
  const blank = lines.filter((l) => l === '').length;
  return { text: `${lines.join('\n')}\n`, writes: lines.length - blank, blank };
}

/** What the table holds per status after the change file: the last write of each order, unless a delete. */
const REFERENCE_SQL = (file: string): string => `
WITH file AS (SELECT string_split(content, chr(10)) AS lines FROM read_text('${file}')),
numbered AS (SELECT unnest(lines) AS line, unnest(range(1, len(lines) + 1)) AS n FROM file),
writes AS (
  SELECT n, coalesce(line->>'$.put.orderId', line->>'$.delete.orderId') AS order_id, line->'$.put' AS item
  FROM numbered WHERE trim(line) <> ''
),
final AS (SELECT * FROM writes QUALIFY row_number() OVER (PARTITION BY order_id ORDER BY n DESC) = 1)
SELECT item->>'status' AS status, sum((item->>'amount')::BIGINT)::BIGINT AS revenue_cents, count(*)::BIGINT AS orders
FROM final WHERE item IS NOT NULL GROUP BY ALL ORDER BY status`;

describe('the CDC example (orders table → revenue per status per minute) through the local stack', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'sf-orders-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('when a change file inserts, updates and deletes orders, the rows per status equal the table at the end (DuckDB over the file), and status and savepoint read the table stream', async () => {
    const { text, writes, blank } = changeFile(17);
    const input = join(dir, 'orders.jsonl');
    writeFileSync(input, text);
    const env = { ...process.env, SHARDFLOW_STATE_DIR: dir, AWS_ENDPOINT_URL: '' };
    const started = Date.now();
    const port = await unusedPort();
    await whileKept(
      ['run', MODULE, '--input', input, '--format', 'json', '--keep', '--port', String(port)],
      env,
      async (stderr, stdout) => {
        expect(stderr.split('\n').filter((l) => l.startsWith('shardflow:'))).toEqual([]);
        // Every write changed its item, so each is one stream record; the two changes of `bad` are rejected.
        expect(stderr).toContain(`${writes + blank} lines: ${blank} blank, ${writes} records in → `);
        expect(stderr).toMatch(/ rows; 2 rejected, 0 late, 0 duplicates dropped/);
        const rows = JSON.parse(stdout) as Record<string, unknown>[];
        const ended = Date.now();
        for (const row of rows) {
          const start = Date.parse(`${String(row.window_start)}Z`);
          expect(Date.parse(`${String(row.window_end)}Z`) - start).toBe(60_000);
          expect(start).toBeGreaterThan(started - 60_000);
          expect(start).toBeLessThan(ended);
        }
        const totals = new Map<string, { revenue_cents: number; orders: number }>();
        for (const row of rows) {
          const total = totals.get(String(row.status)) ?? { revenue_cents: 0, orders: 0 };
          total.revenue_cents += Number(row.revenue_cents);
          total.orders += Number(row.orders);
          totals.set(String(row.status), total);
        }
        const db = await DuckDBInstance.create(':memory:');
        const connection = await db.connect();
        try {
          const reference = (await connection.runAndReadAll(REFERENCE_SQL(input))).getRowObjectsJson();
          expect(reference.length).toBeGreaterThanOrEqual(3);
          // A status every order left sums to nothing; the others to what the table holds in them.
          const expected = new Map(STATUSES.map((s) => [s, { revenue_cents: 0, orders: 0 }]));
          for (const r of reference)
            expected.set(String(r.status), {
              revenue_cents: Number(r.revenue_cents),
              orders: Number(r.orders),
            });
          for (const s of STATUSES) totals.set(s, totals.get(s) ?? { revenue_cents: 0, orders: 0 });
          expect(new Map([...totals].sort())).toEqual(new Map([...expected].sort()));
        } finally {
          connection.closeSync();
          db.closeSync();
        }

        const status = await runCli(['status', MODULE], env);
        expect({ code: status.code, stderr: status.stderr }).toEqual({ code: 0, stderr: '' });
        expect(status.stdout).toMatch(
          /^pipeline order-revenue \(stream arn:aws:dynamodb:[^:]+:\d{12}:table\/orders\/stream\/\S+\)$/m,
        );
        expect(status.stdout).toContain(`${writes} records in: 2 rejected, 0 late, 0 duplicates dropped`);
        // The table's one shard, read to its end.
        expect(status.stdout).toMatch(/^\s+shardId-\S+\s+\|\s+0\s+\|/m);

        const savepoint = await runCli(['savepoint', '--pipeline', MODULE, '--local'], env);
        expect({ code: savepoint.code, stderr: savepoint.stderr }).toEqual({ code: 0, stderr: '' });
        expect(savepoint.stdout).toMatch(
          /^savepoint of order-revenue written to (s3:\/\/\S+): .*shardId-\S+ at \d+\n$/,
        );
        const at = /written to (s3:\/\/\S+):/.exec(savepoint.stdout)![1]!;
        // The saved stream is the table's stream the pipeline reads (its ARN and creation time): restoring
        // into the table that holds exactly the saved items passes every check and writes nothing new.
        const restore = await runCli(['restore', '--from', at, '--pipeline', MODULE, '--local'], env);
        expect({ code: restore.code, stderr: restore.stderr }).toEqual({
          code: 0,
          stderr: expect.not.stringContaining('shardflow:'),
        });
        expect(restore.stdout.startsWith(`restored order-revenue from ${at} into `)).toBe(true);
        expect(restore.stdout).toMatch(
          /: 0 items written, \d+ already there; shards resume shardId-\S+ after \d+;/,
        );
        // A savepoint of another incarnation of the table's stream (a table created again) is refused.
        const s3 = s3Client({
          endpoint: `http://127.0.0.1:${port}`,
          region: LOCAL_REGION,
          credentials: LOCAL_CREDENTIALS,
          forcePathStyle: true,
        });
        const [bucket, ...prefix] = at.slice('s3://'.length).split('/');
        const key = (name: string, under = prefix.join('/')): string => `${under}${name}`;
        const manifest = JSON.parse(
          (await (
            await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key('manifest.json') }))
          ).Body!.transformToString()) as string,
        ) as { stream: string };
        const other = manifest.stream.replace(/stream\/.*$/, 'stream/2020-01-01T00:00:00.000');
        for (const [name, body] of [
          ['manifest.json', JSON.stringify({ ...manifest, stream: other })],
          [
            'state.jsonl.gz',
            await (
              await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key('state.jsonl.gz') }))
            ).Body!.transformToByteArray(),
          ],
        ] as const)
          await s3.send(new PutObjectCommand({ Bucket: bucket, Key: key(name, 'moved/'), Body: body }));
        const refused = await runCli(
          ['restore', '--from', `s3://${bucket}/moved/`, '--pipeline', MODULE, '--local'],
          env,
        );
        expect({ code: refused.code, stdout: refused.stdout }).toEqual({ code: 1, stdout: '' });
        expect(refused.stderr).toContain(
          `The savepoint's shard positions are in stream ${other} created at `,
        );
        expect(refused.stderr).toContain(`the target reads ${manifest.stream} created at `);
      },
    );
  }, 120_000);
});
