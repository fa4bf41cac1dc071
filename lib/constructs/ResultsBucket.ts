import { Duration, RemovalPolicy, Validations } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as cxapi from 'aws-cdk-lib/cx-api';
import { Construct, type IConstruct } from 'constructs';
import { BUCKET_PREFIX } from '../../functions/core/constants';
import { rejectedResultsPrefix } from '../../functions/core/state/paths';
import { acknowledgeObjectPrefixGrants } from '../nag';
import { Problems } from '../validation';

/** Key prefix of Athena query results in the results bucket. */
export const ATHENA_RESULTS_PREFIX = 'athena-results/';

/**
 * Key prefix under which Lambda writes on-failure records of an S3 destination
 * (`aws/lambda/<esm-uuid>/<shard-id>/YYYY/MM/DD/...`); Lambda chooses it, not us.
 */
export const LAMBDA_FAILURE_PREFIX = 'aws/lambda/';

/** Props of {@link ResultsBucket}. */
export interface ResultsBucketProps {
  /**
   * An existing bucket to write to instead of creating one (the user's own, another stack's, or imported with
   * `Bucket.fromBucketName`). Nothing is added to it and `cdk destroy` leaves it: its encryption, TLS-only
   * policy (`enforceSSL`, refused at synth without it when the bucket is an `s3.Bucket` of the app), blocked
   * public access and lifecycle expiry of `clean/`, `rejected/`, `late/`, `failed-batches/`, `aws/lambda/` and
   * `athena-results/` are its owner's (an SSE-KMS key too: the functions are granted `kms:GenerateDataKey` on
   * it when the app knows it, so import such a bucket with `Bucket.fromBucketAttributes({ …, encryptionKey })`).
   * The other props apply to a created bucket only.
   * @default - a new bucket
   */
  readonly bucket?: s3.IBucket;
  /**
   * Days after which objects under `rejected/` (rejected records) and `rejected-results/` (result rows too big
   * for their stream) expire, 1–3650.
   * @default 30
   */
  readonly rejectedExpirationDays?: number;
  /**
   * Days after which objects under `late/` expire, 1–3650.
   * @default 30
   */
  readonly lateExpirationDays?: number;
  /**
   * Days after which the cleaned-record archive under `clean/` expires, 1–3650.
   * @default 90
   */
  readonly cleanExpirationDays?: number;
  /**
   * Days after which on-failure records (`failed-batches/` and Lambda's `aws/lambda/`) expire, 1–3650.
   * @default 14
   */
  readonly failedBatchExpirationDays?: number;
  /**
   * Days after which Athena query results (`athena-results/`) expire, 1–3650.
   * @default 7
   */
  readonly athenaResultsExpirationDays?: number;
  /**
   * Keep previous object versions (expired after 30 days).
   * @default false
   */
  readonly versioned?: boolean;
  /**
   * Write S3 server access logs to a dedicated, encrypted, TLS-only log bucket.
   * @default true
   */
  readonly serverAccessLogs?: boolean;
  /**
   * What happens to the bucket when removed from the stack.
   * @default RemovalPolicy.RETAIN
   */
  readonly removalPolicy?: RemovalPolicy;
}

const DAYS = [
  ['rejectedExpirationDays', 'Rejected record expiration'],
  ['lateExpirationDays', 'Late record expiration'],
  ['cleanExpirationDays', 'Clean archive expiration'],
  ['failedBatchExpirationDays', 'Failed batch expiration'],
  ['athenaResultsExpirationDays', 'Athena results expiration'],
] as const;

/** Every problem with `props`, each naming the given value; empty when valid. */
export function validateResultsBucketProps(props: ResultsBucketProps): string[] {
  const problems = new Problems();
  for (const [prop, label] of DAYS) problems.integerRange(`${label} (days)`, props[prop], 1, 3650);
  const given = props.bucket;
  if (given !== undefined) {
    const created = [
      ...DAYS.map(([prop]) => prop),
      'versioned',
      'serverAccessLogs',
      'removalPolicy',
    ] as const;
    const set = created.filter((prop) => props[prop] !== undefined);
    problems.check(
      set.length > 0,
      `${set.join(', ')} apply to a created bucket only: the given bucket stays as its owner made it`,
    );
    problems.check(
      given instanceof s3.Bucket && !deniesInsecureTransport(given),
      'The given bucket must refuse requests without TLS: create it with enforceSSL: true',
    );
  }
  return [...problems.all];
}

/**
 * Lets `grantee` put objects into `bucket` when a KMS key encrypts it (a given bucket with SSE-KMS, its key
 * known to the app: an `s3.Bucket` of it, or `Bucket.fromBucketAttributes` with `encryptionKey`): S3 refuses a
 * PutObject under SSE-KMS without `kms:GenerateDataKey` on the key. Nothing for SSE-S3.
 */
export function grantPutEncryption(bucket: s3.IBucket, grantee: iam.IGrantable): void {
  bucket.encryptionKey?.grant(grantee, 'kms:GenerateDataKey');
}

/** Whether `bucket`'s policy denies requests without TLS (what `enforceSSL` adds). */
function deniesInsecureTransport(bucket: s3.Bucket): boolean {
  const document = bucket.policy?.document.toJSON() as
    { Statement?: { Effect?: string; Condition?: { Bool?: Record<string, unknown> } }[] } | undefined;
  return (document?.Statement ?? []).some(
    (st) => st.Effect === 'Deny' && String(st.Condition?.Bool?.['aws:SecureTransport']) === 'false',
  );
}

/**
 * The bucket every pipeline writes to (DESIGN.md §5): results Parquet, the `clean/` archive, the
 * `rejected/` and `late/` side outputs, on-failure records and Athena results. SSE-S3, no public
 * access, TLS only, lifecycle expiry on everything except `results/`.
 */
export class ResultsBucket extends Construct {
  /** The results bucket: built, or the one given. */
  public readonly bucket: s3.IBucket;
  /** The server access log bucket, when enabled. */
  public readonly accessLogBucket?: s3.Bucket;

  public constructor(scope: Construct, id: string, props: ResultsBucketProps = {}) {
    super(scope, id);
    const problems = new Problems().addAll(validateResultsBucketProps(props));
    problems.throwIfAny(`ResultsBucket '${this.node.path}'`);
    if (props.bucket !== undefined) {
      this.bucket = props.bucket;
      return;
    }

    const removalPolicy = props.removalPolicy ?? RemovalPolicy.RETAIN;
    // Let S3 log delivery write through a bucket policy instead of the legacy LogDeliveryWrite ACL,
    // whatever the app's feature flags say (the log bucket then enforces bucket-owner ownership).
    this.node.setContext(cxapi.S3_SERVER_ACCESS_LOGS_USE_BUCKET_POLICY, true);
    if (props.serverAccessLogs ?? true) {
      this.accessLogBucket = new s3.Bucket(this, 'AccessLogs', {
        encryption: s3.BucketEncryption.S3_MANAGED,
        blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
        enforceSSL: true,
        objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
        lifecycleRules: [{ id: 'expire-access-logs', expiration: Duration.days(90) }],
        removalPolicy,
      });
      Validations.of(this.accessLogBucket).acknowledge({
        id: 'AwsSolutions-S1',
        reason: 'This is the server access log bucket itself; logging it would log into itself.',
      });
    }

    const expire = (rule: string, prefix: string, days: number): s3.LifecycleRule => ({
      id: rule,
      prefix,
      expiration: Duration.days(days),
      abortIncompleteMultipartUploadAfter: Duration.days(1),
    });
    const failedDays = props.failedBatchExpirationDays ?? 14;
    this.bucket = new s3.Bucket(this, 'Bucket', {
      encryption: s3.BucketEncryption.S3_MANAGED,
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      enforceSSL: true,
      versioned: props.versioned ?? false,
      ...(this.accessLogBucket
        ? { serverAccessLogsBucket: this.accessLogBucket, serverAccessLogsPrefix: 'results-bucket/' }
        : {}),
      lifecycleRules: [
        expire('expire-rejected', BUCKET_PREFIX.REJECTED, props.rejectedExpirationDays ?? 30),
        expire('expire-rejected-results', BUCKET_PREFIX.REJECTED_RESULTS, props.rejectedExpirationDays ?? 30),
        expire('expire-late', BUCKET_PREFIX.LATE, props.lateExpirationDays ?? 30),
        expire('expire-clean', BUCKET_PREFIX.CLEAN, props.cleanExpirationDays ?? 90),
        expire('expire-failed-batches', BUCKET_PREFIX.FAILED_BATCHES, failedDays),
        expire('expire-lambda-failures', LAMBDA_FAILURE_PREFIX, failedDays),
        expire('expire-athena-results', ATHENA_RESULTS_PREFIX, props.athenaResultsExpirationDays ?? 7),
        ...(props.versioned
          ? [{ id: 'expire-noncurrent', noncurrentVersionExpiration: Duration.days(30) }]
          : []),
      ],
      removalPolicy,
    });
    if (!this.accessLogBucket) {
      Validations.of(this.bucket).acknowledge({
        id: 'AwsSolutions-S1',
        reason:
          'Server access logs were switched off by the serverAccessLogs prop; CloudTrail data events can be used instead.',
      });
    }
  }

  /**
   * Grants writing the objects of one result table (`results/<table>/`): window emission puts them
   * under deterministic keys, so a retry overwrites. Nothing else in the bucket.
   */
  public grantResultWrites(grantee: iam.IGrantable & IConstruct, table: string): void {
    const results = this.bucket.arnForObjects(`${BUCKET_PREFIX.RESULTS}${table}/*`);
    iam.Grant.addToPrincipal({ grantee, actions: ['s3:PutObject'], resourceArns: [results] });
    grantPutEncryption(this.bucket, grantee);
    acknowledgeObjectPrefixGrants(
      grantee,
      [results],
      `PutObject only, scoped to the objects of result table ${table}; keys are emission ids.`,
    );
  }

  /**
   * Grants writing the dead letters of one result table's rows that its stream could not carry
   * (`rejected-results/<table>/…/result-<digest>.jsonl`, `.sink({ toStream })`): put only, under deterministic
   * keys, in a prefix of their own: never under `rejected/`, where a pipeline's rejected records are (a
   * stream or source table may share the result table's name).
   */
  public grantResultDeadLetters(grantee: iam.IGrantable & IConstruct, table: string): void {
    const letters = this.bucket.arnForObjects(`${rejectedResultsPrefix(table)}*`);
    iam.Grant.addToPrincipal({ grantee, actions: ['s3:PutObject'], resourceArns: [letters] });
    grantPutEncryption(this.bucket, grantee);
    acknowledgeObjectPrefixGrants(
      grantee,
      [letters],
      `PutObject only, scoped to the dead letters of result table ${table}; keys are digests of result ids.`,
    );
  }

  /**
   * Grants what writing one pipeline's side outputs takes: put, list and delete under its stream's
   * `clean/<stream>/` and `rejected/<stream>/` and its table's `late/<table>/` (the processor writes a
   * batch object, then lists and deletes what an earlier, differently bisected attempt wrote for the
   * same first record). Listing is limited to those prefixes by an `s3:prefix` condition.
   */
  public grantSideOutputWrites(
    grantee: iam.IGrantable & IConstruct,
    names: { readonly stream: string; readonly table?: string },
  ): void {
    grantPutEncryption(this.bucket, grantee);
    this.grantSideOutputs(
      grantee,
      names,
      ['s3:PutObject', 's3:DeleteObject'],
      "Put/delete scoped to this pipeline's side-output prefixes (clean and rejected of its stream, late of its table); keys are per shard and sequence range.",
    );
  }

  /**
   * Grants what sweeping one pipeline's side outputs takes (the tick's sweep of idle shards,
   * `attemptOutputs.sweepIdle`): list and delete, no put, under the same prefixes as
   * {@link grantSideOutputWrites}.
   */
  public grantSideOutputSweep(
    grantee: iam.IGrantable & IConstruct,
    names: { readonly stream: string; readonly table?: string },
  ): void {
    this.grantSideOutputs(
      grantee,
      names,
      ['s3:DeleteObject'],
      "Delete scoped to this pipeline's side-output prefixes (clean and rejected of its stream, late of its table): the tick removes what attempts that never committed wrote.",
    );
  }

  private grantSideOutputs(
    grantee: iam.IGrantable & IConstruct,
    names: { readonly stream: string; readonly table?: string },
    actions: readonly string[],
    reason: string,
  ): void {
    // A publish-only pipeline (no result table) has no windows, so no late records.
    const prefixes = [
      `${BUCKET_PREFIX.CLEAN}${names.stream}/`,
      `${BUCKET_PREFIX.REJECTED}${names.stream}/`,
      ...(names.table === undefined ? [] : [`${BUCKET_PREFIX.LATE}${names.table}/`]),
    ];
    const objects = prefixes.map((prefix) => this.bucket.arnForObjects(`${prefix}*`));
    iam.Grant.addToPrincipal({ grantee, actions: [...actions], resourceArns: objects });
    grantee.grantPrincipal.addToPrincipalPolicy(
      new iam.PolicyStatement({
        actions: ['s3:ListBucket'],
        resources: [this.bucket.bucketArn],
        conditions: { StringLike: { 's3:prefix': prefixes.map((prefix) => `${prefix}*`) } },
      }),
    );
    acknowledgeObjectPrefixGrants(grantee, objects, reason);
  }
}
