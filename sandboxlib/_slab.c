/* sandboxlib._slab: the linear memories of the isolating backends, laid out for density.

   A memory is a slot of a slab: one large reservation (readable and writable, backed
   by nothing until touched) sliced into slots of one size, the most the sandbox may
   grow to. Nothing but the reservation splits the process's mappings, so a hundred
   thousand memories cost a few dozen mappings (Linux allows ~65,000 per process), and
   taking one costs no system call. Bounds are the compiled code's explicit checks
   against the memory's current size (each backend's compiled code does them), never a
   protection change, which would split the slab, nor a
   signal handler.

   A slot given back is wiped before it serves anyone else: its written part is
   discarded (pages read as zero again), or, for the few most recently freed light
   slots, their resident pages are zeroed in place to spare the next sandbox the page
   faults (and pages swapped out discarded; /proc/self/pagemap tells them apart from
   pages never written, which need nothing). A slot whose wipe fails is never used
   again. */
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
#define MAX_WARM 64                   /* free slots kept with zeroed resident pages, at most */
#define SCRUB_LIMIT ((size_t)4 << 20) /* slots wiped page by page, at most */
#define KEEP_PAGES 16 /* resident pages zeroed and kept, at most; others discarded */

typedef struct {
  uint8_t** items;
  size_t count, cap;
} slot_stack;

typedef struct {
  size_t size;       /* bytes per slot */
  uint8_t* next;     /* the newest slab's first slot never used */
  size_t left;       /* slots never used left in the newest slab */
  size_t slab_slots; /* slots the next slab is mapped with */
  slot_stack warm;   /* free, resident pages zeroed */
  slot_stack cold;   /* free, every page discarded */
} size_class;

static size_class classes[MAX_CLASSES];
static int class_count;
static size_t warm_total, live_total, lost_total, slab_total, reserved_total;
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
  return s->count ? s->items[--s->count] : NULL;
}

static int push(slot_stack* s, uint8_t* slot) {
  if (s->count == s->cap) {
    size_t cap = s->cap ? s->cap * 2 : 64;
    uint8_t** items = realloc(s->items, cap * sizeof *items);
    if (!items)
      return -1;
    s->items = items;
    s->cap = cap;
  }
  s->items[s->count++] = slot;
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
    if ((slot = pop(&c->warm)))
      warm_total--;
    else if (!(slot = pop(&c->cold))) {
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

/* Each page's state in `state`, 0 on success: from /proc/self/pagemap (present: zero
   it; swapped out: discard it; neither: never written, or discarded: zero already),
   else from mincore (not resident may mean swapped out: discard). */
static int page_states(uint8_t* slot, size_t pages, size_t page, unsigned char* state) {
  static __thread uint64_t entry[SCRUB_LIMIT / 4096];
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
      state[i] = entry[i] >> 63 ? PAGE_RESIDENT : (entry[i] >> 62) & 1 ? PAGE_DISCARD : PAGE_ZERO;
    return 0;
  }
  if (mincore(slot, pages * page, state) != 0)
    return -1;
  for (size_t i = 0; i < pages; i++)
    state[i] = state[i] & 1 ? PAGE_RESIDENT : PAGE_DISCARD;
  return 0;
}

/* Make the first `used` bytes of `slot` read as zeros: 1 if its resident pages were
   zeroed and kept (a light slot), 0 if all were discarded, -1 on failure. */
static int wipe(uint8_t* slot, size_t used, int keep) {
  static __thread unsigned char state[SCRUB_LIMIT / 4096];
  size_t page = (size_t)sysconf(_SC_PAGESIZE);
  if (keep && used <= SCRUB_LIMIT && page >= 4096 && used % page == 0 &&
      page_states(slot, used / page, page, state) == 0) {
    size_t pages = used / page, resident = 0;
    for (size_t i = 0; i < pages; i++)
      resident += state[i] == PAGE_RESIDENT;
    if (resident <= KEEP_PAGES) {
      size_t run = 0; /* first page of the run of pages to discard before page i */
      for (size_t i = 0; i <= pages; i++) {
        if (i < pages && state[i] == PAGE_DISCARD)
          continue;
        if (i > run && madvise(slot + run * page, (i - run) * page, MADV_DONTNEED) != 0)
          return -1;
        if (i < pages && state[i] == PAGE_RESIDENT)
          memset(slot + i * page, 0, page);
        run = i + 1;
      }
      return 1;
    }
  }
  return used && madvise(slot, used, MADV_DONTNEED) != 0 ? -1 : 0;
}

static void give(uint8_t* slot, size_t size, size_t used) {
  pthread_mutex_lock(&lock);
  size_class* c = class_of(size, 0);
  int keep = warm_total < MAX_WARM;
  pthread_mutex_unlock(&lock);
  if (!c) {
    munmap(slot, size);
    pthread_mutex_lock(&lock);
    live_total--;
    pthread_mutex_unlock(&lock);
    return;
  }
  int wiped = wipe(slot, used, keep);
  pthread_mutex_lock(&lock);
  live_total--;
  if (wiped < 0 || push(wiped ? &c->warm : &c->cold, slot) != 0)
    lost_total++; /* never handed out again */
  else if (wiped)
    warm_total++;
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
  PyObject* r =
      Py_BuildValue("{s:n,s:n,s:n,s:n,s:n}", "slabs", (Py_ssize_t)slab_total, "reserved_bytes",
                    (Py_ssize_t)reserved_total, "live", (Py_ssize_t)live_total, "free",
                    (Py_ssize_t)free_slots, "lost", (Py_ssize_t)lost_total);
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
    {"stats", py_stats, METH_NOARGS, "Slabs, reserved bytes, live, free and lost slots."},
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
