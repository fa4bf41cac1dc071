/**
 * The `shardflow` command line. Each area registers its commands here; this file stays a list of
 * registrations plus the error policy: a failing command prints one line on stderr and exits non-zero,
 * never a stack trace.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Command, CommanderError } from 'commander';
import { registerLocalCommands } from './commands/local';
import { registerQueryCommands } from './commands/query';
import { registerSendCommands } from './commands/send';
import { registerStartCommands } from './commands/start';
import { registerCdkCommands } from './commands/cdk';
import { registerRunCommands } from './commands/run';
import { registerStatusCommands } from './commands/status';
import { registerGenerateCommands } from './commands/generate';
import { registerReplayFailuresCommands } from './commands/replayFailures';
import { registerInitCommands } from './commands/init';
import { registerConsoleCommands } from './commands/console';
import { registerSavepointCommands } from './commands/savepoint';

/** The version of the installed package: its package.json sits two folders up (sources) or three (`dist/`). */
function packageVersion(): string {
  const path = [
    join(__dirname, '..', '..', 'package.json'),
    join(__dirname, '..', '..', '..', 'package.json'),
  ].find((p) => existsSync(p));
  if (path === undefined) return 'unknown';
  const manifest = JSON.parse(readFileSync(path, 'utf8')) as { version?: unknown };
  return typeof manifest.version === 'string' ? manifest.version : 'unknown';
}

/** Builds the program with every command registered (exported for tests). */
export function createProgram(): Command {
  const program = new Command('shardflow')
    .description('Stream processing on Kinesis, Lambda, DynamoDB and S3, runnable on a laptop.')
    .version(packageVersion(), '-V, --version', 'print the shardflow version')
    .showHelpAfterError('(run with --help for usage)')
    // Throw instead of exiting so main() owns the exit code; subcommands inherit this setting.
    .exitOverride();
  registerLocalCommands(program);
  registerQueryCommands(program);
  registerSendCommands(program);
  registerStartCommands(program);
  registerCdkCommands(program);
  registerRunCommands(program);
  registerStatusCommands(program);
  registerConsoleCommands(program);
  registerGenerateCommands(program);
  registerReplayFailuresCommands(program);
  registerSavepointCommands(program);
  registerInitCommands(program);
  return program;
}

/** Runs the CLI and resolves with the process exit code. */
export async function main(argv: readonly string[] = process.argv): Promise<number> {
  const program = createProgram();
  // `shardflow` alone is a request for help: usage on stdout, success.
  if (argv.length <= 2) {
    program.outputHelp();
    return 0;
  }
  try {
    await program.parseAsync([...argv]);
    return 0;
  } catch (error) {
    // Commander has already printed its own message (unknown option, --help, --version).
    if (error instanceof CommanderError) return error.exitCode;
    const message = error instanceof Error ? error.message : String(error);
    process.stderr.write(`shardflow: ${message.split('\n')[0] ?? message}\n`);
    return 1;
  }
}

if (require.main === module) {
  void main().then((code) => {
    process.exitCode = code;
  });
}
