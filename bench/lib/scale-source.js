// Writes the C source of a large BPF object for the codegen-at-scale benchmark: `types` named
// types (at least 10: in every ten, an enum, a union and eight structs), types/10 programs and
// types/20 maps. Each struct embeds an earlier one (a tree, so nesting stays shallow) and its
// ten's enum and union. One global points at a struct that holds every type by value: clang
// emits a global's pointee in full, but only a forward declaration for a pointer member's.
export function scaleSource(types) {
  const programs = Math.max(1, Math.floor(types / 10));
  const maps = Math.max(1, Math.floor(types / 20));
  const kind = (i) => (i % 10 === 3 ? 'enum' : i % 10 === 7 ? 'union' : 'struct');
  const ids = [...Array(types).keys()];
  const structs = ids.filter((i) => kind(i) === 'struct');
  const lines = ['#include "vmlinux.h"', '#include <bpf/bpf_helpers.h>', ''];
  for (const i of ids.filter((i) => kind(i) === 'enum'))
    lines.push(`enum t${i} { T${i}_A = ${i}, T${i}_B, T${i}_C };`);
  for (const i of ids.filter((i) => kind(i) === 'union'))
    lines.push(`union t${i} { __u32 word; __u8 bytes[4]; __u64 wide; };`);
  for (const i of structs) {
    const ten = i - (i % 10);
    // The parent: the struct a quarter of the way back, so the tree is about log4(types) deep.
    const parent = structs.findLast((s) => s <= Math.floor((i - 1) / 4));
    lines.push(
      `struct t${i} {`,
      '  __u32 id;',
      '  __u64 count;',
      '  char label[16];',
      '  __u16 flags : 4, level : 12;',
      `  enum t${ten + 3} state;`,
      `  union t${ten + 7} extra;`,
      ...(i > 0 ? [`  struct t${parent} parent;`] : []),
      '};',
    );
  }
  lines.push('', 'struct catalog {', ...ids.map((i) => `  ${kind(i)} t${i} v${i};`), '};');
  lines.push('struct catalog *catalog_unused;', '');
  const valueType = (m) => structs[(m * 7) % structs.length];
  for (let m = 0; m < maps; m++) {
    lines.push(
      'struct {',
      '  __uint(type, BPF_MAP_TYPE_ARRAY);',
      '  __uint(max_entries, 4);',
      '  __type(key, __u32);',
      `  __type(value, struct t${valueType(m)});`,
      `} m${m} SEC(".maps");`,
    );
  }
  for (let p = 0; p < programs; p++) {
    const m = p % maps;
    lines.push(
      'SEC("tracepoint/syscalls/sys_enter_getpid")',
      `int p${p}(void *ctx) {`,
      `  __u32 key = ${p % 4};`,
      `  struct t${valueType(m)} *v = bpf_map_lookup_elem(&m${m}, &key);`,
      '  if (v) v->count++;',
      '  return 0;',
      '}',
    );
  }
  lines.push('', 'char LICENSE[] SEC("license") = "GPL";', '');
  return { text: lines.join('\n'), programs, maps, names: ids.map((i) => `${kind(i)} t${i}`) };
}
