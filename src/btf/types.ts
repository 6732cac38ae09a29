// The BTF type graph as tsbpf exposes it. Kind numbers and record layouts come from
// include/uapi/linux/btf.h (struct btf_type and the records that follow it).

/** BTF_KIND_* numbers, indexed by kind name. */
export const BTF_KIND = {
  void: 0,
  int: 1,
  ptr: 2,
  array: 3,
  struct: 4,
  union: 5,
  enum: 6,
  fwd: 7,
  typedef: 8,
  volatile: 9,
  const: 10,
  restrict: 11,
  func: 12,
  func_proto: 13,
  var: 14,
  datasec: 15,
  float: 16,
  decl_tag: 17,
  type_tag: 18,
  enum64: 19,
} as const;

export type BtfKindName = keyof typeof BTF_KIND;

/** Kind names by BTF_KIND_* number. */
export const KIND_NAMES: readonly BtfKindName[] = Object.keys(BTF_KIND) as BtfKindName[];

interface Base {
  /** Type id; 0 is void. */
  id: number;
  /** '' for anonymous types. */
  name: string;
}

export interface VoidType extends Base {
  kind: 'void';
}

export interface IntType extends Base {
  kind: 'int';
  /** Bytes of storage. */
  size: number;
  /** Bits used (BTF_INT_BITS); less than size * 8 only for old-style bitfield members. */
  bits: number;
  /** Bit offset within the storage (BTF_INT_OFFSET). */
  offset: number;
  signed: boolean;
  /** BTF_INT_CHAR: a character type (clang sets it for char; many producers leave it unset). */
  char: boolean;
  bool: boolean;
}

export interface PtrType extends Base {
  kind: 'ptr';
  type: number;
}

export interface ArrayType extends Base {
  kind: 'array';
  type: number;
  indexType: number;
  nelems: number;
}

export interface BtfMember {
  name: string;
  type: number;
  /** Offset of the member from the start of its struct, in bits. */
  bitOffset: number;
  /**
   * Width of a bitfield in bits, 0 for ordinary members. Normalised across both BTF encodings:
   * kind_flag set (size in the member's offset word) and unset (an INT type with fewer bits).
   */
  bitSize: number;
}

export interface StructType extends Base {
  kind: 'struct' | 'union';
  size: number;
  members: BtfMember[];
}

export interface EnumValue<V> {
  name: string;
  value: V;
}

export interface EnumType extends Base {
  kind: 'enum';
  size: number;
  signed: boolean;
  values: EnumValue<number>[];
}

export interface Enum64Type extends Base {
  kind: 'enum64';
  size: number;
  signed: boolean;
  values: EnumValue<bigint>[];
}

export interface FwdType extends Base {
  kind: 'fwd';
  /** A forward-declared union (kind_flag) rather than a struct. */
  union: boolean;
}

export interface RefType extends Base {
  kind: 'typedef' | 'volatile' | 'const' | 'restrict' | 'type_tag';
  type: number;
}

export type Linkage = 'static' | 'global' | 'extern';

export interface FuncType extends Base {
  kind: 'func';
  /** The FUNC_PROTO. */
  type: number;
  linkage: Linkage;
}

export interface FuncParam {
  name: string;
  /** 0 (void) for the `...` of a variadic function. */
  type: number;
}

export interface FuncProtoType extends Base {
  kind: 'func_proto';
  returnType: number;
  params: FuncParam[];
}

export interface VarType extends Base {
  kind: 'var';
  type: number;
  linkage: Linkage;
}

export interface DatasecVar {
  /** The VAR (or FUNC, for externs) type id. */
  type: number;
  offset: number;
  size: number;
}

export interface DatasecType extends Base {
  kind: 'datasec';
  size: number;
  vars: DatasecVar[];
}

export interface FloatType extends Base {
  kind: 'float';
  size: number;
}

export interface DeclTagType extends Base {
  kind: 'decl_tag';
  type: number;
  /** -1 when the tag applies to the type itself, else the member or parameter index. */
  componentIndex: number;
}

export type BtfType =
  | VoidType
  | IntType
  | PtrType
  | ArrayType
  | StructType
  | EnumType
  | Enum64Type
  | FwdType
  | RefType
  | FuncType
  | FuncProtoType
  | VarType
  | DatasecType
  | FloatType
  | DeclTagType;

/** The BtfType variant of a kind name. */
export type BtfTypeOfKind<K extends BtfKindName> = BtfType extends infer T
  ? T extends { kind: infer Kinds }
    ? K extends Kinds
      ? T
      : never
    : never
  : never;
