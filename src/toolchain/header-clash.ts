// vmlinux.h already holds every type the kernel has; a source that also includes the kernel's
// UAPI headers (<linux/bpf.h>, <linux/if_ether.h>, ...) defines them twice, and clang answers
// with a hundred "redefinition" errors that never name the cause. This recognises that case in
// clang's diagnostics so the error can say it in one line.

/** The clash, when clang's diagnostics are vmlinux.h and UAPI headers redefining each other. */
export interface HeaderClash {
  /** The first UAPI header the diagnostics name (`linux/bpf.h`). */
  header: string;
  /** The #include of the source that the clash comes through (`probe.bpf.c:2`), when clang says so. */
  includedAt: string | undefined;
}

const redefinition = /error: (?:typedef )?redefinition of |error: typedef redefinition with different types/;
const uapiHeader = /\/include\/((?:linux|asm|asm-generic)\/[\w./-]+\.h)/;

export function findHeaderClash(diagnostics: string, source: string): HeaderClash | undefined {
  if (!redefinition.test(diagnostics) || !/vmlinux\.h:\d+/.test(diagnostics)) return undefined;
  const header = uapiHeader.exec(diagnostics)?.[1];
  if (header === undefined) return undefined;
  // clang's include stack starts at the line of the source that pulled the clash in.
  const name = source.split('/').pop() ?? source;
  const includedAt = new RegExp(`In file included from \\S*?${escapeRegExp(name)}:(\\d+):`).exec(
    diagnostics,
  )?.[1];
  return { header, includedAt: includedAt === undefined ? undefined : `${name}:${includedAt}` };
}

const escapeRegExp = (text: string): string => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/** The one line said instead of clang's redefinitions. */
export function describeHeaderClash(clash: HeaderClash): string {
  const where = clash.includedAt ? ` (at the #include on ${clash.includedAt})` : '';
  return `vmlinux.h and <${clash.header}>${where} both define the kernel's types, so clang reports each one as redefined`;
}

export const headerClashHint =
  'include vmlinux.h with only <bpf/...> headers (it already has every kernel type, and the enum constants), or only <linux/...> headers without vmlinux.h; #define the few macros vmlinux.h lacks (ETH_P_IP, TC_ACT_OK) yourself';
