/**
 * The sizes of relay pipes. A larger pipe lets one splice pair move more
 * (a 64 KiB pipe costs sixteen times the system calls per megabyte of a
 * 1 MiB one), but pipe pages are a per-user budget: past
 * /proc/sys/fs/pipe-user-pages-soft the kernel gives every new pipe of the
 * user only two pages, this process's and any other's. So the pipes this
 * process grows take at most a quarter of that budget; the rest keep the
 * kernel's default. Root (CAP_SYS_RESOURCE) has no such limit.
 */
import { readFileSync } from 'node:fs';
import { binding } from '../native.js';

/** What a relay pipe asks for, within /proc/sys/fs/pipe-max-size (1 MiB by default). */
export const RELAY_PIPE_SIZE = 1024 * 1024;
/** The kernel's default pipe: 16 pages. */
export const PIPE_SIZE_DEFAULT = 64 * 1024;
const PAGE_SIZE = 4096;
/** The share of the user's soft pipe-page budget this process's grown pipes may take. */
const USER_PAGES_SHARE = 4;
const PIPE_MAX_SIZE_FILE = '/proc/sys/fs/pipe-max-size';
const PIPE_USER_PAGES_SOFT_FILE = '/proc/sys/fs/pipe-user-pages-soft';

let sizeAsked = 0;
let pagesAllowed = 0;
let pagesGrown = 0;

function readNumber(file: string): number | null {
  try {
    const value = Number(readFileSync(file, 'latin1').trim());
    return Number.isFinite(value) ? value : null;
  } catch {
    return null; // not readable (a sandbox): the kernel refuses what it must
  }
}

function readSettings(): void {
  if (sizeAsked !== 0) return;
  sizeAsked = Math.max(PIPE_SIZE_DEFAULT, Math.min(RELAY_PIPE_SIZE, readNumber(PIPE_MAX_SIZE_FILE) ?? RELAY_PIPE_SIZE));
  const soft = readNumber(PIPE_USER_PAGES_SOFT_FILE);
  // 0 means no soft limit; root is not held to it.
  pagesAllowed = process.getuid?.() === 0 || soft === 0 ? Infinity : Math.floor((soft ?? 0) / USER_PAGES_SHARE);
}

/**
 * Grows a fresh relay pipe (its write end) to RELAY_PIPE_SIZE when the
 * budget allows: its capacity in bytes. Give it back with releaseRelayPipe().
 */
export function sizeRelayPipe(writeFd: number): number {
  readSettings();
  if (pagesGrown + sizeAsked / PAGE_SIZE <= pagesAllowed) {
    const granted = binding.setPipeSize(writeFd, sizeAsked);
    if (granted > 0) {
      pagesGrown += granted / PAGE_SIZE;
      return granted;
    }
  }
  const size = binding.pipeSize(writeFd); // the default, or less for a user already past its pages
  return size > 0 ? size : PIPE_SIZE_DEFAULT;
}

/** A relay pipe of `capacity` bytes is closed: what it grew by goes back to the budget. */
export function releaseRelayPipe(capacity: number): void {
  if (capacity > PIPE_SIZE_DEFAULT) pagesGrown -= capacity / PAGE_SIZE;
}
