import { Stack } from 'aws-cdk-lib';
import * as glue from 'aws-cdk-lib/aws-glue';
import { Construct } from 'constructs';
import { claimPhysicalName } from '../claims';
import { DEFAULT_GLUE_DATABASE } from '../../functions/core/constants';
import { Problems } from '../validation';

/** Props of {@link GlueCatalog}. */
export interface GlueCatalogProps {
  /**
   * Glue database name: 1–255 characters from `[a-z0-9_]`.
   * @default 'shardflow'
   */
  readonly databaseName?: string;
}

/** Glue (and Athena) identifiers: lower case letters, digits and underscores, at most 255. */
export const GLUE_NAME = /^[a-z0-9_]{1,255}$/;

/** Every problem with `props`, each naming the given value; empty when valid. */
export function validateGlueCatalogProps(props: GlueCatalogProps): string[] {
  return [
    ...new Problems().pattern(
      'Glue database name',
      props.databaseName,
      GLUE_NAME,
      '1-255 characters from [a-z0-9_]',
    ).all,
  ];
}

/** The Glue database holding one table per pipeline sink. */
export class GlueCatalog extends Construct {
  /** The database resource. */
  public readonly database: glue.CfnDatabase;
  /** The database name. */
  public readonly databaseName: string;

  public constructor(scope: Construct, id: string, props: GlueCatalogProps = {}) {
    super(scope, id);
    new Problems().addAll(validateGlueCatalogProps(props)).throwIfAny(`GlueCatalog '${this.node.path}'`);
    this.databaseName = props.databaseName ?? DEFAULT_GLUE_DATABASE;
    claimPhysicalName(
      this,
      'Glue database',
      this.databaseName,
      (other) =>
        `GlueCatalog '${this.node.path}': ${other} already creates Glue database '${this.databaseName}' in this account and region. Share that one (catalog) or give this one another databaseName`,
    );
    this.database = new glue.CfnDatabase(this, 'Database', {
      catalogId: Stack.of(this).account,
      databaseInput: {
        name: this.databaseName,
        description:
          'shardflow result tables (Parquet in the results bucket, partition projection on dt/hour)',
      },
    });
  }
}
