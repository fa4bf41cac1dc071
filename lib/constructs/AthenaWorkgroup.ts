import * as athena from 'aws-cdk-lib/aws-athena';
import type * as s3 from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';
import { claimPhysicalName } from '../claims';
import { WINDOW_COLUMNS } from '../../functions/core/constants';
import { Problems } from '../validation';
import { ATHENA_RESULTS_PREFIX } from './ResultsBucket';
import type { ResultTable } from './ResultTable';

/** Props of {@link AthenaWorkgroup}. */
export interface AthenaWorkgroupProps {
  /**
   * Workgroup name, 1–128 characters from `[a-zA-Z0-9._-]`.
   * @default 'shardflow'
   */
  readonly workgroupName?: string;
  /** Bucket receiving query results under `athena-results/`. */
  readonly bucket: s3.IBucket;
  /** Glue database of the result tables. */
  readonly databaseName: string;
  /**
   * Per-query scan limit in bytes, at least 10 MB.
   * @default 10 GiB
   */
  readonly bytesScannedCutoffPerQuery?: number;
}

/** Every problem with `props`, each naming the given value; empty when valid. */
export function validateAthenaWorkgroupProps(
  props: Omit<AthenaWorkgroupProps, 'bucket' | 'databaseName'>,
): string[] {
  return [
    ...new Problems()
      .pattern(
        'Athena workgroup name',
        props.workgroupName,
        /^[a-zA-Z0-9._-]{1,128}$/,
        '1-128 characters from [a-zA-Z0-9._-]',
      )
      .integerRange(
        'Bytes scanned cutoff per query',
        props.bytesScannedCutoffPerQuery,
        10_000_000,
        Number.MAX_SAFE_INTEGER,
      ).all,
  ];
}

/**
 * The Athena workgroup for querying results: engine v3, its configuration enforced on every query,
 * results written SSE-S3 encrypted under `athena-results/`, plus sample named queries per table.
 */
export class AthenaWorkgroup extends Construct {
  /** The workgroup resource. */
  public readonly workgroup: athena.CfnWorkGroup;
  /** The workgroup name. */
  public readonly workgroupName: string;
  /** Glue database of the workgroup's configuration (each sample query runs in its own table's). */
  public readonly databaseName: string;

  public constructor(scope: Construct, id: string, props: AthenaWorkgroupProps) {
    super(scope, id);
    new Problems()
      .addAll(validateAthenaWorkgroupProps(props))
      .throwIfAny(`AthenaWorkgroup '${this.node.path}'`);
    this.workgroupName = props.workgroupName ?? 'shardflow';
    claimPhysicalName(
      this,
      'Athena workgroup',
      this.workgroupName,
      (other) =>
        `AthenaWorkgroup '${this.node.path}': ${other} already creates Athena workgroup '${this.workgroupName}' in this account and region. Share that one (athena) or give this one another workgroupName`,
    );
    this.databaseName = props.databaseName;
    this.workgroup = new athena.CfnWorkGroup(this, 'WorkGroup', {
      name: this.workgroupName,
      description: 'shardflow result queries',
      state: 'ENABLED',
      recursiveDeleteOption: true,
      workGroupConfiguration: {
        engineVersion: { selectedEngineVersion: 'Athena engine version 3' },
        enforceWorkGroupConfiguration: true,
        publishCloudWatchMetricsEnabled: true,
        bytesScannedCutoffPerQuery: props.bytesScannedCutoffPerQuery ?? 10 * 1024 ** 3,
        resultConfiguration: {
          outputLocation: `s3://${props.bucket.bucketName}/${ATHENA_RESULTS_PREFIX}`,
          encryptionConfiguration: { encryptionOption: 'SSE_S3' },
        },
      },
    });
  }

  /**
   * Adds sample named queries for `table`: the latest windows, and one day's windows by hour.
   * @returns the named queries created
   */
  public addSampleQueries(table: ResultTable): athena.CfnNamedQuery[] {
    // The table's own database: a workgroup shared by pipelines may serve tables of several.
    const fq = `"${table.databaseName}"."${table.tableName}"`;
    const samples = [
      {
        id: 'Latest',
        name: `${table.tableName}: latest windows`,
        sql: `SELECT * FROM ${fq}\nWHERE dt >= date_format(current_date - interval '1' day, '%Y-%m-%d')\nORDER BY ${WINDOW_COLUMNS.START} DESC\nLIMIT 100;`,
      },
      {
        id: 'PerHour',
        name: `${table.tableName}: windows per hour today`,
        sql: `SELECT dt, hour, count(*) AS windows, min(${WINDOW_COLUMNS.START}) AS first_window\nFROM ${fq}\nWHERE dt = date_format(current_date, '%Y-%m-%d')\nGROUP BY dt, hour\nORDER BY hour;`,
      },
    ];
    // Under the table, in its stack: a workgroup another stack shares then only gains a dependent (queries made
    // under the workgroup would depend on a table whose stack depends on the workgroup's: a cycle). The first
    // workgroup's ids are plain; another workgroup given the same table adds its path to them.
    const first = table.node.tryFindChild(`${samples[0]!.id}Query`) === undefined;
    const suffix = first ? '' : this.node.path.replace(/[^a-zA-Z0-9]/g, '');
    return samples.map((s) => {
      const query = new athena.CfnNamedQuery(table, `${s.id}Query${suffix}`, {
        name: s.name,
        description: `Sample query over ${table.tableName}`,
        database: table.databaseName,
        workGroup: this.workgroupName,
        queryString: s.sql,
      });
      query.addResourceDependency(this.workgroup);
      query.addResourceDependency(table.table);
      return query;
    });
  }
}
