/**
 * Static files under a root, over HTTP: sendfile bodies, Content-Length,
 * Content-Type by extension, Last-Modified / If-Modified-Since (304), one
 * Range per request (206, or 416 when unsatisfiable), HEAD.
 *
 * No request can read outside the root: the path is percent-decoded once,
 * strictly (bad escapes, NUL, backslashes and dot segments are refused),
 * joined to the root, and the real path of the result (symlinks resolved)
 * must still lie inside the root's real path. Refusals answer 404, so they
 * say nothing about what exists outside.
 */
import { constants as fsConstants } from 'node:fs';
import { open, realpath, type FileHandle } from 'node:fs/promises';
import { extname, join, sep } from 'node:path';
import type { Reactor, Server } from 'zepoll';
import { createHttpServer, type HttpRequest, type HttpResponse, type HttpServerOptions } from 'zepoll/http';

const CONTENT_TYPES: Readonly<Record<string, string>> = {
  '.html': 'text/html; charset=utf-8',
  '.htm': 'text/html; charset=utf-8',
  '.txt': 'text/plain; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.json': 'application/json',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.jpg': 'image/jpeg',
  '.jpeg': 'image/jpeg',
  '.gif': 'image/gif',
  '.webp': 'image/webp',
  '.ico': 'image/x-icon',
  '.wasm': 'application/wasm',
  '.pdf': 'application/pdf',
  '.bin': 'application/octet-stream',
};
const DEFAULT_TYPE = 'application/octet-stream';
/** Longest path accepted; longer ones are refused before touching the filesystem. */
const PATH_SIZE_MAX = 4096;

/** The decoded, checked segments of a request path, or null when it must be refused. */
export function safeSegments(path: string): string[] | null {
  if (!path.startsWith('/') || path.length > PATH_SIZE_MAX || path.includes('\\')) return null;
  let decoded: string;
  try {
    decoded = decodeURIComponent(path);
  } catch {
    return null; // a malformed escape
  }
  if (decoded.includes('\0') || decoded.includes('\\')) return null;
  const segments = decoded.split('/').filter((segment) => segment !== '' && segment !== '.');
  if (segments.some((segment) => segment === '..')) return null;
  return segments;
}

function notFound(response: HttpResponse): void {
  response.writeHead(404, { 'Content-Type': 'text/plain' });
  response.end('not found\n');
}

interface Range {
  readonly start: number;
  readonly end: number; // inclusive
}

/** One `bytes=` range against `size`: a Range, 'unsatisfiable', or null to ignore the header. */
export function parseRange(header: string, size: number): Range | 'unsatisfiable' | null {
  const match = /^bytes=(\d*)-(\d*)$/.exec(header.trim());
  if (match === null) return null; // several ranges or another unit: serve the whole file
  const [, first, last] = match;
  if (first === '' && last === '') return null;
  if (first === '') {
    const suffix = Number(last);
    if (suffix === 0) return 'unsatisfiable';
    return { start: Math.max(0, size - suffix), end: size - 1 };
  }
  const start = Number(first);
  const end = last === '' ? size - 1 : Math.min(Number(last), size - 1);
  if (start >= size || (last !== '' && Number(last) < start)) return 'unsatisfiable';
  return { start, end };
}

async function serve(rootReal: string, request: HttpRequest, response: HttpResponse): Promise<void> {
  if (request.method !== 'GET' && request.method !== 'HEAD') {
    response.writeHead(405, { Allow: 'GET, HEAD', 'Content-Type': 'text/plain' });
    response.end('method not allowed\n');
    return;
  }
  const segments = safeSegments(request.path);
  if (segments === null) return notFound(response);
  let file: FileHandle | null = null;
  try {
    let real = await realpath(join(rootReal, ...segments)).catch(() => null);
    if (real === null || (real !== rootReal && !real.startsWith(rootReal + sep))) return notFound(response);
    file = await open(real, fsConstants.O_RDONLY | fsConstants.O_NOFOLLOW);
    let info = await file.stat();
    if (info.isDirectory()) {
      await file.close();
      file = null;
      real = await realpath(join(real, 'index.html')).catch(() => '');
      if (real === '' || !real.startsWith(rootReal + sep)) return notFound(response);
      file = await open(real, fsConstants.O_RDONLY | fsConstants.O_NOFOLLOW);
      info = await file.stat();
    }
    if (!info.isFile()) return notFound(response);
    const modified = new Date(Math.floor(info.mtimeMs / 1000) * 1000);
    response.setHeader('Last-Modified', modified.toUTCString());
    response.setHeader('Accept-Ranges', 'bytes');
    const since = request.header('if-modified-since');
    if (since !== undefined && request.header('range') === undefined) {
      const sinceTime = Date.parse(since);
      if (!Number.isNaN(sinceTime) && modified.getTime() <= sinceTime) {
        response.writeHead(304);
        response.end();
        return;
      }
    }
    response.setHeader('Content-Type', CONTENT_TYPES[extname(real).toLowerCase()] ?? DEFAULT_TYPE);
    const rangeHeader = request.header('range');
    const range = rangeHeader === undefined ? null : parseRange(rangeHeader, info.size);
    if (range === 'unsatisfiable') {
      response.writeHead(416, { 'Content-Range': `bytes */${info.size}` });
      response.end();
      return;
    }
    if (range !== null) {
      response.writeHead(206, { 'Content-Range': `bytes ${range.start}-${range.end}/${info.size}` });
      await response.sendFile(file.fd, range.start, range.end - range.start + 1);
      return;
    }
    await response.sendFile(file.fd, 0, info.size);
  } catch {
    if (!response.sent && !response.finished && response.connection.isOpen) notFound(response);
  } finally {
    await file?.close();
  }
}

export function startStatic(reactor: Reactor, options: HttpServerOptions, root: string): Server {
  let rootReal: string | null = null;
  const ready = realpath(root).then((path) => (rootReal = path));
  return createHttpServer(
    reactor,
    (request, response) => {
      void (rootReal === null ? ready.then((path) => serve(path, request, response)) : serve(rootReal, request, response));
    },
    options,
  );
}
