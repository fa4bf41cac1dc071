import { Annotations, Token, Validations } from 'aws-cdk-lib';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import type * as sources from 'aws-cdk-lib/aws-lambda-event-sources';
import type * as nodejs from 'aws-cdk-lib/aws-lambda-nodejs';
import { Construct } from 'constructs';
import { SERVICE_NAMES } from '../../functions/core/constants';
import { Problems } from '../validation';
import {
  PipelineFunction,
  type PipelineFunctionOptions,
  type PipelineResourcesProps,
  pipelineResourceNames,
  pipelineSource,
  validatePipelineFunctionOptions,
} from './PipelineFunction';
import { S3FailureDestination } from './S3FailureDestination';
import {
  shardEventSource,
  type ShardEventSourceOptions,
  tableEventSource,
  validateShardEventSourceOptions,
  validateTableEventSourceOptions,
} from './ShardEventSource';

/** Default handler module of operator functions, relative to the repository root. */
/** Props of {@link OperatorFunction}. */
export interface OperatorFunctionProps extends PipelineResourcesProps {
  /**
   * Event source mapping settings.
   * @default - see `SHARD_EVENT_SOURCE_DEFAULTS`
   */
  readonly eventSource?: ShardEventSourceOptions;
  /**
   * Destination of batches that exhaust retries or age out.
   * @default - the results bucket, under Lambda's `aws/lambda/` prefix
   */
  readonly onFailure?: lambda.IEventSourceDlq;
}

/** Every problem with the sizing and event-source props, each naming the given value. */
export function validateOperatorFunctionProps(
  props: Pick<OperatorFunctionProps, keyof PipelineFunctionOptions | 'eventSource' | 'table'>,
): string[] {
  return [
    ...validatePipelineFunctionOptions('Operator function', props),
    ...validateShardEventSourceOptions(props.eventSource ?? {}),
    ...(props.table !== undefined ? validateTableEventSourceOptions(props.eventSource ?? {}) : []),
  ];
}

/**
 * The Lambda operator of one pipeline and its Kinesis event source mapping: validate → build →
 * grant (state table items, the pipeline's own bucket prefixes; the event source grants the stream
 * reads) → wire (mapping with bisect, bounded retries, max record age, partial batch responses and
 * an on-failure destination).
 */
export class OperatorFunction extends Construct {
  /** The operator function. */
  public readonly function: nodejs.NodejsFunction;
  /** The event source the mapping was created from (on the table's stream for a table source). */
  public readonly eventSource: sources.KinesisEventSource | sources.DynamoEventSource;

  public constructor(scope: Construct, id: string, props: OperatorFunctionProps) {
    super(scope, id);
    new Problems()
      .addAll(validateOperatorFunctionProps(props))
      .throwIfAny(`OperatorFunction '${this.node.path}'`);

    this.function = new PipelineFunction(this, 'Operator', {
      ...props,
      entry: props.entry,
      ...pipelineResourceNames(props),
      serviceName: SERVICE_NAMES.OPERATOR,
      description: `shardflow operator of pipeline ${props.pipeline}`,
    }).function;

    props.stateTable.grantStateAccess(this.function, props.pipeline);
    if (props.sinkTable !== undefined) props.resultsBucket.grantResultWrites(this.function, props.sinkTable);
    const source = pipelineSource(this, props);
    props.resultsBucket.grantSideOutputWrites(this.function, {
      stream: props.sourceName ?? source.name,
      ...(props.sinkTable !== undefined ? { table: props.sinkTable } : {}),
    });

    const onFailure = props.onFailure ?? new S3FailureDestination(props.resultsBucket.bucket);
    const options = props.eventSource ?? {};
    if (source.table !== undefined) {
      // The same settings on the table's stream. Binding grants the reads the mapping needs: DescribeStream,
      // GetRecords and GetShardIterator on that stream (DescribeStream is also the operator's shard lookup),
      // and ListStreams, which has no resource to scope it to.
      this.eventSource = tableEventSource(source.table, options, onFailure);
      this.function.addEventSource(this.eventSource);
      Validations.of(this).acknowledge({
        id: 'AwsSolutions-IAM5[Resource::*]',
        reason:
          'dynamodb:ListStreams, which the DynamoDB event source mapping needs, supports no resource-level permission; every other stream read is scoped to the table stream.',
      });
    } else {
      this.eventSource = shardEventSource(source.stream, options, onFailure);
      this.function.addEventSource(this.eventSource);
    }

    const factor = props.eventSource?.parallelizationFactor;
    if (factor !== undefined && !Token.isUnresolved(factor) && factor > 1) {
      Annotations.of(this).addWarningV2(
        'shardflow:parallelization-factor',
        `Parallelization factor ${factor} processes batches of one shard concurrently, so they can finish out of sequence order; ` +
          "the operator skips every record at or below its shard's last applied sequence number, so a lower batch that finishes " +
          'after a higher one is lost. Keep 1 for exactly-once results.',
      );
    }
  }
}
