import { spawn } from 'node:child_process';
import type { Command } from 'commander';
import { outputsFilePath } from '../../start/localTarget';
import { cliAction, CommandFailedError } from './cliAction';

/**
 * Runs the project's CDK CLI (`npx cdk …`) with inherited stdio and resolves with its exit code.
 * `npx --no-install` so a missing local install fails instead of downloading something.
 */
export function runCdk(args: readonly string[], cwd: string = process.cwd()): Promise<number> {
  return new Promise((resolve, reject) => {
    const child = spawn('npx', ['--no-install', 'cdk', ...args], { cwd, stdio: 'inherit', env: process.env });
    child.once('error', (error) =>
      reject(new CommandFailedError(`cannot run the CDK CLI: ${error.message}`, { cause: error })),
    );
    child.once('exit', (code, signal) => resolve(code ?? (signal !== null ? 128 : 1)));
  });
}

async function cdkOrFail(args: readonly string[]): Promise<void> {
  const code = await runCdk(args);
  if (code !== 0) throw new CommandFailedError(`cdk ${args[0] ?? ''} exited with code ${code}`);
}

/** `shardflow synth` and `shardflow deploy`: thin wrappers over the CDK CLI. */
export function registerCdkCommands(program: Command): void {
  program
    .command('synth')
    .description('Synthesize the CloudFormation template into cdk.out (offline; runs "cdk synth")')
    .argument('[cdkArgs...]', 'extra arguments for cdk synth (after --)')
    .allowUnknownOption()
    .action(cliAction(async (cdkArgs: string[]) => cdkOrFail(['synth', ...cdkArgs])));

  program
    .command('deploy')
    .description('Deploy the stack to the AWS account of the current credentials (runs "cdk deploy")')
    .argument('[cdkArgs...]', 'extra arguments for cdk deploy (after --), e.g. --require-approval never')
    .allowUnknownOption()
    .addHelpText(
      'after',
      `\nThe stack outputs are written to ${outputsFilePath()} so that "shardflow query --athena" finds the workgroup.`,
    )
    .action(
      cliAction(async (cdkArgs: string[]) =>
        cdkOrFail(['deploy', '--outputs-file', outputsFilePath(), ...cdkArgs]),
      ),
    );
}
