/**
 * The errno values the TypeScript layers compare hot-path results with, as
 * results arrive: negative (`-errno`). Taken from Node's own table of the
 * running system (os.constants.errno), never written as bare numbers.
 */
import { constants } from 'node:os';

const table = constants.errno;

/** Nothing to read or no room to write: a value, not an error. */
export const EAGAIN = -table.EAGAIN;
/** A signal interrupted the call: retried at once (EINTR_RETRIES_MAX times). */
export const EINTR = -table.EINTR;
export const ENOTCONN = -table.ENOTCONN;
export const EIO = -table.EIO;
export const EMFILE = -table.EMFILE;
export const ENFILE = -table.ENFILE;
export const ECONNABORTED = -table.ECONNABORTED;
export const EPROTO = -table.EPROTO;
export const ENOBUFS = -table.ENOBUFS;
export const ENOMEM = -table.ENOMEM;
/** io_uring: a request was cancelled (a paused or closed stream's receive). */
export const ECANCELED = -table.ECANCELED;

/**
 * How often one call is retried after EINTR before it counts as the error
 * it is: a signal storm must not spin a turn forever.
 */
export const EINTR_RETRIES_MAX = 8;
