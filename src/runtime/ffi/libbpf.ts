// Bindings to libbpf.so.1 through koffi. Only what the runtime calls is bound, by soname, once per
// process. Struct layouts come from libbpf 1.1's /usr/include/bpf/{libbpf,bpf}.h; every opts struct
// starts with `size_t sz`, so a newer libbpf accepts the older (smaller) layout we pass.
import koffi, { type LibraryHandle } from 'koffi';
import { loadLibbpf } from './libbpf-load.js';

/**
 * A C pointer as koffi 3 hands it over: a bigint address, null for NULL. It carries no C type
 * (koffi 2's externals did), so nothing stops one reaching a parameter of another type: pass each
 * only where libbpf's prototype wants it.
 */
export type Pointer = unknown;

let lib: LibraryHandle | undefined;

function libbpfLibrary(): LibraryHandle {
  lib ??= loadLibbpf();
  return lib;
}

// Opaque handles: libbpf owns these objects; we only pass their pointers around.
koffi.opaque('bpf_object');
koffi.opaque('bpf_program');
koffi.opaque('bpf_map');
koffi.opaque('bpf_link');
koffi.opaque('perf_buffer');
koffi.opaque('user_ring_buffer');

/** struct bpf_object_open_opts (libbpf.h, 1.1). */
export const OpenOpts = koffi.struct('bpf_object_open_opts', {
  sz: 'size_t',
  object_name: 'const char *',
  relaxed_maps: 'bool',
  pin_root_path: 'const char *',
  attach_prog_fd_stub: 'uint32',
  kconfig: 'const char *',
  btf_custom_path: 'const char *',
  kernel_log_buf: 'void *',
  kernel_log_size: 'size_t',
  kernel_log_level: 'uint32',
  /** libbpf >= 1.4; passed only with a token (token.ts), the struct's size ending before it otherwise. */
  bpf_token_path: 'const char *',
});

/** struct bpf_uprobe_opts (libbpf.h, 1.1). */
export const UprobeOpts = koffi.struct('bpf_uprobe_opts', {
  sz: 'size_t',
  ref_ctr_offset: 'size_t',
  bpf_cookie: 'uint64',
  retprobe: 'bool',
  func_name: 'const char *',
});

/** struct bpf_usdt_opts (libbpf.h, 1.1). */
export const UsdtOpts = koffi.struct('bpf_usdt_opts', { sz: 'size_t', usdt_cookie: 'uint64' });

/** struct bpf_iter_attach_opts (libbpf.h): link_info points at a union bpf_iter_link_info. */
export const IterAttachOpts = koffi.struct('bpf_iter_attach_opts', {
  sz: 'size_t',
  link_info: 'void *',
  link_info_len: 'uint32',
});

/** struct bpf_tc_hook / bpf_tc_opts (libbpf.h). */
export const TcHook = koffi.struct('bpf_tc_hook', {
  sz: 'size_t',
  ifindex: 'int',
  attach_point: 'int',
  parent: 'uint32',
});
export const TcOpts = koffi.struct('bpf_tc_opts', {
  sz: 'size_t',
  prog_fd: 'int',
  flags: 'uint32',
  prog_id: 'uint32',
  handle: 'uint32',
  priority: 'uint32',
});

/** struct bpf_kprobe_multi_opts (libbpf.h, 1.1; 1.5 appends `bool session`). */
export const KprobeMultiOpts = koffi.struct('bpf_kprobe_multi_opts', {
  sz: 'size_t',
  syms: 'const char **',
  addrs: 'const void *',
  cookies: 'const void *',
  cnt: 'size_t',
  retprobe: 'bool',
  // libbpf 1.5+. An older libbpf takes the struct while this byte is 0 (OPTS_VALID: bytes past
  // its last field must be zero), and refuses it with EINVAL when it is set.
  session: 'bool',
});

/** struct bpf_uprobe_multi_opts (libbpf.h, 1.3; 1.6 appends `bool session`). */
export const UprobeMultiOpts = koffi.struct('bpf_uprobe_multi_opts', {
  sz: 'size_t',
  syms: 'const char **',
  offsets: 'const void *',
  ref_ctr_offsets: 'const void *',
  cookies: 'const void *',
  cnt: 'size_t',
  retprobe: 'bool',
  // libbpf 1.6+; as kprobe's.
  session: 'bool',
});

/** The head of struct bpf_link_create_opts (bpf.h): sz and flags are all XDP needs. */
export const LinkCreateOpts = koffi.struct('bpf_link_create_opts_head', { sz: 'size_t', flags: 'uint32' });

/** struct bpf_map_batch_opts (bpf.h). */
export const BatchOpts = koffi.struct('bpf_map_batch_opts', {
  sz: 'size_t',
  elem_flags: 'uint64',
  flags: 'uint64',
});

/** struct bpf_test_run_opts (bpf.h). */
export const TestRunOpts = koffi.struct('bpf_test_run_opts', {
  sz: 'size_t',
  data_in: 'void *',
  data_out: 'void *',
  data_size_in: 'uint32',
  data_size_out: 'uint32',
  ctx_in: 'void *',
  ctx_out: 'void *',
  ctx_size_in: 'uint32',
  ctx_size_out: 'uint32',
  retval: 'uint32',
  repeat: 'int',
  duration: 'uint32',
  flags: 'uint32',
  cpu: 'uint32',
  batch_size: 'uint32',
});

export const PrintFn = koffi.proto('int libbpf_print_fn_t(int level, void *fmt, void *ap)');
export const PerfSampleFn = koffi.proto(
  'void perf_buffer_sample_fn(void *ctx, int cpu, void *data, uint32 size)',
);
export const PerfLostFn = koffi.proto('void perf_buffer_lost_fn(void *ctx, int cpu, uint64 cnt)');

function bind() {
  const l = libbpfLibrary();
  const f = (decl: string) => l.func(decl);
  /** Binds a symbol that newer libbpf versions have; undefined where this one lacks it. */
  const optional = (decl: string) => {
    try {
      return l.func(decl);
    } catch {
      return undefined;
    }
  };
  return {
    libbpf_major_version: f('uint32 libbpf_major_version(void)'),
    libbpf_minor_version: f('uint32 libbpf_minor_version(void)'),
    libbpf_set_print: f('void *libbpf_set_print(libbpf_print_fn_t *fn)'),
    libbpf_num_possible_cpus: f('int libbpf_num_possible_cpus(void)'),
    libbpf_strerror: f('int libbpf_strerror(int err, _Out_ char *buf, size_t size)'),
    libbpf_probe_bpf_prog_type: f('int libbpf_probe_bpf_prog_type(int prog_type, const void *opts)'),
    libbpf_probe_bpf_map_type: f('int libbpf_probe_bpf_map_type(int map_type, const void *opts)'),

    bpf_object__open_mem: f(
      'bpf_object *bpf_object__open_mem(const void *buf, size_t sz, const bpf_object_open_opts *opts)',
    ),
    bpf_object__load: f('int bpf_object__load(bpf_object *obj)'),
    bpf_object__close: f('void bpf_object__close(bpf_object *obj)'),
    bpf_object__next_program: f('bpf_program *bpf_object__next_program(bpf_object *obj, bpf_program *prev)'),
    bpf_object__next_map: f('bpf_map *bpf_object__next_map(bpf_object *obj, bpf_map *prev)'),

    bpf_program__name: f('const char *bpf_program__name(bpf_program *prog)'),
    bpf_program__section_name: f('const char *bpf_program__section_name(bpf_program *prog)'),
    bpf_program__autoload: f('bool bpf_program__autoload(bpf_program *prog)'),
    bpf_program__set_autoload: f('int bpf_program__set_autoload(bpf_program *prog, bool autoload)'),
    bpf_program__fd: f('int bpf_program__fd(bpf_program *prog)'),
    bpf_program__type: f('int bpf_program__type(bpf_program *prog)'),
    bpf_program__set_log_level: f('int bpf_program__set_log_level(bpf_program *prog, uint32 level)'),
    bpf_program__log_level: f('uint32 bpf_program__log_level(bpf_program *prog)'),
    bpf_program__set_type: f('int bpf_program__set_type(bpf_program *prog, int type)'),
    bpf_program__expected_attach_type: f('int bpf_program__expected_attach_type(bpf_program *prog)'),
    bpf_program__set_expected_attach_type: f(
      'int bpf_program__set_expected_attach_type(bpf_program *prog, int type)',
    ),
    bpf_program__set_attach_target: f(
      'int bpf_program__set_attach_target(bpf_program *prog, int attach_prog_fd, const char *attach_func_name)',
    ),
    bpf_program__flags: f('uint32 bpf_program__flags(bpf_program *prog)'),
    bpf_program__set_flags: f('int bpf_program__set_flags(bpf_program *prog, uint32 flags)'),
    bpf_program__pin: f('int bpf_program__pin(bpf_program *prog, const char *path)'),
    bpf_program__unpin: f('int bpf_program__unpin(bpf_program *prog, const char *path)'),
    bpf_program__attach: f('bpf_link *bpf_program__attach(bpf_program *prog)'),
    bpf_program__attach_uprobe_opts: f(
      'bpf_link *bpf_program__attach_uprobe_opts(bpf_program *prog, int pid, const char *binary_path, size_t func_offset, const bpf_uprobe_opts *opts)',
    ),
    bpf_program__attach_kprobe: f(
      'bpf_link *bpf_program__attach_kprobe(bpf_program *prog, bool retprobe, const char *func_name)',
    ),
    bpf_program__attach_tracepoint: f(
      'bpf_link *bpf_program__attach_tracepoint(bpf_program *prog, const char *category, const char *name)',
    ),
    bpf_program__attach_raw_tracepoint: f(
      'bpf_link *bpf_program__attach_raw_tracepoint(bpf_program *prog, const char *name)',
    ),
    bpf_program__attach_trace: f('bpf_link *bpf_program__attach_trace(bpf_program *prog)'),
    bpf_program__attach_xdp: f('bpf_link *bpf_program__attach_xdp(bpf_program *prog, int ifindex)'),
    bpf_program__attach_cgroup: f('bpf_link *bpf_program__attach_cgroup(bpf_program *prog, int cgroup_fd)'),
    bpf_program__attach_perf_event: f('bpf_link *bpf_program__attach_perf_event(bpf_program *prog, int pfd)'),
    bpf_program__attach_usdt: f(
      'bpf_link *bpf_program__attach_usdt(bpf_program *prog, int pid, const char *binary_path, const char *usdt_provider, const char *usdt_name, const bpf_usdt_opts *opts)',
    ),
    bpf_program__attach_iter: f(
      'bpf_link *bpf_program__attach_iter(bpf_program *prog, const bpf_iter_attach_opts *opts)',
    ),
    bpf_iter_create: f('int bpf_iter_create(int link_fd)'),
    /** libbpf >= 1.3 only. */
    bpf_program__attach_tcx: optional(
      'bpf_link *bpf_program__attach_tcx(bpf_program *prog, int ifindex, const void *opts)',
    ),

    bpf_program__attach_kprobe_multi_opts: f(
      'bpf_link *bpf_program__attach_kprobe_multi_opts(bpf_program *prog, const char *pattern, const bpf_kprobe_multi_opts *opts)',
    ),
    bpf_program__attach_netns: f('bpf_link *bpf_program__attach_netns(bpf_program *prog, int netns_fd)'),
    /** libbpf >= 1.3 only. */
    bpf_program__attach_uprobe_multi: optional(
      'bpf_link *bpf_program__attach_uprobe_multi(bpf_program *prog, int pid, const char *binary_path, const char *func_pattern, const bpf_uprobe_multi_opts *opts)',
    ),

    /** Attaches a program to a map or other attachable fd (sockmap/sockhash programs). */
    bpf_prog_attach: f('int bpf_prog_attach(int prog_fd, int attachable_fd, int type, uint32 flags)'),
    bpf_prog_detach2: f('int bpf_prog_detach2(int prog_fd, int attachable_fd, int type)'),
    bpf_link__destroy: f('int bpf_link__destroy(bpf_link *link)'),
    bpf_link__fd: f('int bpf_link__fd(bpf_link *link)'),
    bpf_link__pin: f('int bpf_link__pin(bpf_link *link, const char *path)'),
    bpf_link__unpin: f('int bpf_link__unpin(bpf_link *link)'),
    bpf_link__open: f('bpf_link *bpf_link__open(const char *path)'),
    bpf_link_create: f(
      'int bpf_link_create(int prog_fd, int target_fd, int attach_type, const bpf_link_create_opts_head *opts)',
    ),

    bpf_tc_hook_create: f('int bpf_tc_hook_create(bpf_tc_hook *hook)'),
    bpf_tc_attach: f('int bpf_tc_attach(const bpf_tc_hook *hook, _Inout_ bpf_tc_opts *opts)'),
    bpf_tc_detach: f('int bpf_tc_detach(const bpf_tc_hook *hook, const bpf_tc_opts *opts)'),
    bpf_tc_query: f('int bpf_tc_query(const bpf_tc_hook *hook, _Inout_ bpf_tc_opts *opts)'),
    bpf_prog_query: f(
      'int bpf_prog_query(int target_fd, int type, uint32 query_flags, uint32 *attach_flags, uint32 *prog_ids, uint32 *prog_cnt)',
    ),
    /** libbpf >= 1.4 only: tells that libbpf knows BPF tokens (token.ts). */
    bpf_token_create: optional('int bpf_token_create(int bpffs_fd, const void *opts)'),
    /** libbpf >= 1.6 only: a program's BPF stream (stream.ts). */
    bpf_prog_stream_read: optional(
      'int bpf_prog_stream_read(int prog_fd, uint32 stream_id, void *buf, uint32 buf_len, const void *opts)',
    ),

    bpf_map__name: f('const char *bpf_map__name(bpf_map *map)'),
    bpf_map__type: f('int bpf_map__type(bpf_map *map)'),
    bpf_map__key_size: f('uint32 bpf_map__key_size(bpf_map *map)'),
    bpf_map__value_size: f('uint32 bpf_map__value_size(bpf_map *map)'),
    bpf_map__max_entries: f('uint32 bpf_map__max_entries(bpf_map *map)'),
    bpf_map__map_flags: f('uint32 bpf_map__map_flags(bpf_map *map)'),
    bpf_map__set_key_size: f('int bpf_map__set_key_size(bpf_map *map, uint32 size)'),
    bpf_map__set_value_size: f('int bpf_map__set_value_size(bpf_map *map, uint32 size)'),
    bpf_map__set_max_entries: f('int bpf_map__set_max_entries(bpf_map *map, uint32 max_entries)'),
    bpf_map__set_type: f('int bpf_map__set_type(bpf_map *map, int type)'),
    bpf_map__set_map_flags: f('int bpf_map__set_map_flags(bpf_map *map, uint32 flags)'),
    bpf_map__numa_node: f('uint32 bpf_map__numa_node(bpf_map *map)'),
    bpf_map__set_numa_node: f('int bpf_map__set_numa_node(bpf_map *map, uint32 numa_node)'),
    bpf_map__map_extra: f('uint64 bpf_map__map_extra(bpf_map *map)'),
    bpf_map__set_map_extra: f('int bpf_map__set_map_extra(bpf_map *map, uint64 map_extra)'),
    bpf_map__set_initial_value: f(
      'int bpf_map__set_initial_value(bpf_map *map, const void *data, size_t size)',
    ),
    bpf_map__set_inner_map_fd: f('int bpf_map__set_inner_map_fd(bpf_map *map, int fd)'),
    bpf_map__autocreate: f('bool bpf_map__autocreate(bpf_map *map)'),
    bpf_map__set_autocreate: f('int bpf_map__set_autocreate(bpf_map *map, bool autocreate)'),
    bpf_map__set_pin_path: f('int bpf_map__set_pin_path(bpf_map *map, const char *path)'),
    bpf_map__pin_path: f('const char *bpf_map__pin_path(bpf_map *map)'),
    bpf_map__btf_value_type_id: f('uint32 bpf_map__btf_value_type_id(bpf_map *map)'),
    bpf_map__btf_key_type_id: f('uint32 bpf_map__btf_key_type_id(bpf_map *map)'),
    bpf_map__fd: f('int bpf_map__fd(bpf_map *map)'),
    bpf_map__attach_struct_ops: f('bpf_link *bpf_map__attach_struct_ops(const bpf_map *map)'),
    bpf_map__is_internal: f('bool bpf_map__is_internal(bpf_map *map)'),
    bpf_map__initial_value: f('void *bpf_map__initial_value(bpf_map *map, _Out_ size_t *psize)'),
    bpf_map__pin: f('int bpf_map__pin(bpf_map *map, const char *path)'),
    bpf_map__unpin: f('int bpf_map__unpin(bpf_map *map, const char *path)'),

    bpf_map_lookup_elem_flags: f(
      'int bpf_map_lookup_elem_flags(int fd, const void *key, void *value, uint64 flags)',
    ),
    bpf_map_update_elem: f(
      'int bpf_map_update_elem(int fd, const void *key, const void *value, uint64 flags)',
    ),
    bpf_map_delete_elem: f('int bpf_map_delete_elem(int fd, const void *key)'),
    bpf_map_get_next_key: f('int bpf_map_get_next_key(int fd, const void *key, void *next_key)'),
    bpf_map_lookup_and_delete_elem: f(
      'int bpf_map_lookup_and_delete_elem(int fd, const void *key, void *value)',
    ),
    bpf_map_lookup_batch: f(
      'int bpf_map_lookup_batch(int fd, void *in_batch, void *out_batch, void *keys, void *values, _Inout_ uint32 *count, const bpf_map_batch_opts *opts)',
    ),
    bpf_map_update_batch: f(
      'int bpf_map_update_batch(int fd, const void *keys, const void *values, _Inout_ uint32 *count, const bpf_map_batch_opts *opts)',
    ),
    bpf_map_delete_batch: f(
      'int bpf_map_delete_batch(int fd, const void *keys, _Inout_ uint32 *count, const bpf_map_batch_opts *opts)',
    ),
    bpf_map_freeze: f('int bpf_map_freeze(int fd)'),

    bpf_obj_get: f('int bpf_obj_get(const char *pathname)'),
    bpf_prog_get_fd_by_id: f('int bpf_prog_get_fd_by_id(uint32 id)'),
    bpf_obj_pin: f('int bpf_obj_pin(int fd, const char *pathname)'),
    bpf_obj_get_info_by_fd: f('int bpf_obj_get_info_by_fd(int fd, void *info, _Inout_ uint32 *info_len)'),
    bpf_prog_test_run_opts: f('int bpf_prog_test_run_opts(int prog_fd, _Inout_ bpf_test_run_opts *opts)'),

    perf_buffer__new: f(
      'perf_buffer *perf_buffer__new(int map_fd, size_t page_cnt, perf_buffer_sample_fn *sample_cb, perf_buffer_lost_fn *lost_cb, void *ctx, const void *opts)',
    ),
    perf_buffer__consume: f('int perf_buffer__consume(perf_buffer *pb)'),
    perf_buffer__epoll_fd: f('int perf_buffer__epoll_fd(perf_buffer *pb)'),
    perf_buffer__buffer_cnt: f('size_t perf_buffer__buffer_cnt(perf_buffer *pb)'),
    /** The perf event fd of ring buf_idx (we map its ring a second time: see mapped.ts). */
    perf_buffer__buffer_fd: f('int perf_buffer__buffer_fd(perf_buffer *pb, size_t buf_idx)'),
    /** libbpf >= 1.0 (every libbpf.so.1): the per-CPU mmaped ring, starting with its header page. */
    perf_buffer__buffer: f(
      'int perf_buffer__buffer(perf_buffer *pb, int buf_idx, _Out_ void **buf, _Out_ size_t *buf_size)',
    ),
    perf_buffer__free: f('void perf_buffer__free(perf_buffer *pb)'),

    user_ring_buffer__new: f('user_ring_buffer *user_ring_buffer__new(int map_fd, const void *opts)'),
    user_ring_buffer__reserve: f('void *user_ring_buffer__reserve(user_ring_buffer *rb, uint32 size)'),
    user_ring_buffer__reserve_blocking: f(
      'void *user_ring_buffer__reserve_blocking(user_ring_buffer *rb, uint32 size, int timeout_ms)',
    ),
    user_ring_buffer__submit: f('void user_ring_buffer__submit(user_ring_buffer *rb, void *sample)'),
    user_ring_buffer__discard: f('void user_ring_buffer__discard(user_ring_buffer *rb, void *sample)'),
    user_ring_buffer__free: f('void user_ring_buffer__free(user_ring_buffer *rb)'),
  };
}

export type Libbpf = ReturnType<typeof bind>;
let bound: Libbpf | undefined;

/** The bound libbpf functions; loads libbpf (libbpf.so.1, or TSBPF_LIBBPF) on first use (ToolchainError when it cannot). */
export function libbpf(): Libbpf {
  bound ??= bind();
  return bound;
}

/** libbpf's version as [major, minor]. */
export function libbpfVersion(): [number, number] {
  const l = libbpf();
  return [l.libbpf_major_version() as number, l.libbpf_minor_version() as number];
}

/** errno of the last failed libbpf call that returned NULL (libbpf 1.x sets errno). */
export function lastErrno(): number {
  return koffi.errno();
}

export { koffi };
