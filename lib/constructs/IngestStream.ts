import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import * as kinesis from 'aws-cdk-lib/aws-kinesis';
import { Construct } from 'constructs';
import { claimPhysicalName } from '../claims';
import { SOURCE_NAMES } from '../../functions/core/dsl/definitionChecks';
import { Problems } from '../validation';

/** Props of {@link IngestStream}. */
export interface IngestStreamProps {
  /**
   * Physical stream name (the pipeline's `source.stream`).
   * 1–128 characters from `[a-zA-Z0-9_.-]`, starting with a letter or digit.
   */
  readonly streamName: string;
  /**
   * Provisioned shard count, 1–10000.
   * @default - on-demand capacity mode
   */
  readonly shardCount?: number;
  /**
   * How long records stay readable, 24 hours – 365 days.
   * @default Duration.hours(24)
   */
  readonly retentionPeriod?: Duration;
  /**
   * What happens to the stream when it is removed from the stack.
   * @default RemovalPolicy.RETAIN
   */
  readonly removalPolicy?: RemovalPolicy;
}

/** Kinesis allows `[a-zA-Z0-9_.-]{1,128}`; the handlers also use the name as an S3 key segment, which must start with a letter or digit. */
/** Every problem with `props`, each naming the given value; empty when valid. */
export function validateIngestStreamProps(props: IngestStreamProps): string[] {
  return [
    ...new Problems()
      .pattern(
        'Stream name',
        props.streamName,
        SOURCE_NAMES.stream.pattern,
        '1-128 characters from [a-zA-Z0-9_.-], starting with a letter or digit',
      )
      .integerRange('Shard count', props.shardCount, 1, 10000)
      .durationRange('Retention period', props.retentionPeriod, Duration.hours(24), Duration.hours(8760)).all,
  ];
}

/**
 * The Kinesis data stream a pipeline reads: provisioned when a shard count is given, on-demand
 * otherwise, always encrypted with the AWS-managed `alias/aws/kinesis` key (consumers need no KMS
 * grant, and cdk-nag's KDS3 asks for exactly that key).
 */
export class IngestStream extends Construct {
  /** The stream built. */
  public readonly stream: kinesis.Stream;

  public constructor(scope: Construct, id: string, props: IngestStreamProps) {
    super(scope, id);
    const problems = new Problems().addAll(validateIngestStreamProps(props));
    problems.throwIfAny(`IngestStream '${this.node.path}'`);

    claimPhysicalName(
      this,
      'Kinesis stream',
      props.streamName,
      (other) =>
        `IngestStream '${this.node.path}': ${other} already creates stream '${props.streamName}' in this account and region. Give that stream to the pipeline (stream, or publishStream for the one it publishes to)`,
    );
    const provisioned = props.shardCount !== undefined;
    this.stream = new kinesis.Stream(this, 'Stream', {
      streamName: props.streamName,
      streamMode: provisioned ? kinesis.StreamMode.PROVISIONED : kinesis.StreamMode.ON_DEMAND,
      ...(provisioned ? { shardCount: props.shardCount } : {}),
      retentionPeriod: props.retentionPeriod ?? Duration.hours(24),
      encryption: kinesis.StreamEncryption.MANAGED,
      removalPolicy: props.removalPolicy ?? RemovalPolicy.RETAIN,
    });
  }
}
