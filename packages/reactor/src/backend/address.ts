/**
 * Decoding the struct sockaddr that localAddress/peerAddress write, into
 * the `{ address, family, port }` shape of Node's `socket.address()`.
 */
import { binding, constants } from '../native.js';
import { ADDRESS_SIZE_MAX } from '../limits.js';
import { errnoError } from '../errors.js';

/** A socket's address, in the shape of Node's `socket.address()`. */
export interface SocketAddress {
  /** The address family. */
  readonly family: 'IPv4' | 'IPv6' | 'unix';
  /** The IP address as text (IPv6 in RFC 5952 form), or the Unix socket's path ('' when unnamed). */
  readonly address: string;
  /** The TCP port; 0 for a Unix socket. */
  readonly port: number;
}

const IPV4_OFFSET = 4; // sockaddr_in: family(2) port(2) addr(4)
const IPV6_OFFSET = 8; // sockaddr_in6: family(2) port(2) flowinfo(4) addr(16)
const UNIX_PATH_OFFSET = 2; // sockaddr_un: family(2) path(108)

/**
 * Decodes `size` bytes of a sockaddr.
 * @throws RangeError when the family is not AF_INET, AF_INET6 or AF_UNIX.
 */
export function decodeAddress(bytes: Uint8Array, size: number): SocketAddress {
  const view = new DataView(bytes.buffer, bytes.byteOffset, size);
  const family = view.getUint16(0, true);
  if (family === constants.AF_INET) {
    const parts = bytes.subarray(IPV4_OFFSET, IPV4_OFFSET + 4);
    return { family: 'IPv4', address: parts.join('.'), port: view.getUint16(2, false) };
  }
  if (family === constants.AF_INET6) {
    return { family: 'IPv6', address: formatIpv6(bytes.subarray(IPV6_OFFSET, IPV6_OFFSET + 16)), port: view.getUint16(2, false) };
  }
  if (family === constants.AF_UNIX) {
    const path = bytes.subarray(UNIX_PATH_OFFSET, size);
    const end = path.indexOf(0);
    return { family: 'unix', address: Buffer.from(end === -1 ? path : path.subarray(0, end)).toString(), port: 0 };
  }
  throw new RangeError(`unknown address family ${family}`);
}

/** RFC 5952: lower case, leading zeros dropped, the longest run of two or more zero groups as `::`. */
export function formatIpv6(bytes: Uint8Array): string {
  const groups: number[] = [];
  for (let index = 0; index < 16; index += 2) groups.push((bytes[index]! << 8) | bytes[index + 1]!);
  if (groups.slice(0, 5).every((group) => group === 0) && groups[5] === 0xffff) {
    return `::ffff:${bytes.subarray(12, 16).join('.')}`;
  }
  let bestStart = -1;
  let bestLength = 1; // a single zero group is not compressed
  for (let start = 0; start < 8; start += 1) {
    let length = 0;
    while (start + length < 8 && groups[start + length] === 0) length += 1;
    if (length > bestLength) {
      bestStart = start;
      bestLength = length;
    }
  }
  const hex = groups.map((group) => group.toString(16));
  if (bestStart === -1) return hex.join(':');
  return `${hex.slice(0, bestStart).join(':')}::${hex.slice(bestStart + bestLength).join(':')}`;
}

const scratch = new Uint8Array(ADDRESS_SIZE_MAX);

function addressOf(fd: number, side: 'local' | 'peer'): SocketAddress {
  const rc = side === 'local' ? binding.localAddress(fd, scratch) : binding.peerAddress(fd, scratch);
  if (rc < 0) throw errnoError(rc, side === 'local' ? 'getsockname' : 'getpeername', fd);
  return decodeAddress(scratch, rc);
}

/**
 * The socket's own address (getsockname).
 * @throws ZepollSystemError when getsockname fails (ENOTSOCK for a pipe).
 * @throws Error `ERR_ZEPOLL_FD_NOT_OWNED` when zepoll neither opened nor adopted `fd`.
 */
export function localAddress(fd: number): SocketAddress {
  return addressOf(fd, 'local');
}

/**
 * The connected peer's address (getpeername).
 * @throws ZepollSystemError when getpeername fails (ENOTCONN when not connected).
 * @throws Error `ERR_ZEPOLL_FD_NOT_OWNED` when zepoll neither opened nor adopted `fd`.
 */
export function peerAddress(fd: number): SocketAddress {
  return addressOf(fd, 'peer');
}
