import { execFileSync, spawn } from 'node:child_process';
import { constants, readdirSync } from 'node:fs';
import { chmod, mkdir, mkdtemp, open, symlink, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { readInputs, type ReadResult } from '../../src/input/read-inputs.js';
import { cli } from './run-cli-in-process.js';

const service = (name: string): string =>
  `apiVersion: v1\nkind: Service\nmetadata: {name: ${name}, namespace: foo}\nspec: {ports: [{port: 80}]}\n`;

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function tempTree(files: Record<string, string>): Promise<string> {
  const root = await mkdtemp(join(tmpdir(), 'meshmedic-read-'));
  // rm(1), not fs.rm: the tree may hold paths longer than PATH_MAX and directories without permissions.
  cleanups.push(() => void execFileSync('rm', ['-rf', root]));
  for (const [name, text] of Object.entries(files)) {
    await mkdir(join(root, name, '..'), { recursive: true });
    await writeFile(join(root, name), text);
  }
  return root;
}

/** What was read, relative to the root: files of the documents, and the diagnostics as `severity file: message`. */
function summary(root: string, r: ReadResult): { files: string[]; diagnostics: string[] } {
  return {
    files: r.documents.map((d) => relative(root, d.file)),
    diagnostics: r.diagnostics.map((d) => `${d.severity} ${relative(root, d.file)}: ${d.message}`),
  };
}

/** Fails instead of hanging when reading blocks (the bug: a FIFO opened while walking waits for a writer forever). */
async function withinSeconds<T>(seconds: number, p: Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new Error(`readInputs did not return within ${seconds}s (blocked on a FIFO?)`)),
      seconds * 1000,
    );
  });
  try {
    return await Promise.race([p, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/** Releases a reader blocked opening the FIFO (if any), so that a failing run does not keep a thread forever. */
async function unblock(fifo: string): Promise<void> {
  try {
    await (await open(fifo, constants.O_WRONLY | constants.O_NONBLOCK)).close();
  } catch {
    // ENXIO: nobody is reading it
  }
}

/**
 * A directory whose path is longer than PATH_MAX (4096 on Linux): stat/readdir fail with ENAMETOOLONG for
 * everyone, root included, unlike chmod 000. Built with relative `cd`s, which have no such limit.
 */
function tooLongDirectory(parent: string): string {
  const name = 'd'.repeat(250);
  const depth = Math.ceil(4200 / (name.length + 1));
  execFileSync('sh', [
    '-c',
    `cd "$1" && for i in $(seq ${depth}); do mkdir "$2" && cd -P "$2" || exit 1; done && echo 'kind: Service' > lost.yaml`,
    'sh',
    parent,
    name,
  ]);
  return join(parent, ...Array.from({ length: depth }, () => name));
}

describe('reading a directory tree', () => {
  it('an unreadable subdirectory skips only itself, naming its path and the OS error (ENAMETOOLONG: works as root)', async () => {
    const root = await tempTree({ 'a.yaml': service('a'), 'deep/b.yaml': service('b'), 'z.yaml': service('z') });
    tooLongDirectory(join(root, 'deep'));
    const r = summary(root, await readInputs([root]));
    expect(r.files).toEqual(['a.yaml', 'deep/b.yaml', 'z.yaml']);
    expect(r.diagnostics).toHaveLength(1);
    expect(r.diagnostics[0]).toMatch(
      /^error deep\/d{250}\/(d{250}\/)*d{250}: cannot read directory: ENAMETOOLONG: name too long, \w+ .*; skipped \(the rest is read\)$/,
    );
  });

  it('an unreadable (chmod 000) subdirectory skips only itself', async (ctx) => {
    const root = await tempTree({ 'a.yaml': service('a'), 'locked/b.yaml': service('b'), 'open/c.yaml': service('c') });
    const locked = join(root, 'locked');
    await chmod(locked, 0o000);
    cleanups.push(() => chmod(locked, 0o755));
    let blocked = true;
    try {
      readdirSync(locked);
      blocked = false;
    } catch {
      // EACCES, as wanted
    }
    // Root (CAP_DAC_OVERRIDE) reads a mode 000 directory anyway; the ENAMETOOLONG test above covers that case.
    if (!blocked) ctx.skip();
    const r = summary(root, await readInputs([root]));
    expect(r.files).toEqual(['a.yaml', 'open/c.yaml']);
    expect(r.diagnostics).toEqual([
      expect.stringMatching(
        /^error locked: cannot read directory: EACCES: permission denied, scandir '.*locked'; skipped/,
      ),
    ]);
  });

  it('a FIFO found walking is skipped without being opened; a FIFO named on the command line is read, like -', async () => {
    const root = await tempTree({ 'a.yaml': service('a'), 'source.txt': service('piped') });
    const walked = join(root, 'pipe.yaml');
    execFileSync('mkfifo', [walked]);
    cleanups.push(() => unblock(walked));
    const r = summary(root, await withinSeconds(3, readInputs([root])));
    expect(r.files).toEqual(['a.yaml']);
    expect(r.diagnostics).toEqual([
      'warning pipe.yaml: skipped: a FIFO, not a regular file; not opened (name it on the command line to read it)',
    ]);

    const named = join(root, 'named-pipe');
    execFileSync('mkfifo', [named]);
    cleanups.push(() => unblock(named));
    const writer = spawn('sh', ['-c', 'cat "$1" > "$2"', 'sh', join(root, 'source.txt'), named], { stdio: 'ignore' });
    const explicit = await withinSeconds(5, readInputs([named]));
    writer.kill();
    expect(explicit.diagnostics).toEqual([]);
    expect(
      explicit.documents.map((d) => [
        relative(root, d.file),
        (d.value as { metadata: { name: string } }).metadata.name,
      ]),
    ).toEqual([['named-pipe', 'piped']]);
  });

  it('sockets and devices found walking are skipped with a warning, not read', async () => {
    const root = await tempTree({ 'a.yaml': service('a') });
    const server: Server = createServer();
    await new Promise<void>((resolve) => server.listen(join(root, 'sock.yaml'), resolve));
    cleanups.push(() => new Promise<void>((resolve) => server.close(() => resolve())));
    await symlink('/dev/null', join(root, 'null.yaml'));
    const read = await readInputs([root]);
    expect(read.filesRead).toBe(1);
    expect(summary(root, read).diagnostics).toEqual([
      'warning null.yaml: skipped: a character device, not a regular file; not opened (name it on the command line to read it)',
      'warning sock.yaml: skipped: a socket, not a regular file; not opened',
    ]);
  });

  it('follows symbolic links, reads each directory and file once, and reports a loop once without walking it', async () => {
    const root = await tempTree({
      'tree/a.yaml': service('a'),
      'tree/sub/s.yaml': service('s'),
      'other/b.yaml': service('b'),
    });
    const tree = join(root, 'tree');
    await symlink('.', join(tree, 'loop'));
    await symlink('..', join(tree, 'sub', 'up'));
    await symlink('../other', join(tree, 'linked'));
    await symlink('sub', join(tree, 'alias-of-sub'));
    await symlink('a.yaml', join(tree, 'same-as-a.yaml'));
    await symlink('self.yaml', join(tree, 'self.yaml'));
    const r = summary(root, await withinSeconds(5, readInputs([tree])));
    expect(r.files).toEqual(['tree/a.yaml', 'tree/alias-of-sub/s.yaml', 'tree/linked/b.yaml']);
    expect(r.diagnostics).toEqual([
      `warning tree/alias-of-sub/up: symbolic link loop: leads back to ${tree}, which is being read; not followed`,
      `warning tree/loop: symbolic link loop: leads back to ${tree}, which is being read; not followed`,
      expect.stringMatching(
        /^error tree\/self\.yaml: cannot read: ELOOP: too many symbolic links encountered, stat '.*self\.yaml'; skipped$/,
      ),
    ]);
  });
});

describe('exit codes with partly unreadable input (README: 1 an input that could not be read, 2 nothing usable)', () => {
  it('exits 1, not 2, when a subdirectory cannot be read but the rest can; 2 when nothing usable is left', async () => {
    const root = await tempTree({ 'a.yaml': service('a') });
    const deep = join(root, 'deep');
    await mkdir(deep);
    tooLongDirectory(deep);
    const partly = await cli(['analyze', root, '-o', 'json']);
    expect(partly.code).toBe(1);
    expect(partly.err).toMatch(/error: .*\/deep\/d{250}.*: cannot read directory: ENAMETOOLONG/);
    const nothing = await cli(['analyze', deep]);
    expect(nothing.code).toBe(2);
    expect(nothing.err).toContain('nothing usable could be read');
  });
});

describe('no limit from recursion in reading', () => {
  it('reads a file of 130,000 documents whole (push(...array) overflowed the stack past about 122,000)', async () => {
    const root = await tempTree({
      'many.yaml': 'kind: Namespace\napiVersion: v1\nmetadata: {name: n}\n---\n'.repeat(130_000),
    });
    const r = await readInputs([join(root, 'many.yaml')]);
    expect(r.diagnostics.filter((d) => d.severity === 'error')).toEqual([]);
    expect(r.documents).toHaveLength(130_000);
  });
});
