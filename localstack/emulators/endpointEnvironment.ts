/**
 * The endpoint settings the local deployer gives the functions it runs, as the environment the shared
 * client factory (`functions/adapters/aws.ts`) and the SDK read: `AWS_ENDPOINT_URL` names the edge, and
 * `AWS_ENDPOINT_URL_<SERVICE>`, which both prefer, names each emulator itself when the cloud says where
 * they listen, so a function's request reaches its emulator without a hop through the edge. The edge only
 * routes by credential scope and answers health checks (it rewrites nothing), so going around it changes
 * no request. DynamoDB Local serves its tables' streams too. A cloud that names only its edge (LocalStack)
 * gets `AWS_ENDPOINT_URL` alone.
 */
import type { AwsService } from '../../functions/adapters/aws';
import type { LocalService } from './constants';

/** Where a cloud listens: its edge, and each emulator's own URL if known. */
export interface CloudEndpoints {
  readonly endpoint: string;
  readonly endpoints?: Readonly<Record<LocalService, string>>;
}

/**
 * The `AWS_ENDPOINT_URL*` variables for a function running on `cloud`.
 *
 * @example
 * endpointEnvironment(cloud);
 * // { AWS_ENDPOINT_URL: 'http://127.0.0.1:4566', AWS_ENDPOINT_URL_KINESIS: 'http://127.0.0.1:40123', … }
 */
export function endpointEnvironment(cloud: CloudEndpoints): Readonly<Record<string, string>> {
  const own = cloud.endpoints;
  const byService: Readonly<Partial<Record<AwsService, string>>> =
    own === undefined
      ? {}
      : { KINESIS: own.kinesis, DYNAMODB: own.dynamodb, DYNAMODB_STREAMS: own.dynamodb, S3: own.s3 };
  return {
    AWS_ENDPOINT_URL: cloud.endpoint,
    ...Object.fromEntries(
      Object.entries(byService).map(([service, url]) => [`AWS_ENDPOINT_URL_${service}`, url]),
    ),
  };
}
