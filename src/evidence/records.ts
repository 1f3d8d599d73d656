import { hasTextRecordStart } from './tokenize.js';

/**
 * Turns a sequence of lines into access-log records. A record is one line, except a pretty-printed JSON
 * object (`kubectl logs ... | jq .`, or a record pasted from a page, as in seed 000), which starts with a
 * line holding only `{` and runs until its braces balance. Bounded: a multi-line record longer than
 * `maxLines` lines or `maxChars` characters is given up (reported as malformed). A multi-line object that
 * was cut off is given up as soon as that shows: a line ends inside a JSON string (JSON strings hold no
 * line breaks), or the next record starts (a text record, or a `{` in the first column, where no line of a
 * pretty-printed object but its first one starts); that next record is then read as usual. Pure: no I/O.
 */
export interface LogRecord {
  text: string;
  /** 1-based line number where the record starts. */
  line: number;
  /** Set when the lines could not be assembled into a record. */
  error?: string;
}

export interface RecordLimits {
  maxLines: number;
  maxChars: number;
}

export const DEFAULT_RECORD_LIMITS: RecordLimits = { maxLines: 500, maxChars: 256 * 1024 };

export class RecordAssembler {
  private buffer: string[] = [];
  private chars = 0;
  private startLine = 0;
  private lineNo = 0;
  private depth = 0;
  private inString = false;
  private escaped = false;

  constructor(private readonly limits: RecordLimits = DEFAULT_RECORD_LIMITS) {}

  /** Feeds one line; returns the records it completes (usually one, none while inside a JSON object). */
  push(line: string): LogRecord[] {
    this.lineNo++;
    if (this.buffer.length === 0) return this.start(line);
    // The next record inside a JSON object means the object was cut: give it up and start over with this line.
    if (startsRecord(line)) {
      const cut = this.abandon('multi-line JSON object cut off by the next record');
      return [cut, ...this.start(line)];
    }
    this.buffer.push(line);
    this.chars += line.length + 1;
    this.scan(line);
    if (this.inString)
      return [this.abandon(`multi-line JSON object cut off: line ${this.lineNo} ends inside a string`)];
    if (this.depth === 0) {
      const rec = { text: this.buffer.join('\n'), line: this.startLine };
      this.reset();
      return [rec];
    }
    if (this.buffer.length > this.limits.maxLines || this.chars > this.limits.maxChars) {
      return [
        this.abandon(
          `multi-line JSON object longer than ${this.limits.maxLines} lines or ${this.limits.maxChars} characters`,
        ),
      ];
    }
    return [];
  }

  private start(line: string): LogRecord[] {
    if (line.trim() === '{') {
      this.begin(line);
      return [];
    }
    return [{ text: line, line: this.lineNo }];
  }

  /** At the end of input: an unfinished JSON object, if any. */
  flush(): LogRecord[] {
    return this.buffer.length > 0 ? [this.abandon('multi-line JSON object not closed at the end of the input')] : [];
  }

  private begin(line: string): void {
    this.buffer = [line];
    this.chars = line.length + 1;
    this.startLine = this.lineNo;
    this.depth = 0;
    this.inString = false;
    this.escaped = false;
    this.scan(line);
  }

  private abandon(error: string): LogRecord {
    const head = this.buffer.slice(0, 3).join('\n');
    const rec = { text: head, line: this.startLine, error };
    this.reset();
    return rec;
  }

  private reset(): void {
    this.buffer = [];
    this.chars = 0;
  }

  private scan(line: string): void {
    for (let i = 0; i < line.length; i++) {
      const c = line[i];
      if (this.inString) {
        if (this.escaped) this.escaped = false;
        else if (c === '\\') this.escaped = true;
        else if (c === '"') this.inString = false;
      } else if (c === '"') this.inString = true;
      else if (c === '{' || c === '[') this.depth++;
      else if (c === '}' || c === ']') this.depth--;
    }
  }
}

/** A line no pretty-printed JSON object continues with: a text record, or an object starting in the first column. */
function startsRecord(line: string): boolean {
  return line.startsWith('{') || /^\s*\[\d{4}-/.test(line) || hasTextRecordStart(line);
}
