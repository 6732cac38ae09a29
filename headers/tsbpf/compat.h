/* SPDX-License-Identifier: MIT */
/*
 * tsbpf/compat.h: definitions that newer libbpf headers provide and older ones (libbpf 1.1,
 * as shipped by Debian 12) lack, so programs written against current libbpf compile on
 * older distributions. Written for tsbpf; every definition is guarded, so whatever the
 * installed libbpf defines wins.
 *
 * tsbpf's bpf/bpf_helpers.h, bpf/bpf_tracing.h and bpf/bpf_core_read.h wrappers include
 * this file after the real header. Each section below applies only once its libbpf header
 * has been seen (tested through that header's include guard), and this file may be read
 * several times: every definition is idempotent.
 */

#define __TSBPF_COMPAT__ 1

/* ---- from bpf_helpers.h (libbpf 1.2 - 1.6) ---- */
#ifdef __BPF_HELPERS__

#ifndef likely
#define likely(x) (__builtin_expect(!!(x), 1))
#endif
#ifndef unlikely
#define unlikely(x) (__builtin_expect(!!(x), 0))
#endif

/* A map attribute too wide for __uint()'s array size (e.g. a 64-bit map_extra): an enum
 * constant carries it into BTF. */
#ifndef __ulong
#define __ulong(name, val) enum { ___bpf_concat(__tsbpf_ulong_, __COUNTER__) = (val) } name
#endif

/* BTF type tags the verifier reads on kptr fields of map values. */
#if __has_attribute(btf_type_tag)
#define __TSBPF_TYPE_TAG(tag) __attribute__((btf_type_tag(tag)))
#else
#define __TSBPF_TYPE_TAG(tag)
#endif
#ifndef __kptr_untrusted
#define __kptr_untrusted __TSBPF_TYPE_TAG("kptr_untrusted")
#endif
#ifndef __percpu_kptr
#define __percpu_kptr __TSBPF_TYPE_TAG("percpu_kptr")
#endif
#ifndef __uptr
#define __uptr __TSBPF_TYPE_TAG("uptr")
#endif

/* Argument annotations of global subprograms, read by the verifier from BTF decl tags
 * ("arg:ctx", "arg:nonnull", ...). */
#if __has_attribute(btf_decl_tag)
#define __TSBPF_DECL_TAG(tag) __attribute__((btf_decl_tag(tag)))
#else
#define __TSBPF_DECL_TAG(tag)
#endif
#ifndef __arg_ctx
#define __arg_ctx __TSBPF_DECL_TAG("arg:ctx")
#endif
#ifndef __arg_nonnull
#define __arg_nonnull __TSBPF_DECL_TAG("arg:nonnull")
#endif
#ifndef __arg_nullable
#define __arg_nullable __TSBPF_DECL_TAG("arg:nullable")
#endif
#ifndef __arg_trusted
#define __arg_trusted __TSBPF_DECL_TAG("arg:trusted")
#endif
#ifndef __arg_untrusted
#define __arg_untrusted __TSBPF_DECL_TAG("arg:untrusted")
#endif
#ifndef __arg_arena
#define __arg_arena __TSBPF_DECL_TAG("arg:arena")
#endif

/* True when a __weak __ksym symbol resolved at load time. The assertion catches a symbol
 * declared without __weak, whose address the compiler would treat as a non-null constant. */
#ifndef bpf_ksym_exists
#define bpf_ksym_exists(sym) ({                                                   \
	_Static_assert(!__builtin_constant_p(!!(sym)), #sym " must be declared __weak"); \
	!!(sym);                                                                  \
})
#endif

/* Open-coded iterators (kernel 6.4+): the number iterator's kfuncs and the loops built on
 * them. struct bpf_iter_num itself comes from vmlinux.h. */
#ifndef __TSBPF_ITER_NUM_DECLARED
#define __TSBPF_ITER_NUM_DECLARED
struct bpf_iter_num;
extern int bpf_iter_num_new(struct bpf_iter_num *it, int start, int end) __weak __ksym;
extern int *bpf_iter_num_next(struct bpf_iter_num *it) __weak __ksym;
extern void bpf_iter_num_destroy(struct bpf_iter_num *it) __weak __ksym;
#endif

/* bpf_for_each(type, cur, args...): cur walks what bpf_iter_<type>_next() returns; the
 * iterator is destroyed when the loop is left (cleanup attribute). The bare reference to
 * the destroy kfunc makes clang emit its BTF, which cleanup() alone does not. */
#ifndef bpf_for_each
#define bpf_for_each(type, cur, args...)                                          \
	for (struct bpf_iter_##type __tsbpf_it                                    \
		     __attribute__((aligned(8), cleanup(bpf_iter_##type##_destroy))), \
	     *__tsbpf_once __attribute__((unused)) =                              \
		     (bpf_iter_##type##_new(&__tsbpf_it, ##args),                 \
		      (void)bpf_iter_##type##_destroy, (void *)0);                \
	     ((cur) = bpf_iter_##type##_next(&__tsbpf_it));)
#endif

/* bpf_for(i, start, end): i runs over [start, end); the range test tells the verifier the
 * bounds of i. */
#ifndef bpf_for
#define bpf_for(i, start, end)                                                    \
	for (struct bpf_iter_num __tsbpf_it                                       \
		     __attribute__((aligned(8), cleanup(bpf_iter_num_destroy))), \
	     *__tsbpf_once __attribute__((unused)) =                              \
		     (bpf_iter_num_new(&__tsbpf_it, (start), (end)),              \
		      (void)bpf_iter_num_destroy, (void *)0);                     \
	     ({                                                                   \
		     int *__tsbpf_cur = bpf_iter_num_next(&__tsbpf_it);           \
		     __tsbpf_cur && ((i) = *__tsbpf_cur, (i) >= (start) && (i) < (end)); \
	     });)
#endif

/* bpf_repeat(n): runs the body n times. */
#ifndef bpf_repeat
#define bpf_repeat(n)                                                             \
	for (struct bpf_iter_num __tsbpf_it                                       \
		     __attribute__((aligned(8), cleanup(bpf_iter_num_destroy))), \
	     *__tsbpf_once __attribute__((unused)) =                              \
		     (bpf_iter_num_new(&__tsbpf_it, 0, (n)),                      \
		      (void)bpf_iter_num_destroy, (void *)0);                     \
	     bpf_iter_num_next(&__tsbpf_it);)
#endif

#endif /* __BPF_HELPERS__ */

/* ---- from bpf_tracing.h (libbpf 1.2) ---- */
#ifdef __BPF_TRACING_H__

/* SEC("uprobe") and SEC("uretprobe") programs read arguments and return values from
 * struct pt_regs exactly as kprobes do. */
#ifndef BPF_UPROBE
#define BPF_UPROBE(name, args...) BPF_KPROBE(name, ##args)
#endif
#ifndef BPF_URETPROBE
#define BPF_URETPROBE(name, args...) BPF_KRETPROBE(name, ##args)
#endif

#endif /* __BPF_TRACING_H__ */

/* ---- from bpf_core_read.h (libbpf 1.3 - 1.4) ---- */
#ifdef __BPF_CORE_READ_H__

/* bpf_core_cast(ptr, type): a kernel pointer typed as `type`, readable directly (kernel
 * 6.4+, through the bpf_rdonly_cast kfunc). */
/* It needs __ksym and __weak from bpf_helpers.h: when bpf_core_read.h comes first, the
 * definition waits until bpf_helpers.h's wrapper reads this file again. */
#if !defined(bpf_core_cast) && defined(__BPF_HELPERS__)
extern void *bpf_rdonly_cast(const void *obj, __u32 btf_id) __ksym __weak;
#define bpf_core_cast(ptr, type) \
	((typeof(type) *)bpf_rdonly_cast((ptr), bpf_core_type_id_kernel(type)))
#endif

/* BPF_CORE_WRITE_BITFIELD(s, field, value): stores into a bitfield at the offset and width
 * the running kernel has (CO-RE relocated). Loads the word holding it, replaces the field's
 * bits, stores the word back. */
#ifndef BPF_CORE_WRITE_BITFIELD
#define BPF_CORE_WRITE_BITFIELD(s, field, new_val) ({                              \
	void *__tsbpf_p = (void *)(s) + __CORE_RELO(s, field, BYTE_OFFSET);        \
	unsigned int __tsbpf_size = __CORE_RELO(s, field, BYTE_SIZE);             \
	unsigned int __tsbpf_lsh = __CORE_RELO(s, field, LSHIFT_U64);             \
	unsigned int __tsbpf_rsh = __CORE_RELO(s, field, RSHIFT_U64);             \
	unsigned long long __tsbpf_word = 0, __tsbpf_mask;                        \
	asm volatile("" : "+r"(__tsbpf_p));                                       \
	if (__tsbpf_size == 1) __tsbpf_word = *(unsigned char *)__tsbpf_p;        \
	else if (__tsbpf_size == 2) __tsbpf_word = *(unsigned short *)__tsbpf_p;  \
	else if (__tsbpf_size == 4) __tsbpf_word = *(unsigned int *)__tsbpf_p;    \
	else if (__tsbpf_size == 8) __tsbpf_word = *(unsigned long long *)__tsbpf_p; \
	/* the field's bits within the loaded word, in the word's own numbering */ \
	__tsbpf_mask = (~0ULL << __tsbpf_rsh) >> __tsbpf_lsh;                     \
	__tsbpf_word = (__tsbpf_word & ~__tsbpf_mask) |                           \
		(((unsigned long long)(new_val) << (__tsbpf_rsh - __tsbpf_lsh)) & __tsbpf_mask); \
	if (__tsbpf_size == 1) *(unsigned char *)__tsbpf_p = __tsbpf_word;        \
	else if (__tsbpf_size == 2) *(unsigned short *)__tsbpf_p = __tsbpf_word;  \
	else if (__tsbpf_size == 4) *(unsigned int *)__tsbpf_p = __tsbpf_word;    \
	else if (__tsbpf_size == 8) *(unsigned long long *)__tsbpf_p = __tsbpf_word; \
})
#endif

#endif /* __BPF_CORE_READ_H__ */
