import type { Readable, Writable } from 'node:stream';

export interface CliIo {
  stdout: Writable;
  stderr: Writable;
  stdin?: Readable;
  /** Colour output (stdout is a TTY and NO_COLOR is unset). */
  color: boolean;
}
