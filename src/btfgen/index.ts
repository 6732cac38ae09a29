// Minimal BTF for kernels without /sys/kernel/btf/vmlinux (bpftool's min_core_btf, as
// BTFGen/btfhub do): for given objects and given kernels' BTF, only the types the objects'
// CO-RE relocations touch, small enough to ship beside a program and pass to
// `load({ kernelBtf })`. Also pulls a kernel's BTF out of its vmlinuz or vmlinux file.

export { type ExtractedBtf, extractKernelBtf } from './extract.js';
export { generateMinimalBtf, type MinimalBtf, type MinimalBtfOptions } from './generate.js';
