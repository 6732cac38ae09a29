// BPF tokens (libbpf 1.4+, Linux 6.9+): a process in a user namespace, without CAP_BPF in the
// initial one, loads programs through a token that a bpffs mounted with delegate_cmds/maps/progs/
// attachs options grants. libbpf makes the token itself at load, from the bpffs path given in
// bpf_object_open_opts.bpf_token_path (this file) or the LIBBPF_BPF_TOKEN_PATH environment
// variable. The field is new in libbpf 1.4's struct bpf_object_open_opts (libbpf.h: after
// kernel_log_level), so it is passed, and the struct's size grown to hold it, only when asked for:
// libbpf 1.1 would refuse a larger struct whose extra bytes are not zero.
import { existsSync } from 'node:fs';
import { NotSupportedError, UsageError } from '../errors.js';
import { koffi, libbpf, libbpfVersion, OpenOpts } from './ffi/libbpf.js';

/** The size and token fields of bpf_object_open_opts for a load with (or without) bpfTokenPath. */
export function tokenOpenOpts(path: string | undefined): { sz: number; bpf_token_path: string | null } {
  if (path === undefined) return { sz: koffi.offsetof(OpenOpts, 'bpf_token_path'), bpf_token_path: null };
  if (!libbpf().bpf_token_create) {
    const [major, minor] = libbpfVersion();
    throw new NotSupportedError(
      `load option bpfTokenPath needs libbpf >= 1.4 (BPF tokens: bpf_token_create); this process loaded libbpf ${major}.${minor}`,
      {
        hint: 'install libbpf 1.4 or newer (Debian 13 ships 1.5) and point tsbpf at it: TSBPF_LIBBPF=/path/to/libbpf.so.1',
      },
    );
  }
  // '' is libbpf's "no token, not even from LIBBPF_BPF_TOKEN_PATH".
  if (path !== '' && !existsSync(path)) {
    throw new UsageError(`load option bpfTokenPath: ${path} does not exist`, {
      hint: 'give the folder where a bpffs with delegate_* mount options is mounted (docs/security.md, "Containers: BPF tokens")',
    });
  }
  return { sz: koffi.sizeof(OpenOpts), bpf_token_path: path };
}
