/** The error a request parse ends with: the status to answer, then close. */
import { ZepollError } from '../errors.js';

/**
 * Why a request could not be parsed (code `ERR_ZEPOLL_HTTP_PARSE`), with
 * the status the server answers before it closes the connection.
 */
export class HttpParseError extends ZepollError {
  /** The status to answer with before closing. */
  readonly status: number;
  /** An error with code `ERR_ZEPOLL_HTTP_PARSE`, name 'HttpParseError' and `status`, the HTTP status to answer with. */
  constructor(status: number, message: string) {
    super('ERR_ZEPOLL_HTTP_PARSE', message);
    this.name = 'HttpParseError';
    this.status = status;
  }
}
