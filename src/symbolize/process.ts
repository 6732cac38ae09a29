// User stacks of one process: its memory map (read once, again when an address falls outside
// it, since libraries and JIT code appear later), the files behind its mappings through
// /proc/PID/root (so a container's paths resolve in its own mount namespace), its vDSO read from
// its memory, and its JIT perf map. Nothing here throws for a process that has gone: frames say so.
import { closeSync, openSync, readFileSync, readSync, statSync } from 'node:fs';
import { type ElfSymbolFile, elfSymbolsFromBytes, fileOffsetToAddress } from './elf-symbols.js';
import { describeFailure, type ElfFileCache, type FileSymbols } from './file-cache.js';
import type { Frame } from './frame.js';
import { parsePerfMap } from './perf-map.js';
import { findMapping, type Mapping, parseProcMaps } from './proc-maps.js';
import type { SymbolTable } from './symbol-table.js';

// The vDSO is a page or two; anything larger in its place is not one.
const MAX_VDSO_BYTES = 1 << 20;

export class ProcessSymbolizer {
  readonly #pid: number;
  readonly #dir: string;
  readonly #files: ElfFileCache;
  #mappings: Mapping[] | undefined;
  #mapsProblem: string | undefined;
  #vdso: FileSymbols | undefined;
  /** The files of this process's mappings once read: they still resolve after the process exits. */
  readonly #mapped = new Map<Mapping, FileSymbols>();
  #perfMap: { identity: string; table: SymbolTable } | undefined;
  #perfMapPath: string | undefined;

  constructor(pid: number, procRoot: string, files: ElfFileCache) {
    this.#pid = pid;
    this.#dir = `${procRoot}/${pid}`;
    this.#files = files;
  }

  frames(addresses: readonly bigint[]): Frame[] {
    let fresh = false;
    if (!this.#mappings) {
      this.#readMaps();
      fresh = true;
    }
    return addresses.map((address) => {
      let mapping = this.#mappings ? findMapping(this.#mappings, address) : undefined;
      if (!mapping && !fresh) {
        // Mapped since the last read (dlopen, new JIT code): read the map again, once per call.
        this.#readMaps();
        fresh = true;
        mapping = this.#mappings ? findMapping(this.#mappings, address) : undefined;
      }
      if (!this.#mappings) return { address, reason: this.#mapsProblem };
      if (!mapping) return { address, reason: `address is not mapped in process ${this.#pid}` };
      return this.#frame(address, mapping);
    });
  }

  #readMaps(): void {
    try {
      this.#mappings = parseProcMaps(readFileSync(`${this.#dir}/maps`, 'latin1'));
    } catch (error) {
      // Maps read earlier stay in use: samples taken before the process exited still resolve.
      if (this.#mappings) return;
      const code = (error as NodeJS.ErrnoException).code;
      this.#mapsProblem =
        code === 'ENOENT' || code === 'ESRCH'
          ? `process ${this.#pid} exited (or never existed): ${this.#dir}/maps is gone`
          : `cannot read ${this.#dir}/maps (${describeFailure(error)}): run as root or with CAP_SYS_PTRACE`;
    }
  }

  #alive(): boolean {
    try {
      statSync(this.#dir);
      return true;
    } catch {
      return false;
    }
  }

  #frame(address: bigint, mapping: Mapping): Frame {
    if (mapping.kind === 'file') return this.#fileFrame(address, mapping);
    if (mapping.kind === 'vdso') return this.#elfFrame(address, mapping, '[vdso]', this.#readVdso(mapping));
    if (mapping.kind === 'vsyscall') return { address, module: '[vsyscall]', reason: 'legacy vsyscall page' };
    return this.#jitFrame(address, mapping);
  }

  #fileFrame(address: bigint, mapping: Mapping): Frame {
    const known = this.#mapped.get(mapping);
    if (known) return this.#elfFrame(address, mapping, mapping.path, known);
    // Through the process's root: the path as the process sees it, in its mount namespace.
    let symbols = mapping.deleted
      ? undefined
      : this.#files.get(`${this.#dir}/root${mapping.path}`, mapping.path);
    if (!symbols || (!symbols.ok && symbols.gone)) {
      // Deleted or replaced: map_files/ still opens the very file mapped (needs CAP_SYS_ADMIN).
      const mapped = this.#files.get(
        `${this.#dir}/map_files/${mapping.start.toString(16)}-${mapping.end.toString(16)}`,
        mapping.path,
      );
      if (mapped.ok || !symbols) symbols = mapped;
    }
    if (!symbols.ok && symbols.gone && !this.#alive()) {
      return {
        address,
        module: mapping.path,
        reason: `process ${this.#pid} exited before ${mapping.path} was read`,
      };
    }
    this.#mapped.set(mapping, symbols);
    return this.#elfFrame(address, mapping, mapping.path, symbols);
  }

  #elfFrame(address: bigint, mapping: Mapping, module: string, symbols: FileSymbols): Frame {
    if (!symbols.ok) return { address, module, reason: symbols.reason };
    const file: ElfSymbolFile = symbols.file;
    const frame: Frame = { address, module };
    if (file.buildId) frame.buildId = file.buildId;
    const fileOffset = Number(address - mapping.start) + mapping.offset;
    const at = fileOffsetToAddress(file, fileOffset);
    if (at === undefined) {
      frame.reason = `file offset 0x${fileOffset.toString(16)} is in no loadable segment of ${module}`;
      return frame;
    }
    frame.moduleAddress = at;
    if (file.symbols.size === 0) {
      frame.reason = `${module} has no symbol table (stripped): only its offset is known`;
      return frame;
    }
    const hit = file.symbols.lookup(at);
    if (!hit) {
      frame.reason = `no function symbol of ${module} covers this address`;
      return frame;
    }
    frame.symbol = hit.name;
    frame.offset = hit.offset;
    return frame;
  }

  #readVdso(mapping: Mapping): FileSymbols {
    if (this.#vdso) return this.#vdso;
    const length = Number(mapping.end - mapping.start);
    if (length > MAX_VDSO_BYTES)
      return { ok: false, reason: `[vdso] of ${length} bytes is too large`, gone: false };
    let fd: number | undefined;
    try {
      fd = openSync(`${this.#dir}/mem`, 'r');
      const bytes = new Uint8Array(length);
      const n = readSync(fd, bytes, 0, length, Number(mapping.start));
      this.#vdso = { ok: true, file: elfSymbolsFromBytes(bytes.subarray(0, n), '[vdso]') };
    } catch (error) {
      this.#vdso = {
        ok: false,
        reason: `cannot read [vdso] of process ${this.#pid}: ${describeFailure(error)}`,
        gone: false,
      };
    } finally {
      if (fd !== undefined) closeSync(fd);
    }
    return this.#vdso;
  }

  /** Anonymous executable memory: JIT code, named by the process's perf map when it writes one. */
  #jitFrame(address: bigint, mapping: Mapping): Frame {
    const where = mapping.path || '[anon]';
    const table = this.#readPerfMap();
    const path = this.#perfMapPath ?? `/tmp/perf-${this.#pid}.map`;
    if (!table) {
      return {
        address,
        module: where,
        reason: `anonymous memory (JIT code?) and no perf map ${path}: a JIT writes one when asked (node --perf-basic-prof)`,
      };
    }
    const hit = table.lookup(Number(address));
    if (!hit) return { address, module: where, reason: `no entry of ${path} covers this address` };
    return { address, symbol: hit.name, offset: hit.offset, module: path };
  }

  #readPerfMap(): SymbolTable | undefined {
    this.#perfMapPath ??= `/tmp/perf-${this.#namespacePid()}.map`;
    const file = `${this.#dir}/root${this.#perfMapPath}`;
    try {
      // The JIT appends as it compiles: re-read when the file grew.
      const st = statSync(file);
      const identity = `${st.ino}:${st.size}:${st.mtimeMs}`;
      if (this.#perfMap?.identity !== identity) {
        this.#perfMap = { identity, table: parsePerfMap(readFileSync(file, 'latin1')) };
      }
      return this.#perfMap.table;
    } catch {
      return this.#perfMap?.table;
    }
  }

  /** The pid the process sees for itself (the last NSpid field): a JIT in a container names its map by it. */
  #namespacePid(): number {
    try {
      const status = readFileSync(`${this.#dir}/status`, 'latin1');
      const line = /^NSpid:\s*(.*)$/m.exec(status)?.[1]?.trim().split(/\s+/);
      const last = Number(line?.[line.length - 1]);
      if (Number.isSafeInteger(last) && last > 0) return last;
    } catch {
      // Gone or unreadable: the host pid is the best guess.
    }
    return this.#pid;
  }
}
