// `node:fs` for the page: a read-only view of the bundled standard library (stdlib/*.sgan). The front
// end reads imports through it; every other path is reported as missing, the way Node reports it.
import { stdlibFiles } from '../stdlib.ts';

/**
 * Maps a path to its key in stdlibFiles. The front end derives the stdlib folder from its own module
 * URL, which in a bundle depends on where the page is served, so only the part from '/stdlib/' on
 * counts.
 */
function stdlibKey(path: string): string {
  const at = path.lastIndexOf('/stdlib/');
  return at < 0 ? path : path.slice(at);
}

function notFound(path: string): Error {
  const error = new Error(`ENOENT: no such file or directory, open '${path}'`) as Error & { code: string };
  error.code = 'ENOENT';
  return error;
}

export function readFileSync(path: string): string {
  const text = stdlibFiles.get(stdlibKey(path));
  if (text === undefined) throw notFound(path);
  return text;
}

export function readdirSync(path: string): string[] {
  const folder = stdlibKey(path.endsWith('/') ? path : `${path}/`);
  const names = [...stdlibFiles.keys()].filter((file) => file.startsWith(folder)).map((file) => file.slice(folder.length));
  if (names.length === 0) throw notFound(path);
  return names;
}

export function existsSync(path: string): boolean {
  return stdlibFiles.has(stdlibKey(path));
}

function unavailable(name: string): () => never {
  return () => {
    throw new Error(`fs.${name} is not available in the browser`);
  };
}

export const writeFileSync = unavailable('writeFileSync');
export const mkdirSync = unavailable('mkdirSync');
export const renameSync = unavailable('renameSync');
export const rmSync = unavailable('rmSync');
export const statSync = unavailable('statSync');

export default { readFileSync, readdirSync, existsSync, writeFileSync, mkdirSync, renameSync, rmSync, statSync };
