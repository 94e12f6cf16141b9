/* sandboxlib._slab: the linear memories of the isolating backends, laid out for density.

   A memory is a slot of a slab: one large reservation (readable and writable, backed
   by nothing until touched) sliced into slots of one size, the most the sandbox may
   grow to. Nothing but the reservation splits the process's mappings, so a hundred
   thousand memories cost a few dozen mappings (Linux allows ~65,000 per process), and
   taking one costs no system call. Bounds are the compiled code's explicit checks
   against the memory's current size (each backend's compiled code does them), never a
   protection change, which would split the slab, nor a
   signal handler.

   A slot given back is wiped before it serves anyone else, and costs what its tenant
   used: the pages it wrote stay resident and are zeroed in place, up to a budget per
   slot and one for all free slots together, so the next sandbox takes no page faults
   for them (zeroing a resident page measured 75-90 ns, discarding it and faulting it
   back in 2-2.6 us); pages past the budgets, and swapped-out ones, are discarded (they read as
   zero again). /proc/self/pagemap tells resident pages from swapped-out ones and from
   pages never written, which need nothing; mincore stands in without it. A slot
   whose wipe fails is never used again. */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "_slab.h"

#define FIRST_SLAB_SLOTS 16
#define MAX_SLAB_SLOTS 4096
#define MAX_SLAB_BYTES ((size_t)1 << 40)
#define MAX_CLASSES 16                /* slot sizes with slabs; others are mapped one by one */
#define SCRUB_LIMIT ((size_t)8 << 20) /* slots wiped page by page, at most */
#define KEEP_SLOT ((size_t)4 << 20)   /* resident bytes one free slot keeps, at most */
#define KEEP_TOTAL ((size_t)32 << 20) /* resident bytes all free slots keep, at most */

typedef struct {
  uint8_t* slot;
  size_t kept; /* resident bytes it keeps (zeroed) */
} free_slot;

typedef struct {
  free_slot* items;
  size_t count, cap;
} slot_stack;

typedef struct {
  size_t size;       /* bytes per slot */
  uint8_t* next;     /* the newest slab's first slot never used */
  size_t left;       /* slots never used left in the newest slab */
  size_t slab_slots; /* slots the next slab is mapped with */
  slot_stack warm;   /* free, some resident pages kept (zeroed) */
  slot_stack cold;   /* free, every page discarded */
} size_class;

static size_class classes[MAX_CLASSES];
static int class_count;
static size_t kept_total, live_total, lost_total, slab_total, reserved_total;
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static __thread int last_errno; /* of this thread's last failed take */

static size_class* class_of(size_t size, int add) {
  for (int i = 0; i < class_count; i++)
    if (classes[i].size == size)
      return &classes[i];
  if (!add || class_count == MAX_CLASSES)
    return NULL;
  size_class* c = &classes[class_count++];
  memset(c, 0, sizeof *c);
  c->size = size;
  c->slab_slots = FIRST_SLAB_SLOTS;
  return c;
}

static uint8_t* map(size_t bytes) {
  void* p =
      mmap(NULL, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
  if (p == MAP_FAILED)
    return NULL;
#ifdef MADV_NOHUGEPAGE
  madvise(p, bytes, MADV_NOHUGEPAGE); /* a huge page would make one sandbox 2 MiB */
#endif
  return p;
}

/* A new slab for `c` (fewer slots when the machine refuses as many); 0 on success. */
static int add_slab(size_class* c) {
  size_t slots = c->slab_slots;
  if (slots > MAX_SLAB_BYTES / c->size)
    slots = MAX_SLAB_BYTES / c->size ? MAX_SLAB_BYTES / c->size : 1;
  uint8_t* p;
  while (!(p = map(slots * c->size)) && slots > 1)
    slots /= 2;
  if (!p)
    return -1;
  c->next = p;
  c->left = slots;
  c->slab_slots = slots * 2 < MAX_SLAB_SLOTS ? slots * 2 : MAX_SLAB_SLOTS;
  slab_total++;
  reserved_total += slots * c->size;
  return 0;
}

static uint8_t* pop(slot_stack* s) {
  if (!s->count)
    return NULL;
  free_slot* f = &s->items[--s->count];
  kept_total -= f->kept;
  return f->slot;
}

static int push(slot_stack* s, uint8_t* slot, size_t kept) {
  if (s->count == s->cap) {
    size_t cap = s->cap ? s->cap * 2 : 64;
    free_slot* items = realloc(s->items, cap * sizeof *items);
    if (!items)
      return -1;
    s->items = items;
    s->cap = cap;
  }
  s->items[s->count++] = (free_slot){slot, kept};
  return 0;
}

static uint8_t* take(size_t size) {
  uint8_t* slot = NULL;
  int err = 0;
  if (!size) { /* no size class of nothing: a slab of 0-byte slots divides by zero */
    errno = last_errno = EINVAL;
    return NULL;
  }
  pthread_mutex_lock(&lock);
  size_class* c = class_of(size, 1);
  if (c) {
    if (!(slot = pop(&c->warm)) && !(slot = pop(&c->cold))) {
      if (c->left || add_slab(c) == 0) {
        slot = c->next;
        c->next += size;
        c->left--;
      } else
        err = errno;
    }
  } else if (!(slot = map(size)))
    err = errno;
  if (slot)
    live_total++;
  pthread_mutex_unlock(&lock);
  if (!slot)
    errno = last_errno = err ? err : ENOMEM;
  return slot;
}

/* What a page of a slot needs to read as zero again. */
enum { PAGE_ZERO = 0, PAGE_RESIDENT = 1, PAGE_DISCARD = 2 };

static int pagemap_fd = -2; /* /proc/self/pagemap; -2 not opened yet, -1 unavailable */

/* Each page's state in `state`, 0 on success: from /proc/self/pagemap (present and
   ours alone: zero it; present and shared, which is the shared zero page of a page only
   read, or one a forked child shares: discard it, which costs nothing to keep and would
   cost a scan at every wipe; swapped out: discard it; neither: never written, or
   discarded: zero already), else from mincore (not resident may mean swapped out:
   discard). */
static int page_states(uint8_t* slot, size_t pages, size_t page, unsigned char* state) {
  uint64_t entry[SCRUB_LIMIT / 4096]; /* 16 KiB of stack: a thread-local array costs a call
                                         to the loader's __tls_get_addr at every use */
  int fd = __atomic_load_n(&pagemap_fd, __ATOMIC_ACQUIRE);
  if (fd == -2) {
    int opened = open("/proc/self/pagemap", O_RDONLY | O_CLOEXEC);
    if (!__atomic_compare_exchange_n(&pagemap_fd, &fd, opened, 0, __ATOMIC_ACQ_REL,
                                     __ATOMIC_ACQUIRE) &&
        opened >= 0)
      close(opened); /* another thread opened it first: fd holds its */
    else
      fd = opened;
  }
  size_t want = pages * sizeof entry[0];
  if (fd >= 0 &&
      pread(fd, entry, want, (off_t)((uintptr_t)slot / page * sizeof entry[0])) == (ssize_t)want) {
    for (size_t i = 0; i < pages; i++)
      state[i] = entry[i] >> 63         ? (entry[i] >> 56) & 1 ? PAGE_RESIDENT : PAGE_DISCARD
                 : (entry[i] >> 62) & 1 ? PAGE_DISCARD
                                        : PAGE_ZERO;
    return 0;
  }
  if (mincore(slot, pages * page, state) != 0)
    return -1;
  for (size_t i = 0; i < pages; i++)
    state[i] = state[i] & 1 ? PAGE_RESIDENT : PAGE_DISCARD;
  return 0;
}

/* Zero a resident page, unless it reads as zero already (a page only read maps the
   shared zero page: writing would give it a page of its own). Most pages a slot keeps
   were not written by its last tenant, so the test is the cost: it ORs 256 bytes in
   vector registers between branches (a branch per word took 93% of a wipe). */
typedef uint64_t words __attribute__((vector_size(16)));

static void zero_page(uint8_t* p, size_t page) {
  enum { BLOCK = 256 }; /* page % BLOCK == 0: page >= 4096, a power of two */
  for (size_t i = 0; i < page; i += BLOCK) {
    words a = {0, 0}, b = {0, 0};
    for (size_t j = 0; j < BLOCK; j += 2 * sizeof a) {
      words x, y;
      memcpy(&x, p + i + j, sizeof x);
      memcpy(&y, p + i + j + sizeof x, sizeof y);
      a |= x;
      b |= y;
    }
    a |= b;
    if (a[0] | a[1]) {
      memset(p + i, 0, page - i);
      return;
    }
  }
}

/* Make the first `used` bytes of `slot` read as zeros, keeping at most `budget` bytes
   of its resident pages (zeroed in place) and discarding the others: the bytes kept,
   or -1 on failure. */
static ssize_t wipe(uint8_t* slot, size_t used, size_t budget) {
  unsigned char state[SCRUB_LIMIT / 4096]; /* on the stack too (see page_states) */
  size_t page = (size_t)sysconf(_SC_PAGESIZE);
  if (budget >= page && used <= SCRUB_LIMIT && page >= 4096 && used % page == 0 &&
      page_states(slot, used / page, page, state) == 0) {
    size_t pages = used / page, kept = 0, run = 0; /* run: first page not yet wiped */
    int discard = 0;                               /* the run holds a page to discard */
    for (size_t i = 0; i <= pages; i++) {
      int keep = i < pages && state[i] == PAGE_RESIDENT && kept + page <= budget;
      if (i < pages && !keep) {
        discard |= state[i] != PAGE_ZERO;
        continue;
      }
      if (discard && madvise(slot + run * page, (i - run) * page, MADV_DONTNEED) != 0)
        return -1;
      if (keep) {
        zero_page(slot + i * page, page);
        kept += page;
      }
      run = i + 1;
      discard = 0;
    }
    return (ssize_t)kept;
  }
  return used && madvise(slot, used, MADV_DONTNEED) != 0 ? -1 : 0;
}

static void give(uint8_t* slot, size_t size, size_t used) {
  pthread_mutex_lock(&lock);
  size_class* c = class_of(size, 0);
  size_t budget = c && kept_total < KEEP_TOTAL ? KEEP_TOTAL - kept_total : 0;
  if (budget > KEEP_SLOT)
    budget = KEEP_SLOT;
  kept_total += budget; /* reserved while wiping: concurrent wipes stay within the total */
  pthread_mutex_unlock(&lock);
  if (!c) {
    munmap(slot, size);
    pthread_mutex_lock(&lock);
    live_total--;
    pthread_mutex_unlock(&lock);
    return;
  }
  ssize_t kept = wipe(slot, used, budget);
  pthread_mutex_lock(&lock);
  kept_total -= budget;
  live_total--;
  if (kept < 0 || push(kept ? &c->warm : &c->cold, slot, (size_t)kept) != 0)
    lost_total++; /* never handed out again */
  else
    kept_total += (size_t)kept;
  pthread_mutex_unlock(&lock);
}

static const sbx_slab_api api = {SBX_SLAB_VERSION, take, give};

/* -- Python ------------------------------------------------------------------------ */

static PyObject* py_api(PyObject* self, PyObject* unused) {
  return PyLong_FromVoidPtr((void*)&api);
}

static PyObject* py_failure(PyObject* self, PyObject* unused) {
  int err = last_errno;
  last_errno = 0;
  return PyLong_FromLong(err);
}

static PyObject* py_stats(PyObject* self, PyObject* unused) {
  size_t free_slots = 0;
  pthread_mutex_lock(&lock);
  for (int i = 0; i < class_count; i++)
    free_slots += classes[i].warm.count + classes[i].cold.count;
  PyObject* r = Py_BuildValue("{s:n,s:n,s:n,s:n,s:n,s:n}", "slabs", (Py_ssize_t)slab_total,
                              "reserved_bytes", (Py_ssize_t)reserved_total, "live",
                              (Py_ssize_t)live_total, "free", (Py_ssize_t)free_slots, "kept_bytes",
                              (Py_ssize_t)kept_total, "lost", (Py_ssize_t)lost_total);
  pthread_mutex_unlock(&lock);
  return r;
}

static void reset_in_child(void) {
  pthread_mutex_init(&lock, NULL); /* a thread of the parent may have held it */
  if (pagemap_fd >= 0)
    close(pagemap_fd); /* the parent's pages: the child opens its own */
  pagemap_fd = -2;
}

static PyMethodDef methods[] = {
    {"api", py_api, METH_NOARGS, "Address of the allocator's C interface (sbx_slab_api)."},
    {"failure", py_failure, METH_NOARGS,
     "errno of this thread's last refused slot (0 if none), then forgotten."},
    {"stats", py_stats, METH_NOARGS,
     "Slabs, reserved bytes, live and free slots, resident bytes free slots keep, lost slots."},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {PyModuleDef_HEAD_INIT, "sandboxlib._slab",
                                    "Linear memories laid out for density.", -1, methods};

PyMODINIT_FUNC PyInit__slab(void) {
  static int at_fork;
  if (!at_fork && pthread_atfork(NULL, NULL, reset_in_child) == 0)
    at_fork = 1;
  return PyModule_Create(&module);
}
