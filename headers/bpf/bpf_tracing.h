/* SPDX-License-Identifier: MIT */
/*
 * tsbpf's <bpf/bpf_tracing.h>: the installed libbpf header, then tsbpf/compat.h's fallbacks for
 * what newer libbpf releases added. tsbpf puts this folder before the system include dirs;
 * #include_next continues the search after it, so libbpf's own header is the one read.
 */
#ifndef __TSBPF_WRAP_BPF_TRACING_H
#define __TSBPF_WRAP_BPF_TRACING_H

#if __has_include_next(<bpf/bpf_tracing.h>)
#include_next <bpf/bpf_tracing.h>
#else
#error "libbpf's headers are not installed (bpf/bpf_tracing.h not found): apt-get install libbpf-dev"
#endif

#include "../tsbpf/compat.h"

#endif /* __TSBPF_WRAP_BPF_TRACING_H */
