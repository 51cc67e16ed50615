/**
 * A Response whose body is a file range that zepoll/fetch sends with
 * sendfile(2): the bytes go from the page cache to the socket and never
 * enter JavaScript. Anywhere else (a test calling `app.request()`, a
 * middleware reading the body) it is an ordinary Response whose body
 * streams the same bytes.
 */
import type { FileHandle } from 'node:fs/promises';
import { ZepollRangeError, invalidArgType } from '../errors.js';
import { integerOption } from '../validate.js';

/** What serve() needs to send a file response with sendfile. */
export interface FileBody {
  readonly file: FileHandle;
  readonly offset: number;
  readonly length: number;
}

/** The file responses made here, to their file range: looked up by serve(). */
export const FILE_BODIES: WeakMap<Response, FileBody> = new WeakMap();

/** How much a streamed file body reads at a time (outside zepoll/fetch). */
const FILE_READ_SIZE = 64 * 1024;

/** The options of fileResponse: a Response's own, and the range of the file to send. */
export interface FileResponseInit extends ResponseInit {
  /** Where the body starts in the file (default 0). */
  readonly offset?: number;
  /** How many bytes to send (default: to the end of the file). */
  readonly length?: number;
}

function fileStream(body: FileBody): ReadableStream<Uint8Array> {
  let position = body.offset;
  const end = body.offset + body.length;
  return new ReadableStream<Uint8Array>({
    async pull(controller) {
      const size = Math.min(FILE_READ_SIZE, end - position);
      const { bytesRead, buffer } = await body.file.read(new Uint8Array(size), 0, size, position);
      position += bytesRead;
      if (bytesRead > 0) controller.enqueue(buffer.subarray(0, bytesRead));
      if (bytesRead === 0 || position >= end) {
        controller.close();
        await body.file.close();
      }
    },
    async cancel() {
      await body.file.close();
    },
  }, { highWaterMark: 0 }); // nothing is read until a reader asks: serve() sends the file with sendfile, and a pull would close it first
}

/**
 * A Response for `length` bytes of an open file from `offset`, with its
 * Content-Length set. The Response owns the handle from here: it is closed
 * once the body has been sent (or read, or cancelled), and closed before
 * the error when the options are refused (the handle was given away, and
 * `fileResponse(await open(path), ...)` leaves the caller no name to close).
 * @throws TypeError `ERR_INVALID_ARG_TYPE` when `file` is not a FileHandle
 *   (nothing is closed then) or an option has the wrong type.
 * @throws RangeError `ERR_OUT_OF_RANGE` when the range is not within the file.
 */
export async function fileResponse(file: FileHandle, init: FileResponseInit = {}): Promise<Response> {
  if (typeof file !== 'object' || file === null || typeof (file as Partial<FileHandle>).stat !== 'function' || typeof file.fd !== 'number') {
    throw invalidArgType('file', 'a FileHandle (fs.promises.open)', file);
  }
  let body: FileBody;
  try {
    const size = (await file.stat()).size;
    const offset = integerOption('init.offset', init.offset, 0, 0, Number.MAX_SAFE_INTEGER);
    const length = integerOption('init.length', init.length, size - Math.min(offset, size), 0, Number.MAX_SAFE_INTEGER);
    if (offset + length > size) {
      throw new ZepollRangeError('ERR_OUT_OF_RANGE', `The range ${offset}..${offset + length} is past the end of the file (${size} bytes)`);
    }
    body = { file, offset, length };
  } catch (error) {
    await file.close();
    throw error;
  }
  const headers = new Headers(init.headers);
  headers.set('content-length', String(body.length));
  const response = new Response(fileStream(body), { status: init.status ?? 200, statusText: init.statusText ?? '', headers });
  FILE_BODIES.set(response, body);
  return response;
}
