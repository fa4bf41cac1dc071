import { Stack } from 'aws-cdk-lib';
import * as glue from 'aws-cdk-lib/aws-glue';
import type * as s3 from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';
import { BUCKET_PREFIX, PARTITION_COLUMNS } from '../../functions/core/constants';
import { MIN_EVENT_TIME } from '../../functions/core/engine/definition';
import { partitionDay } from '../../functions/core/state/paths';
import type { ColumnSpec, ColumnType } from '../../functions/core/types';
import type { GlueCatalog } from './GlueCatalog';
import { claim } from '../claims';

/** Hive/Athena type of each result column type (json is stored as a JSON string). */
export const GLUE_COLUMN_TYPES = {
  string: 'string',
  bigint: 'bigint',
  double: 'double',
  boolean: 'boolean',
  timestamp: 'timestamp',
  json: 'string',
} as const satisfies Record<ColumnType, string>;

/** Glue column of a result column, with its comment when the spec has one. */
export function glueColumn(column: ColumnSpec): glue.CfnTable.ColumnProperty {
  return {
    name: column.name,
    type: GLUE_COLUMN_TYPES[column.type],
    ...(column.comment !== undefined ? { comment: column.comment } : {}),
  };
}

/** Props of {@link ResultTable}. */
export interface ResultTableProps {
  /** Database the table belongs to. */
  readonly catalog: GlueCatalog;
  /** Bucket holding `results/<table>/dt=…/hour=…/*.parquet`. */
  readonly bucket: s3.IBucket;
  /** Table name: the pipeline's `sink.table`. */
  readonly tableName: string;
  /** Result columns in order (the pipeline's `columns`). */
  readonly columns: readonly ColumnSpec[];
  /**
   * First day of the `dt` projection range (`yyyy-MM-dd`); the range ends a day after NOW (a window may
   * start up to `maxEventTimeAhead`, at most a day, ahead of the clock). Athena skips objects outside it.
   * @default - the day of the earliest event time a pipeline accepts (2000-01-01); `ShardflowPipeline`
   * gives its window's earliest start
   */
  readonly firstDay?: string;
  /** Table comment. */
  readonly description?: string;
}

const PARQUET = {
  INPUT: 'org.apache.hadoop.hive.ql.io.parquet.MapredParquetInputFormat',
  OUTPUT: 'org.apache.hadoop.hive.ql.io.parquet.MapredParquetOutputFormat',
  SERDE: 'org.apache.hadoop.hive.ql.io.parquet.serde.ParquetHiveSerDe',
} as const;

/**
 * The Glue table over one sink's Parquet results, with partition projection on `dt`/`hour` so that
 * Athena finds new partitions without a crawler or `MSCK REPAIR TABLE` (DESIGN.md §5).
 */
export class ResultTable extends Construct {
  /** The table resource. */
  public readonly table: glue.CfnTable;
  /** Table name. */
  public readonly tableName: string;
  /** The Glue database it belongs to. */
  public readonly databaseName: string;
  /** `s3://<bucket>/results/<table>/`. */
  public readonly location: string;

  public constructor(scope: Construct, id: string, props: ResultTableProps) {
    super(scope, id);
    this.tableName = props.tableName;
    this.databaseName = props.catalog.databaseName;
    claim(
      props.catalog,
      props.tableName,
      this,
      (other) =>
        `ResultTable '${this.node.path}': Glue database '${this.databaseName}' already has table '${props.tableName}' (${other}). Give the pipeline another sink table or another catalog`,
    );
    this.location = `s3://${props.bucket.bucketName}/${BUCKET_PREFIX.RESULTS}${props.tableName}/`;
    const [dt, hour] = PARTITION_COLUMNS;
    this.table = new glue.CfnTable(this, 'Table', {
      catalogId: Stack.of(this).account,
      databaseName: props.catalog.databaseName,
      tableInput: {
        name: props.tableName,
        description: props.description ?? `shardflow results of sink ${props.tableName}`,
        tableType: 'EXTERNAL_TABLE',
        parameters: {
          classification: 'parquet',
          EXTERNAL: 'TRUE',
          'parquet.compression': 'SNAPPY',
          'projection.enabled': 'true',
          [`projection.${dt}.type`]: 'date',
          [`projection.${dt}.format`]: 'yyyy-MM-dd',
          [`projection.${dt}.range`]: `${props.firstDay ?? partitionDay(MIN_EVENT_TIME)},NOW+1DAYS`,
          [`projection.${dt}.interval`]: '1',
          [`projection.${dt}.interval.unit`]: 'DAYS',
          [`projection.${hour}.type`]: 'integer',
          [`projection.${hour}.range`]: '0,23',
          [`projection.${hour}.digits`]: '2',
          'storage.location.template': `${this.location}${dt}=\${${dt}}/${hour}=\${${hour}}/`,
        },
        partitionKeys: PARTITION_COLUMNS.map((name) => ({ name, type: 'string' })),
        storageDescriptor: {
          columns: props.columns.map(glueColumn),
          location: this.location,
          inputFormat: PARQUET.INPUT,
          outputFormat: PARQUET.OUTPUT,
          serdeInfo: { serializationLibrary: PARQUET.SERDE, parameters: { 'serialization.format': '1' } },
          compressed: true,
        },
      },
    });
    this.table.addResourceDependency(props.catalog.database);
  }
}
