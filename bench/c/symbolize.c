// The C side of the symbolization benchmark: what a C tool does without blazesym or bcc, the same
// work as tsbpf/symbolize. Kernel: read /proc/kallsyms, keep text symbols, qsort, bsearch each
// address. User: find the mapping of each address in /proc/PID/maps, read the file's function
// symbols with libelf, qsort, translate through PT_LOAD and bsearch. Prints one JSON line:
// cold_ms (load + first pass) and warm_ms (a second pass over the loaded tables).
//   symbolize kernel ADDRFILE          symbolize user PID ADDRFILE
#include <fcntl.h>
#include <gelf.h>
#include <libelf.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

struct sym {
  uint64_t addr, size;
  char *name;
};
struct table {
  struct sym *syms;
  size_t n, cap;
};

static double now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static void push(struct table *t, uint64_t addr, uint64_t size, const char *name) {
  if (t->n == t->cap) {
    t->cap = t->cap ? t->cap * 2 : 4096;
    t->syms = realloc(t->syms, t->cap * sizeof(*t->syms));
  }
  t->syms[t->n++] = (struct sym){addr, size, strdup(name)};
}

static int by_addr(const void *a, const void *b) {
  uint64_t x = ((const struct sym *)a)->addr, y = ((const struct sym *)b)->addr;
  return x < y ? -1 : x > y;
}

static const struct sym *find(const struct table *t, uint64_t addr) {
  size_t lo = 0, hi = t->n;
  while (lo < hi) {
    size_t mid = (lo + hi) / 2;
    if (t->syms[mid].addr <= addr) lo = mid + 1;
    else hi = mid;
  }
  return lo ? &t->syms[lo - 1] : NULL;
}

static uint64_t *read_addrs(const char *path, size_t *n) {
  FILE *f = fopen(path, "r");
  size_t cap = 16384;
  uint64_t *out = malloc(cap * sizeof(*out));
  *n = 0;
  unsigned long long a;
  while (f && fscanf(f, "%llx", &a) == 1) {
    if (*n == cap) out = realloc(out, (cap *= 2) * sizeof(*out));
    out[(*n)++] = a;
  }
  if (f) fclose(f);
  return out;
}

static void load_kallsyms(struct table *t) {
  FILE *f = fopen("/proc/kallsyms", "r");
  char line[512], name[256], type;
  unsigned long long addr;
  while (f && fgets(line, sizeof line, f)) {
    if (sscanf(line, "%llx %c %255s", &addr, &type, name) != 3) continue;
    if (type == 't' || type == 'T' || type == 'w' || type == 'W') push(t, addr, 0, name);
  }
  if (f) fclose(f);
  qsort(t->syms, t->n, sizeof(*t->syms), by_addr);
}

static size_t kernel_pass(const struct table *t, const uint64_t *addrs, size_t n) {
  size_t named = 0;
  for (size_t i = 0; i < n; i++) {
    const struct sym *s = find(t, addrs[i]);
    if (s && addrs[i] - s->addr < (1u << 20)) named++;
  }
  return named;
}

struct mapping {
  uint64_t start, end, offset;
  char path[256];
};
struct file {
  char path[256];
  struct table symbols;
  GElf_Phdr loads[16];
  int nloads;
};

static void load_elf(struct file *file, const char *path) {
  snprintf(file->path, sizeof file->path, "%s", path);
  int fd = open(path, O_RDONLY);
  Elf *elf = elf_begin(fd, ELF_C_READ_MMAP, NULL);
  size_t phnum = 0;
  elf_getphdrnum(elf, &phnum);
  for (size_t i = 0; i < phnum && file->nloads < 16; i++) {
    GElf_Phdr ph;
    if (gelf_getphdr(elf, i, &ph) && ph.p_type == PT_LOAD) file->loads[file->nloads++] = ph;
  }
  for (int pass = 0; pass < 2 && file->symbols.n == 0; pass++) {
    Elf_Scn *scn = NULL;
    while ((scn = elf_nextscn(elf, scn))) {
      GElf_Shdr sh;
      gelf_getshdr(scn, &sh);
      if (sh.sh_type != (pass == 0 ? SHT_SYMTAB : SHT_DYNSYM)) continue;
      Elf_Data *data = elf_getdata(scn, NULL);
      for (size_t i = 0; i < sh.sh_size / sh.sh_entsize; i++) {
        GElf_Sym s;
        gelf_getsym(data, i, &s);
        int type = GELF_ST_TYPE(s.st_info);
        if ((type == STT_FUNC || type == STT_GNU_IFUNC) && s.st_shndx != SHN_UNDEF && s.st_value)
          push(&file->symbols, s.st_value, s.st_size, elf_strptr(elf, sh.sh_link, s.st_name));
      }
    }
  }
  qsort(file->symbols.syms, file->symbols.n, sizeof(struct sym), by_addr);
  elf_end(elf);
  close(fd);
}

int main(int argc, char **argv) {
  if (argc < 3) return 2;
  size_t n;
  double t0 = now_ms(), cold, warm;
  size_t named = 0;
  if (strcmp(argv[1], "kernel") == 0) {
    uint64_t *addrs = read_addrs(argv[2], &n);
    t0 = now_ms();
    struct table t = {0};
    load_kallsyms(&t);
    named = kernel_pass(&t, addrs, n);
    cold = now_ms() - t0;
    t0 = now_ms();
    named = kernel_pass(&t, addrs, n);
    warm = now_ms() - t0;
  } else {
    uint64_t *addrs = read_addrs(argv[3], &n);
    elf_version(EV_CURRENT);
    static struct mapping maps[4096];
    static struct file files[64];
    int nmaps = 0, nfiles = 0;
    t0 = now_ms();
    for (int round = 0; round < 2; round++) {
      if (round == 1) {
        cold = now_ms() - t0;
        t0 = now_ms();
      }
      if (round == 0) {
        char path[64], line[512];
        snprintf(path, sizeof path, "/proc/%s/maps", argv[2]);
        FILE *f = fopen(path, "r");
        while (f && nmaps < 4096 && fgets(line, sizeof line, f)) {
          struct mapping *m = &maps[nmaps];
          char perms[8];
          m->path[0] = 0;
          if (sscanf(line, "%lx-%lx %7s %lx %*s %*s %255s", &m->start, &m->end, perms, &m->offset, m->path) >= 4 &&
              perms[2] == 'x')
            nmaps++;
        }
        if (f) fclose(f);
      }
      named = 0;
      for (size_t i = 0; i < n; i++) {
        struct mapping *m = NULL;
        for (int j = 0; j < nmaps; j++)
          if (addrs[i] >= maps[j].start && addrs[i] < maps[j].end) m = &maps[j];
        if (!m || m->path[0] != '/') continue;
        struct file *file = NULL;
        for (int j = 0; j < nfiles; j++)
          if (strcmp(files[j].path, m->path) == 0) file = &files[j];
        if (!file && nfiles < 64) load_elf(file = &files[nfiles++], m->path);
        if (!file) continue;
        uint64_t off = addrs[i] - m->start + m->offset;
        for (int j = 0; j < file->nloads; j++) {
          GElf_Phdr *p = &file->loads[j];
          if (off >= p->p_offset && off < p->p_offset + p->p_filesz) {
            if (find(&file->symbols, off - p->p_offset + p->p_vaddr)) named++;
            break;
          }
        }
      }
    }
    warm = now_ms() - t0;
  }
  printf("{\"cold_ms\": %.3f, \"warm_ms\": %.3f, \"addresses\": %zu, \"named\": %zu}\n", cold, warm, n, named);
  return 0;
}
