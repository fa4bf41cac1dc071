/**
 * The answer of a Lambda-backed CloudFormation custom resource: one JSON document PUT to the request's
 * pre-signed `ResponseURL`. CloudFormation waits for it (up to an hour), so every invocation answers, a
 * failure included; its `Reason` is what `cdk deploy` prints for the failed resource.
 */
import type { CloudFormationCustomResourceEvent, CloudFormationCustomResourceResponse } from 'aws-lambda';
import { ShardflowError } from '../core/errors';

/** CloudFormation takes a response of at most 4 KB: the reason is cut well below that. */
const MAX_REASON_CHARS = 1_000;

/** The response URL refused the answer. */
export class CustomResourceResponseError extends ShardflowError {
  public constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'CustomResourceResponseError';
  }
}

/** What a custom resource's handler decided. */
export type CustomResourceOutcome =
  | { readonly ok: true; readonly data?: Readonly<Record<string, string>> }
  | { readonly ok: false; readonly reason: string };

/**
 * The response to `event`: SUCCESS or FAILED (with the reason on one line), under the physical id a Create
 * names (`physicalIdOnCreate`) and an Update or Delete keeps.
 */
export function customResourceResponse(
  event: CloudFormationCustomResourceEvent,
  physicalIdOnCreate: string,
  outcome: CustomResourceOutcome,
): CloudFormationCustomResourceResponse {
  const common = {
    PhysicalResourceId: event.RequestType === 'Create' ? physicalIdOnCreate : event.PhysicalResourceId,
    StackId: event.StackId,
    RequestId: event.RequestId,
    LogicalResourceId: event.LogicalResourceId,
  };
  if (outcome.ok)
    return { ...common, Status: 'SUCCESS', ...(outcome.data ? { Data: { ...outcome.data } } : {}) };
  const line = outcome.reason.replace(/\s*\n\s*/g, ' ');
  return {
    ...common,
    Status: 'FAILED',
    Reason: line.length > MAX_REASON_CHARS ? `${line.slice(0, MAX_REASON_CHARS - 1)}…` : line,
  };
}

/**
 * PUTs `response` to `url` (a pre-signed S3 URL on AWS; the local deployer's own URL locally). The body goes
 * as bytes, without a content type, as the pre-signed URL's signature expects.
 *
 * @throws CustomResourceResponseError when the URL does not take it.
 */
export async function sendCustomResourceResponse(
  url: string,
  response: CloudFormationCustomResourceResponse,
): Promise<void> {
  const reply = await fetch(url, { method: 'PUT', body: Buffer.from(JSON.stringify(response)) });
  if (!reply.ok)
    throw new CustomResourceResponseError(
      `The custom resource response was refused (HTTP ${reply.status} from the response URL)`,
    );
}
