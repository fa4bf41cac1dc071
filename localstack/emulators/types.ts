import type { LocalService } from './constants';
import type { EmulatorExitStatus } from './EmulatorProcess';

/** A started, healthy emulator. */
export interface RunningEmulator {
  readonly service: LocalService;
  /** `http://127.0.0.1:<port>` of the emulator itself (not the edge). */
  readonly endpoint: string;
  /** Process group id of the emulator's process tree. */
  readonly pid: number;
  /** Milliseconds from spawn to the first successful API call. */
  readonly startupMs: number;
  /** Resolves when the emulator's process exits (after `stop()`, or on its own: a crash). */
  readonly exited: Promise<EmulatorExitStatus>;
  /** Stops the whole process group and removes any temporary data; idempotent. */
  stop(): Promise<void>;
}

/** Options every emulator accepts. */
export interface EmulatorOptions {
  /** Receives emulator output lines. */
  readonly log?: (line: string) => void;
  /** @default EMULATOR_START_TIMEOUT_MS */
  readonly timeoutMs?: number;
}
