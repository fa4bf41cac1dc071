/**
 * CPU time spent by the processes of a bench part: the bench process itself (its main thread and its
 * worker threads, `process.cpuUsage`) and the emulators' process groups (from `/proc`, Linux only).
 */
import { readdirSync, readFileSync } from 'node:fs';

/** `/proc/<pid>/stat` counts CPU time in USER_HZ ticks: 100 per second on Linux. */
const TICKS_PER_MS = 0.1;

/** User + system CPU ms of this process so far, all threads (workers included). */
export function ownCpuMs(): number {
  const { user, system } = process.cpuUsage();
  return (user + system) / 1000;
}

/**
 * User + system CPU ms so far of the live processes in each of the process groups `groups`, or undefined
 * where there is no `/proc` to read.
 */
export function processGroupCpuMs(groups: readonly number[]): Map<number, number> | undefined {
  let entries: string[];
  try {
    entries = readdirSync('/proc');
  } catch {
    return undefined;
  }
  const wanted = new Set(groups);
  const ms = new Map<number, number>(groups.map((g) => [g, 0]));
  for (const entry of entries) {
    if (!/^\d+$/.test(entry)) continue;
    let stat: string;
    try {
      stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
    } catch {
      continue; // exited meanwhile
    }
    // After "pid (comm) ": state ppid pgrp session tty_nr tpgid flags minflt cminflt majflt cmajflt utime stime
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const group = Number(fields[2]);
    if (!wanted.has(group)) continue;
    ms.set(group, (ms.get(group) ?? 0) + (Number(fields[11]) + Number(fields[12])) / TICKS_PER_MS);
  }
  return ms;
}
