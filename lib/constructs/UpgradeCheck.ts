import * as path from 'node:path';
import { CustomResource, Duration } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as nodejs from 'aws-cdk-lib/aws-lambda-nodejs';
import { Construct } from 'constructs';
import { SERVICE_NAMES } from '../../functions/core/constants';
import { progressPartitionKey, segmentPartitionKey } from '../../functions/core/state/keys';
import type { StateShape } from '../../functions/core/state/stateFingerprint';
import { OPEN_WINDOW_CHOICE, OPEN_WINDOWS_CONTEXT } from '../../functions/core/state/upgradeCheck';
import {
  UPGRADE_CHECK_RESOURCE_TYPE,
  upgradeCheckProperties,
} from '../../functions/core/state/upgradeCheckResource';
import { Problems } from '../validation';
import { HANDLERS_DIR } from './pipelineEntries';
import { PipelineFunction } from './PipelineFunction';
import type { StateTable } from './StateTable';

/**
 * What a deploy does with open windows an incompatible change cannot carry over: `refuse` fails the deploy
 * (with the one-line refusal), `discard` drops them (never emitted) and deploys.
 */
export type OpenWindowsChoice = 'refuse' | 'discard';

const CHOICES: readonly OpenWindowsChoice[] = ['refuse', 'discard'];

/** Props of {@link UpgradeCheck}. */
export interface UpgradeCheckProps {
  /** Pipeline name: the check reads (and may rewrite) its progress partition only. */
  readonly pipeline: string;
  /** The new definition's state shape (`CompiledPipeline.stateShape`). */
  readonly stateShape: StateShape;
  /** The new definition's allowed lateness in ms (when its windows close). */
  readonly allowedLatenessMs: number;
  readonly stateTable: StateTable;
  /**
   * What happens to open windows an incompatible change cannot carry over.
   * @default - the `shardflow:openWindows` context value (`-c shardflow:openWindows=discard`), else 'refuse'
   */
  readonly openWindows?: OpenWindowsChoice;
  /** The project whose `package-lock.json` pins the check's bundle. */
  readonly projectRoot: string;
}

/** The choice a scope states: the prop, else the `shardflow:openWindows` context; problems name a bad value. */
export function openWindowsChoice(
  scope: Construct,
  given: OpenWindowsChoice | undefined,
): { readonly choice: OpenWindowsChoice; readonly problems: string[] } {
  const value: unknown = given ?? scope.node.tryGetContext(OPEN_WINDOWS_CONTEXT) ?? 'refuse';
  const valid = CHOICES.includes(value as OpenWindowsChoice);
  return {
    choice: valid ? (value as OpenWindowsChoice) : 'refuse',
    problems: new Problems().check(
      !valid,
      `Open windows (${OPEN_WINDOWS_CONTEXT}) must be one of ${CHOICES.join(', ')} (given '${String(value)}')`,
    ).all as string[],
  };
}

/**
 * The stack-side upgrade check of one pipeline (issue 19): a `Custom::ShardflowUpgradeCheck` resource whose
 * properties are the new definition's state shape, fingerprint and allowed lateness and the open-window
 * choice, so CloudFormation runs it on every deploy that changes one of them. Its function
 * (`functions/handlers/upgradeCheckHandler.ts`) runs the deploy's upgrade gate on the pipeline's progress
 * partition and fails the resource with the one-line refusal when the change is incompatible under open
 * windows (or discards them when the user chose so). `ShardflowPipeline` makes its functions depend on
 * `resource`, which is what puts the check before them in a plain `cdk deploy`.
 */
export class UpgradeCheck extends Construct {
  /** The check's function. */
  public readonly function: nodejs.NodejsFunction;
  /** The custom resource: what the pipeline's functions depend on. */
  public readonly resource: CustomResource;

  public constructor(scope: Construct, id: string, props: UpgradeCheckProps) {
    super(scope, id);
    const { choice, problems } = openWindowsChoice(this, props.openWindows);
    new Problems().addAll(problems).throwIfAny(`UpgradeCheck '${this.node.path}'`);

    this.function = new PipelineFunction(this, 'Check', {
      pipeline: props.pipeline,
      entry: path.join(HANDLERS_DIR, 'upgradeCheckHandler.ts'),
      projectRoot: props.projectRoot,
      stateTableName: props.stateTable.table.tableName,
      serviceName: SERVICE_NAMES.UPGRADE_CHECK,
      description: `shardflow upgrade check of pipeline ${props.pipeline}`,
      memorySize: 256,
      timeout: Duration.minutes(2),
    }).function;

    // Least privilege: the pipeline's progress partition (the shard items, the pipeline item and the
    // registered shapes) and its segment partitions (the shapes of the segments open windows span), read;
    // the progress partition rewritten only when the user chose to discard (a conditional put per shard, and
    // a consistent read of the item a lost race left there).
    const table = props.stateTable.table.tableArn;
    this.function.addToRolePolicy(
      new iam.PolicyStatement({
        actions: ['dynamodb:Query'],
        resources: [table],
        conditions: {
          'ForAllValues:StringLike': {
            'dynamodb:LeadingKeys': [
              progressPartitionKey(props.pipeline),
              segmentPartitionKey(props.pipeline, '*'),
            ],
          },
        },
      }),
    );
    if (choice === 'discard')
      this.function.addToRolePolicy(
        new iam.PolicyStatement({
          actions: ['dynamodb:GetItem', 'dynamodb:PutItem'],
          resources: [table],
          conditions: {
            'ForAllValues:StringEquals': { 'dynamodb:LeadingKeys': [progressPartitionKey(props.pipeline)] },
          },
        }),
      );

    this.resource = new CustomResource(this, 'Resource', {
      serviceToken: this.function.functionArn,
      resourceType: UPGRADE_CHECK_RESOURCE_TYPE,
      // A function that dies without answering (out of memory, its timeout) fails the deploy after this,
      // not after CloudFormation's default hour.
      serviceTimeout: Duration.minutes(5),
      properties: upgradeCheckProperties({
        stateShape: props.stateShape,
        allowedLatenessMs: props.allowedLatenessMs,
        choice: choice === 'discard' ? OPEN_WINDOW_CHOICE.DISCARD : OPEN_WINDOW_CHOICE.NONE,
      }),
    });
  }
}
