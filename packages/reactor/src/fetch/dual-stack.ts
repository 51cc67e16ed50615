/**
 * serve()'s default address: every interface, IPv4 and IPv6, as Node's
 * `server.listen(port)` (and so @hono/node-server) listens. The native
 * listen turns IPV6_V6ONLY off on an IPv6 socket, so `::` takes IPv4
 * clients too (as v4-mapped addresses). Where the kernel has no IPv6 (a
 * container without it, `ipv6.disable=1`), `::` cannot be bound and, as
 * Node does, the IPv4 wildcard is used instead.
 */

/** Every interface, IPv6 and (dual-stack) IPv4. */
export const SERVE_HOST_DEFAULT = '::';
/** Every IPv4 interface: the default where IPv6 is missing. */
const IPV4_ANY = '0.0.0.0';
/** The errors that say this kernel or namespace has no IPv6, rather than that the port is taken. */
const NO_IPV6_CODES: ReadonlySet<string> = new Set(['EAFNOSUPPORT', 'EADDRNOTAVAIL', 'EPROTONOSUPPORT']);

/** What listenDualStack() opened, and on which address. */
export interface Listening<T> {
  readonly value: T;
  readonly host: string;
}

/**
 * `listen(asked)` when an address was asked for; else `listen('::')`,
 * falling back to `listen('0.0.0.0')` when IPv6 is missing. Any other
 * error (EADDRINUSE, ...) is thrown as it came.
 */
export function listenDualStack<T>(asked: string | undefined, listen: (host: string) => T): Listening<T> {
  if (asked !== undefined) return { value: listen(asked), host: asked };
  try {
    return { value: listen(SERVE_HOST_DEFAULT), host: SERVE_HOST_DEFAULT };
  } catch (error) {
    const code = (error as { code?: unknown } | null)?.code;
    if (typeof code !== 'string' || !NO_IPV6_CODES.has(code)) throw error;
    return { value: listen(IPV4_ANY), host: IPV4_ANY };
  }
}
