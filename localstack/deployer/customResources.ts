/**
 * Runs a deployment's custom resources the way CloudFormation does: each function is invoked with a
 * CloudFormation request (`Create`: the local deployer keeps no previous template) whose `ResponseURL` is a
 * loopback endpoint of this process, and the deploy goes on only when the function PUT a SUCCESS there. A
 * FAILED answer (or none) stops the deploy with the function's reason, before any mapping or schedule runs
 * the new functions, as CloudFormation stops an update before the resources that depend on it.
 */
import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { FunctionDefinition } from '../eventSourceMapping/types';
import { CustomResourceFailedError } from './errors';
import type { EventInvoker } from './ScheduleRunner';
import type { CustomResourcePlan, Deployment } from './types';

/** CloudFormation hands every scalar property to the function as text. */
function asCloudFormationPasses(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(asCloudFormationPasses);
  if (typeof value === 'object' && value !== null)
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, asCloudFormationPasses(v)]));
  return typeof value === 'number' || typeof value === 'boolean' ? String(value) : value;
}

async function body(request: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of request) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

/** The response endpoint: one PUT per request id, kept until it is asked for. */
async function responseEndpoint(): Promise<{ server: Server; url: string; answers: Map<string, string> }> {
  const answers = new Map<string, string>();
  const server = createServer((request, reply) => {
    void body(request).then((text) => {
      if (request.method === 'PUT') answers.set(decodeURIComponent((request.url ?? '/').slice(1)), text);
      reply.writeHead(request.method === 'PUT' ? 200 : 405).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, answers };
}

/** What a function PUT, read as a hostile document: its status and reason. */
function answerOf(text: string | undefined): { status?: unknown; reason?: unknown } {
  if (text === undefined) return {};
  try {
    const parsed = JSON.parse(text) as { Status?: unknown; Reason?: unknown } | null;
    return { status: parsed?.Status, reason: parsed?.Reason };
  } catch {
    return { reason: 'the response was not JSON' };
  }
}

/**
 * Runs every custom resource of `deployment` in template order.
 * @throws CustomResourceFailedError naming the resource and its function's reason, at the first that fails.
 */
export async function runCustomResources(
  deployment: Pick<Deployment, 'customResources' | 'functions' | 'stackName' | 'region' | 'accountId'>,
  invoker: EventInvoker,
  log: (message: string) => void = () => {},
): Promise<void> {
  if (deployment.customResources.length === 0) return;
  const endpoint = await responseEndpoint();
  try {
    for (const resource of deployment.customResources) await run(resource);
  } finally {
    await new Promise((resolve) => endpoint.server.close(resolve));
  }

  async function run(resource: CustomResourcePlan): Promise<void> {
    const fn: FunctionDefinition | undefined = deployment.functions.find(
      (f) => f.functionName === resource.functionName,
    );
    if (fn === undefined)
      throw new CustomResourceFailedError(
        `${resource.logicalId}: function ${resource.functionName} is not deployed`,
      );
    const requestId = randomUUID();
    const event = {
      RequestType: 'Create',
      ServiceToken: resource.serviceToken,
      ResponseURL: `${endpoint.url}/${requestId}`,
      StackId: `arn:aws:cloudformation:${deployment.region}:${deployment.accountId}:stack/${deployment.stackName}/local`,
      RequestId: requestId,
      LogicalResourceId: resource.logicalId,
      ResourceType: resource.type,
      ResourceProperties: asCloudFormationPasses({
        ServiceToken: resource.serviceToken,
        ...resource.properties,
      }),
    };
    const outcome = await invoker.invokeEvent(fn, event, requestId);
    const { status, reason } = answerOf(endpoint.answers.get(requestId));
    if (status === 'SUCCESS') {
      log(`custom resource ${resource.logicalId} (${resource.type}): SUCCESS`);
      return;
    }
    const why =
      typeof reason === 'string' && reason !== ''
        ? reason
        : outcome.ok
          ? 'the function answered nothing'
          : `the function failed without answering (${outcome.errorType}: ${outcome.errorMessage})`;
    throw new CustomResourceFailedError(`${resource.logicalId} (${resource.type}) failed: ${why}`);
  }
}
