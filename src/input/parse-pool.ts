import { createRequire } from 'node:module';
import { availableParallelism, loadavg } from 'node:os';
import { pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';
import {
  checkDecoded,
  decodeInput,
  isSeparatorLine,
  looksLikeJson,
  normalizeNewlines,
  parseDecoded,
  parseYamlChunks,
  splitYaml,
  type Parsed,
  type ParsedDocument,
} from './parse-documents.js';

/** A part of a YAML file cut at a separator line (see cutAtSeparators), and the line of the file it starts on. */
export interface PartRequest {
  id: number;
  file: string;
  text: string;
  firstLine: number;
}

/** A part parsed (parse-worker.ts): its documents as JSON, but for those JSON would change, and its diagnostics. */
export interface PartResult {
  id: number;
  /** ParsedDocument[], without the `exact` ones. */
  json: string;
  /** The documents JSON cannot carry exactly, each with its index among the part's documents. */
  exact: { at: number; document: ParsedDocument }[];
  diagnostics: Parsed['diagnostics'];
}

export interface ParsePoolOptions {
  /** Worker threads at most; 0: everything is parsed on the calling thread. Default: defaultWorkers(). */
  workers?: number;
  /** The calling thread parses queued parts too, rather than wait for the workers (default true). */
  callerParses?: boolean;
  /** Worker threads start once this much YAML (UTF-16 units) has been given; then files from a part's length go to them. */
  minLength?: number;
  /** The shortest part a file is cut into (the longest is 16 times as long). */
  partLength?: number;
}

interface Task {
  request: PartRequest;
  resolve(parsed: Parsed): void;
  reject(err: Error): void;
}

interface PoolWorker {
  worker: Worker;
  task: Task | undefined;
}

/**
 * One worker per core but the caller's, less the cores the load average says are busy: a worker only
 * helps on a core nobody else uses (on a busy machine it costs about a quarter more CPU, for parsing
 * in two isolates and passing the documents back, and gains nothing).
 */
export function defaultWorkers(cores = availableParallelism(), load = loadavg()[0] ?? 0): number {
  return Math.max(0, Math.min(8, cores - 1, Math.floor(cores - load)));
}

const DEFAULTS: Omit<Required<ParsePoolOptions>, 'workers'> = {
  callerParses: true,
  minLength: 2 * 2 ** 20,
  partLength: 256 * 2 ** 10,
};
/** Parts per thread for a file, so that threads finish about together. */
const PARTS_PER_THREAD = 8;

/**
 * Parses files as parseDocuments does, the large YAML ones across threads: a file is cut at separator
 * lines into parts, the parts are parsed by the workers and the calling thread (each part with the line
 * it starts on), and their documents and diagnostics are put back in the file's order: exactly what
 * parseDocuments returns for the same text (file, line, write-back). JSON, and YAML until `minLength` has
 * been given, is parsed on the calling thread as it comes. A worker that fails has its part parsed on the
 * calling thread, and no worker is used after that. Call close() when done (idle workers never keep the
 * process alive).
 */
export class ParsePool {
  private readonly options: Required<ParsePoolOptions>;
  private readonly workers: PoolWorker[] = [];
  private readonly queue: Task[] = [];
  private nextId = 0;
  private yamlGiven = 0;
  private broken = false;
  private inWorkers = 0;

  constructor(options: ParsePoolOptions = {}) {
    this.options = { ...DEFAULTS, ...options, workers: options.workers ?? defaultWorkers() };
  }

  async parse(input: string | Uint8Array, file: string): Promise<Parsed> {
    const decoded = decodeInput(input);
    if (!this.dispatches(decoded.text)) return parseDecoded(decoded, file);
    const parts = cutAtSeparators(normalizeNewlines(decoded.text), this.partLengthFor(decoded.text.length));
    const results = Promise.all(parts.map((p) => this.run({ id: this.nextId++, file, ...p })));
    if (this.options.callerParses) await this.parseQueuedHere();
    return checkDecoded(concat(await results), decoded, file);
  }

  /** How many parts workers have parsed (0: everything was parsed on the calling thread). */
  get partsParsedInWorkers(): number {
    return this.inWorkers;
  }

  async close(): Promise<void> {
    const workers = this.workers.splice(0);
    await Promise.all(workers.map((w) => w.worker.terminate()));
  }

  private dispatches(text: string): boolean {
    if (this.options.workers <= 0 || this.broken || looksLikeJson(text)) return false;
    this.yamlGiven += text.length;
    return this.yamlGiven >= this.options.minLength && text.length >= this.options.partLength;
  }

  private partLengthFor(length: number): number {
    const { partLength, workers, callerParses } = this.options;
    const threads = workers + (callerParses ? 1 : 0);
    return Math.min(16 * partLength, Math.max(partLength, Math.ceil(length / (threads * PARTS_PER_THREAD))));
  }

  /** Queued parts parsed on this thread, one at a time; the workers' results come in between. */
  private async parseQueuedHere(): Promise<void> {
    for (let task = this.queue.shift(); task; task = this.queue.shift()) {
      task.resolve(parsePart(task.request));
      await new Promise((resolve) => setImmediate(resolve));
    }
  }

  /** A part parsed by a worker; on the calling thread if the workers failed. */
  private async run(request: PartRequest): Promise<Parsed> {
    try {
      return await new Promise<Parsed>((resolve, reject) => {
        this.queue.push({ request, resolve, reject });
        this.pump();
      });
    } catch {
      this.broken = true;
      return parsePart(request);
    }
  }

  /** Gives queued parts to idle workers, starting workers up to the limit. */
  private pump(): void {
    for (const w of this.workers) if (!w.task) this.assign(w);
    while (this.queue.length > 0 && this.workers.length < this.options.workers) this.assign(this.spawn());
  }

  private assign(w: PoolWorker): void {
    const task = this.queue.shift();
    w.task = task;
    if (!task) return void w.worker.unref();
    w.worker.ref();
    w.worker.postMessage(task.request);
  }

  private spawn(): PoolWorker {
    const w: PoolWorker = { worker: new Worker(WORKER.url, { execArgv: WORKER.execArgv }), task: undefined };
    this.workers.push(w);
    w.worker.on('message', (result: PartResult) => {
      const task = w.task;
      w.task = undefined;
      this.inWorkers++;
      task?.resolve(decodeResult(result));
      this.assign(w);
    });
    w.worker.on('error', (err) => this.fail(w, err instanceof Error ? err : new Error(String(err))));
    w.worker.on('exit', (code) => this.fail(w, new Error(`parse worker exited with code ${code}`)));
    return w;
  }

  /** A worker that failed is dropped; its part and every queued one go back to run() to be parsed here. */
  private fail(w: PoolWorker, err: Error): void {
    const at = this.workers.indexOf(w);
    if (at >= 0) this.workers.splice(at, 1);
    this.broken = true;
    w.task?.reject(err);
    w.task = undefined;
    for (const task of this.queue.splice(0)) task.reject(err);
  }
}

/** The worker script: from source (vitest, tsx), the .ts file through tsx; built, the .js file. */
const WORKER = ((): { url: URL; execArgv: string[] } => {
  const fromSource = import.meta.url.endsWith('.ts');
  const url = new URL(fromSource ? './parse-worker.ts' : './parse-worker.js', import.meta.url);
  return {
    url,
    execArgv: fromSource ? ['--import', pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href] : [],
  };
})();

/**
 * Cuts a YAML text (its newlines normalized) into parts of at least `length`, each ending just before a
 * separator line (isSeparatorLine), so that splitYaml cuts each part into the chunks it cuts the whole
 * text into. Each part comes with the line of the text it starts on.
 */
export function cutAtSeparators(text: string, length: number): { text: string; firstLine: number }[] {
  const parts: { text: string; firstLine: number }[] = [];
  let from = 0;
  let firstLine = 1;
  while (text.length - from > length) {
    const cut = separatorFrom(text, from + length);
    if (cut < 0) break;
    parts.push({ text: text.slice(from, cut - 1), firstLine });
    firstLine += newlines(text, from, cut);
    from = cut;
  }
  parts.push({ text: text.slice(from), firstLine });
  return parts;
}

/** The start of the first separator line that starts after `offset`; -1 if none. */
function separatorFrom(text: string, offset: number): number {
  for (let eol = text.indexOf('\n', offset - 1); eol >= 0; eol = text.indexOf('\n', eol + 1)) {
    const next = text.indexOf('\n', eol + 1);
    if (isSeparatorLine(text, eol + 1, next < 0 ? text.length : next)) return eol + 1;
  }
  return -1;
}

function newlines(text: string, from: number, to: number): number {
  let n = 0;
  for (let at = text.indexOf('\n', from); at >= 0 && at < to; at = text.indexOf('\n', at + 1)) n++;
  return n;
}

export function parsePart(request: PartRequest): Parsed {
  return parseYamlChunks(splitYaml(request.text, request.firstLine), request.file);
}

function decodeResult(result: PartResult): Parsed {
  const documents = JSON.parse(result.json) as ParsedDocument[];
  for (const { at, document } of result.exact) documents.splice(at, 0, document);
  return { documents, diagnostics: result.diagnostics };
}

function concat(results: Parsed[]): Parsed {
  const out: Parsed = { documents: [], diagnostics: [] };
  for (const r of results) {
    for (const d of r.documents) out.documents.push(d);
    for (const d of r.diagnostics) out.diagnostics.push(d);
  }
  return out;
}
