import { Option, type Command } from 'commander';
import { athenaClient } from '../../../functions/adapters/aws';
import {
  declaredTables,
  DuckDbQueryEngine,
  formatResult,
  type MirrorReport,
  OUTPUT_FORMATS,
  queryResults,
  runAthenaQuery,
  type OutputFormat,
} from '../../query';
import { NotRunningError } from '../../start/errors';
import { TEMPLATE_OUTPUT } from '../../start/localDrain';
import {
  assertLocalCloudRunning,
  localClients,
  localTarget,
  readOutputs,
  resolveResultsBucket,
} from '../../start/localTarget';
import { cliAction } from './cliAction';

interface QueryOptions {
  readonly format: OutputFormat;
  readonly bucket?: string;
  readonly athena?: boolean;
  readonly workgroup?: string;
  readonly database?: string;
  readonly verbose?: boolean;
}

/** `shardflow query "<SQL>"`: DuckDB over the results bucket, or Amazon Athena with `--athena`. */
export function registerQueryCommands(program: Command): void {
  program
    .command('query')
    .description(
      'Run SQL over the result tables: DuckDB over the local results bucket, or Amazon Athena with --athena',
    )
    .argument('<sql>', 'SQL; each result table is a view named after it (e.g. page_activity_minutely)')
    .addOption(new Option('-f, --format <format>', 'output format').choices(OUTPUT_FORMATS).default('table'))
    .option(
      '-b, --bucket <bucket>',
      "results bucket (default: the local deployment's ResultsBucketName output)",
    )
    .option('--athena', 'run on Amazon Athena in the deployed account instead of DuckDB')
    .option('--workgroup <name>', 'Athena workgroup (default: the AthenaWorkgroupName output)')
    .option(
      '--database <name>',
      'Glue database (default: the GlueDatabaseName output, else shardflow); locally the result views are also in a schema of that name',
    )
    .option('-v, --verbose', 'say which cloud and bucket the query reads, and what the mirror fetched')
    .addHelpText(
      'after',
      `
Athena/Trino functions work locally too: approx_percentile, approx_distinct, from_unixtime,
to_unixtime, date_format (MySQL-style %Y-%m-%d %H:%i:%s). Tables may be named as on Athena,
"shardflow"."page_activity_minutely"; the partition columns dt and hour are strings, as in Glue.

Example:
  $ shardflow query "SELECT page, sum(events) AS events FROM page_activity_minutely GROUP BY 1 ORDER BY 2 DESC LIMIT 5"`,
    )
    .action(
      cliAction(async (sql: string, options: QueryOptions) => {
        if (options.athena === true) {
          const outputs = readOutputs();
          const workGroup = options.workgroup ?? outputs?.AthenaWorkgroupName;
          if (workGroup === undefined) {
            throw new NotRunningError(
              'No Athena workgroup: pass --workgroup or run "shardflow deploy" first',
            );
          }
          const database = options.database ?? outputs?.GlueDatabaseName;
          const result = await runAthenaQuery(athenaClient(), sql, {
            workGroup,
            ...(database ? { database } : {}),
          });
          process.stdout.write(formatResult(result, options.format) + '\n');
          return;
        }
        await DuckDbQueryEngine.checkSyntax(sql);
        const { endpoint, source } = await localTarget();
        const clients = localClients(endpoint);
        await assertLocalCloudRunning(clients, endpoint);
        const bucket = await resolveResultsBucket(clients, options.bucket);
        if (options.verbose === true)
          process.stderr.write(`cloud ${endpoint} (from ${source}); results bucket ${bucket}\n`);
        const outputs = readOutputs();
        const database = options.database ?? outputs?.GlueDatabaseName;
        const [result] = await queryResults(
          {
            s3: clients.s3,
            bucket,
            ...(database !== undefined ? { database } : {}),
            // The recorded deployment's tables answer with 0 rows before their first window, as on Athena.
            ...(bucket === outputs?.ResultsBucketName
              ? { declared: declaredTables(outputs[TEMPLATE_OUTPUT]) }
              : {}),
            ...(options.verbose === true
              ? {
                  onMirror: (m: MirrorReport) =>
                    process.stderr.write(
                      `mirror ${m.dir} (${m.mirror}): ${m.fetched} objects fetched, ${m.reused} reused, ${m.deleted} removed in ${Math.round(m.ms)} ms\n`,
                    ),
                }
              : {}),
          },
          [sql],
        );
        if (result !== undefined) process.stdout.write(formatResult(result, options.format) + '\n');
      }),
    );
}
