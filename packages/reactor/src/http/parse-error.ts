/** The error a request parse ends with: the status to answer, then close. */
import { ZepollError } from '../errors.js';

export class HttpParseError extends ZepollError {
  /** The status to answer with before closing. */
  readonly status: number;
  constructor(status: number, message: string) {
    super('ERR_ZEPOLL_HTTP_PARSE', message);
    this.name = 'HttpParseError';
    this.status = status;
  }
}
