/**
 * One updating status line on a terminal; periodic plain lines elsewhere (CI logs, pipes), so logs
 * stay readable and never fill with carriage returns.
 */
export interface LiveLine {
  /** Replaces the status line (TTY) or prints it if `intervalMs` passed since the last one. */
  update(text: string): void;
  /** Prints a permanent line above the status line. */
  print(text: string): void;
  /** Ends the status line, printing its last text. */
  done(): void;
}

export function createLiveLine(stream: NodeJS.WriteStream = process.stdout, intervalMs = 5_000): LiveLine {
  const tty = stream.isTTY === true;
  let current = '';
  let lastPrinted = Number.NEGATIVE_INFINITY;
  let printedCurrent = false;
  return {
    update(text) {
      current = text;
      printedCurrent = false;
      if (tty) {
        stream.write(`\r\x1b[2K${text.slice(0, Math.max(20, (stream.columns || 120) - 1))}`);
        return;
      }
      const now = performance.now();
      if (now - lastPrinted >= intervalMs) {
        lastPrinted = now;
        printedCurrent = true;
        stream.write(`${text}\n`);
      }
    },
    print(text) {
      if (tty && current !== '') stream.write('\r\x1b[2K');
      stream.write(`${text}\n`);
      if (tty && current !== '') stream.write(current);
    },
    done() {
      if (tty) {
        if (current !== '') stream.write('\n');
      } else if (current !== '' && !printedCurrent) {
        stream.write(`${current}\n`);
      }
      current = '';
    },
  };
}
