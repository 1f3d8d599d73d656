import { createTwoFilesPatch, FILE_HEADERS_ONLY } from 'diff';
import type { FileChange } from '../fix/write-in-place.js';

/**
 * `--fix --diff`: a unified diff of every file --write would change, paths as read (apply it from the
 * directory meshmedic ran in with `patch -p0`, or jsdiff's applyPatches); a created file is diffed from /dev/null.
 */
export function unifiedDiff(changes: readonly FileChange[]): string {
  return changes
    .filter((c) => c.before !== c.after || c.isNew)
    .map(
      (c) =>
        createTwoFilesPatch(c.isNew ? '/dev/null' : c.file, c.file, c.before, c.after, undefined, undefined, {
          headerOptions: FILE_HEADERS_ONLY,
        }) ?? '',
    )
    .join('');
}
