import { LOCAL_SERVICES, type LocalService } from '../emulators/constants';

/** What the edge needs to know about a request to route it; a subset of `IncomingMessage`. */
export interface RoutableRequest {
  readonly url?: string | undefined;
  readonly headers: Readonly<Record<string, string | readonly string[] | undefined>>;
}

/** Where a request goes, or why it cannot go anywhere. */
export type Route =
  | { readonly service: LocalService; readonly by: 'authorization' | 'presigned-query' | 'target' }
  | { readonly service?: undefined; readonly error: string };

const SERVICES: ReadonlySet<string> = new Set(Object.values(LOCAL_SERVICES));

/** `X-Amz-Target` prefixes of the JSON protocols, for unsigned requests. */
const TARGET_PREFIXES: ReadonlyArray<readonly [string, LocalService]> = [
  ['Kinesis_', LOCAL_SERVICES.KINESIS],
  ['DynamoDB_', LOCAL_SERVICES.DYNAMODB],
  // DynamoDB Local serves its tables' streams; signed requests already name `dynamodb` in their scope.
  ['DynamoDBStreams_', LOCAL_SERVICES.DYNAMODB],
];

// `Credential=<key>/<date>/<region>/<service>/aws4_request`: the service is the fourth field.
const CREDENTIAL_IN_AUTHORIZATION = /Credential=([^,\s]+)/;
const MAX_HEADER_LENGTH = 8192;

function header(request: RoutableRequest, name: string): string | undefined {
  const value = request.headers[name];
  const first = Array.isArray(value) ? value[0] : value;
  return typeof first === 'string' && first.length <= MAX_HEADER_LENGTH ? first : undefined;
}

function scopeService(credential: string): string | undefined {
  const parts = credential.split('/');
  return parts.length === 5 && parts[4] === 'aws4_request' ? parts[3] : undefined;
}

function known(service: string | undefined): LocalService | undefined {
  return service !== undefined && SERVICES.has(service) ? (service as LocalService) : undefined;
}

function presignedCredential(url: string | undefined): string | undefined {
  if (url === undefined || !url.includes('?')) return undefined;
  try {
    return new URL(url, 'http://edge.invalid').searchParams.get('X-Amz-Credential') ?? undefined;
  } catch {
    return undefined;
  }
}

/**
 * Picks the emulator for a request the way LocalStack's edge does: by the service name in the SigV4
 * credential scope (`Authorization` header, or `X-Amz-Credential` of a presigned URL), falling back on
 * the `X-Amz-Target` prefix of the JSON protocols. Pure: no I/O, so it is unit tested exhaustively.
 *
 * @example
 * routeRequest({ headers: { authorization: 'AWS4-HMAC-SHA256 Credential=test/20260101/us-east-1/kinesis/aws4_request, ...' } });
 * // { service: 'kinesis', by: 'authorization' }
 */
export function routeRequest(request: RoutableRequest): Route {
  const authorization = header(request, 'authorization');
  const credential =
    authorization !== undefined ? CREDENTIAL_IN_AUTHORIZATION.exec(authorization)?.[1] : undefined;
  if (credential !== undefined) {
    const scoped = scopeService(credential);
    const service = known(scoped);
    if (service !== undefined) return { service, by: 'authorization' };
    return {
      error: `The local cloud does not emulate service '${scoped ?? credential}' (from the Authorization credential scope)`,
    };
  }
  const presigned = presignedCredential(request.url);
  if (presigned !== undefined) {
    const scoped = scopeService(presigned);
    const service = known(scoped);
    if (service !== undefined) return { service, by: 'presigned-query' };
    return {
      error: `The local cloud does not emulate service '${scoped ?? presigned}' (from X-Amz-Credential)`,
    };
  }
  const target = header(request, 'x-amz-target');
  if (target !== undefined) {
    const match = TARGET_PREFIXES.find(([prefix]) => target.startsWith(prefix));
    if (match !== undefined) return { service: match[1], by: 'target' };
    return { error: `The local cloud does not emulate the X-Amz-Target '${target}'` };
  }
  return {
    error:
      'Cannot tell which service this request is for: no SigV4 credential scope and no X-Amz-Target header',
  };
}
