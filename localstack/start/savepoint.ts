/**
 * `shardflow savepoint` and `shardflow restore` behind the command line: a pipeline's cut read from its
 * state table (`functions/adapters/DynamoDBStateCut.ts`) written to S3 as a savepoint
 * (`functions/core/state/savepointFormat.ts`), and a savepoint read back, checked against the target table
 * and definition (`savepointCut.ts`) and written into the table.
 */
import { DescribeStreamSummaryCommand, ResourceNotFoundException } from '@aws-sdk/client-kinesis';
import { GetObjectCommand, NoSuchBucket, NoSuchKey, PutObjectCommand } from '@aws-sdk/client-s3';
import type { AwsClients } from '../../functions/adapters/aws';
import {
  readProgressPartition,
  readStateCut,
  writeStateItems,
} from '../../functions/adapters/DynamoDBStateCut';
import {
  restoreRefusal,
  restoreWrites,
  savedSnapshot,
  savepointManifest,
  SavepointError,
  type StreamIdentity,
} from '../../functions/core/state/savepointCut';
import {
  decodeSavepointItems,
  encodeSavepointItems,
  manifestText,
  parseManifest,
  SAVEPOINT_ITEMS,
  SAVEPOINT_MANIFEST,
  type SavepointManifest,
} from '../../functions/core/state/savepointFormat';
import { removeSupersededSessionObjects } from '../../functions/core/state/sessionObjectNames';
import type { UpgradeTarget } from '../../functions/core/state/upgradeCheck';
import { S3ObjectStore } from '../../functions/adapters/S3ObjectStore';
import { SdkDynamoDBStreamReader } from '../eventSourceMapping/SdkDynamoDBStreamReader';
import { isTableStream } from '../eventSourceMapping/streamEvent';

/** Where a savepoint lives: a bucket and a prefix that ends with `/` (or is empty). */
export interface SavepointLocation {
  readonly bucket: string;
  readonly prefix: string;
}

/** `s3://bucket/prefix/` of a location. */
export function locationUrl(location: SavepointLocation): string {
  return `s3://${location.bucket}/${location.prefix}`;
}

/** A location whose prefix ends with `/` (the savepoint's objects are under it). */
export function savepointLocation(bucket: string, prefix: string): SavepointLocation {
  return { bucket, prefix: prefix === '' || prefix.endsWith('/') ? prefix : `${prefix}/` };
}

/**
 * The stream named `name`: its name and creation time. A table's stream is named by its ARN, whose label is
 * its creation time: a table created again has another stream, whose positions the saved ones are not.
 */
async function streamIdentity(clients: AwsClients, name: string): Promise<StreamIdentity> {
  if (isTableStream(name)) return tableStreamIdentity(clients, name);
  try {
    const { StreamDescriptionSummary: summary } = await clients.kinesis.send(
      new DescribeStreamSummaryCommand({ StreamName: name }),
    );
    return { name, createdAt: summary?.StreamCreationTimestamp?.getTime() ?? 0 };
  } catch (error) {
    if (
      error instanceof ResourceNotFoundException ||
      (error as { name?: string }).name === 'ResourceNotFoundException'
    )
      throw new SavepointError(
        `Stream ${name} not found: shard positions are positions in the pipeline's stream; deploy the stack that reads it first`,
        { cause: error },
      );
    throw error;
  }
}

/** A table's stream by ARN: the ARN and the stream's creation time (DescribeStream). */
async function tableStreamIdentity(clients: AwsClients, arn: string): Promise<StreamIdentity> {
  try {
    const createdAt = await new SdkDynamoDBStreamReader(clients.dynamoDbStreams).streamCreatedAt(arn);
    // As for a Kinesis stream: 0 when the emulator tells no creation time.
    return { name: arn, createdAt: createdAt ?? 0 };
  } catch (error) {
    if ((error as { name?: string }).name === 'ResourceNotFoundException')
      throw new SavepointError(
        `Table stream ${arn} not found: shard positions are positions in the stream of the pipeline's table; deploy the stack that reads it first`,
        { cause: error },
      );
    throw error;
  }
}

/**
 * Reads the cut of `definition`'s pipeline from `stateTable` and writes it under `to`: the items first, the
 * manifest last (a prefix without a manifest holds no savepoint). Returns the manifest.
 */
export async function takeSavepoint(options: {
  readonly clients: AwsClients;
  readonly stateTable: string;
  readonly definition: UpgradeTarget;
  readonly stream: string;
  readonly to: SavepointLocation;
  readonly now: number;
}): Promise<SavepointManifest> {
  const { clients, to } = options;
  const name = options.definition.spec.name;
  const items = await readStateCut(clients.dynamoDb, options.stateTable, name);
  if (items.length === 0)
    throw new SavepointError(
      `Table ${options.stateTable} holds no state of pipeline ${name}: nothing to save (check --pipeline and --state-table)`,
    );
  const file = encodeSavepointItems(items);
  const manifest = savepointManifest({
    definition: options.definition,
    stream: await streamIdentity(clients, options.stream),
    takenAt: options.now,
    items,
    file: { bytes: file.body.byteLength, sha256: file.sha256 },
  });
  await clients.s3
    .send(
      new PutObjectCommand({
        Bucket: to.bucket,
        Key: `${to.prefix}${SAVEPOINT_ITEMS}`,
        Body: file.body,
        ContentType: 'application/gzip',
      }),
    )
    .catch((error: unknown) => {
      if (isNoSuchBucket(error))
        throw new SavepointError(
          `Bucket ${to.bucket} does not exist: --to must name an existing bucket (default: the results bucket)`,
          { cause: error },
        );
      throw error;
    });
  await clients.s3.send(
    new PutObjectCommand({
      Bucket: to.bucket,
      Key: `${to.prefix}${SAVEPOINT_MANIFEST}`,
      Body: manifestText(manifest),
      ContentType: 'application/json',
    }),
  );
  return manifest;
}

/** S3's answer for a bucket that does not exist (a typo in --from or --to). */
function isNoSuchBucket(error: unknown): boolean {
  return error instanceof NoSuchBucket || (error as { name?: string } | null)?.name === 'NoSuchBucket';
}

async function getObject(clients: AwsClients, bucket: string, key: string): Promise<Uint8Array> {
  try {
    const object = await clients.s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
    return (await object.Body?.transformToByteArray()) ?? new Uint8Array();
  } catch (error) {
    if (isNoSuchBucket(error))
      throw new SavepointError(
        `No savepoint at s3://${bucket}/${key.slice(0, key.lastIndexOf('/') + 1)} (bucket ${bucket} does not exist): give the prefix "shardflow savepoint" printed`,
        { cause: error },
      );
    if (error instanceof NoSuchKey || (error as { name?: string }).name === 'NoSuchKey')
      throw new SavepointError(
        `No savepoint at s3://${bucket}/${key.slice(0, key.lastIndexOf('/') + 1)} (no ${key.slice(key.lastIndexOf('/') + 1)}): give the prefix "shardflow savepoint" printed`,
        { cause: error },
      );
    throw error;
  }
}

/** Reads the savepoint under `from`: its manifest and its checked items. */
export async function readSavepoint(
  clients: AwsClients,
  from: SavepointLocation,
): Promise<{
  readonly manifest: SavepointManifest;
  readonly items: ReturnType<typeof decodeSavepointItems>;
}> {
  const manifest = parseManifest(
    Buffer.from(await getObject(clients, from.bucket, `${from.prefix}${SAVEPOINT_MANIFEST}`)).toString(
      'utf8',
    ),
  );
  const body = await getObject(clients, from.bucket, `${from.prefix}${SAVEPOINT_ITEMS}`);
  return { manifest, items: decodeSavepointItems(body, manifest) };
}

/**
 * Restores the savepoint under `from` into `stateTable` under the definition (and its stream) `targetFor`
 * gives for the pipeline the savepoint is of, unless `restoreRefusal` says why
 * not (thrown as a `SavepointError`, one line). For a session pipeline it first removes from the results
 * bucket the session objects the lost table's close passes wrote after the savepoint was cut, which the
 * restored pipeline emits again under names of its own (`sessionObjectNames.ts`). Returns the manifest, how
 * many items were written, and how many objects were removed.
 */
export async function restoreSavepoint(options: {
  readonly clients: AwsClients;
  readonly stateTable: string;
  readonly targetFor: (pipeline: string) => {
    readonly definition: UpgradeTarget & { readonly spec: { readonly sink?: { readonly table: string } } };
    readonly stream: string;
  };
  readonly from: SavepointLocation;
  /** The results bucket of the target pipeline; asked for only when it is a session pipeline. */
  readonly resultsBucket: () => Promise<string>;
  readonly onProgress?: (written: number, total: number) => void;
}): Promise<{
  readonly manifest: SavepointManifest;
  readonly written: number;
  readonly present: number;
  readonly removed: number;
}> {
  const { clients, stateTable } = options;
  const { manifest, items } = await readSavepoint(clients, options.from);
  const snapshot = savedSnapshot(manifest, items);
  const existing = await readProgressPartition(clients.dynamoDb, stateTable, manifest.pipeline);
  const target = options.targetFor(manifest.pipeline);
  const refusal = restoreRefusal({
    manifest,
    snapshot,
    items,
    existing,
    target: target.definition,
    table: stateTable,
    stream: await streamIdentity(clients, target.stream),
  });
  if (refusal !== undefined) throw new SavepointError(refusal);
  const { spec } = target.definition;
  // Before any item is written: no close pass of the restored pipeline can have written objects yet.
  const removed =
    spec.window?.kind === 'session' && spec.sink !== undefined
      ? await removeSupersededSessionObjects(
          new S3ObjectStore({ bucket: await options.resultsBucket(), client: clients.s3 }),
          spec.sink.table,
          snapshot.pipeline,
        )
      : 0;
  const { written, present } = await writeStateItems(
    clients.dynamoDb,
    stateTable,
    restoreWrites(items, existing),
    {
      ...(options.onProgress === undefined ? {} : { onProgress: options.onProgress }),
    },
  );
  return { manifest, written, present, removed };
}
