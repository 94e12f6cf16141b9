/* sandboxlib._cpu: which x86-64 microarchitecture level this processor and its operating
   system run, so that the wasm2c backend loads the extension built for it. The levels
   are those of the x86-64 psABI (and of compilers' -march=x86-64-v2/-v3): each needs
   the features listed below, and the AVX ones also need the operating system to save
   the AVX state (XCR0), without which their instructions fault. Whether user code may
   set the GS segment's base (the FSGSBASE instructions, which Linux enables from 5.9 on
   processors that have them) is asked apart: the wasm2c backend's x86_64_v3 build
   addresses a sandbox's memory through GS. */
#define PY_SSIZE_T_CLEAN
#include <Python.h>

#if defined(__x86_64__) && defined(__linux__)
#include <sys/auxv.h>
#ifndef HWCAP2_FSGSBASE
#define HWCAP2_FSGSBASE (1u << 1)
#endif
static int user_gs_base(void) {
  return (getauxval(AT_HWCAP2) & HWCAP2_FSGSBASE) != 0;
}
#else
static int user_gs_base(void) {
  return 0;
}
#endif

#if defined(__x86_64__)
#include <cpuid.h>

#define BIT(n) (1u << (n))
/* CPUID leaf 1, ECX: SSE3 SSSE3 CX16 SSE4.1 SSE4.2 POPCNT (v2), FMA MOVBE OSXSAVE AVX
   F16C (v3) */
#define V2_LEAF1 (BIT(0) | BIT(9) | BIT(13) | BIT(19) | BIT(20) | BIT(23))
#define V3_LEAF1 (BIT(12) | BIT(22) | BIT(27) | BIT(28) | BIT(29))
/* CPUID leaf 7 subleaf 0, EBX: BMI1 AVX2 BMI2 (v3) */
#define V3_LEAF7 (BIT(3) | BIT(5) | BIT(8))
/* CPUID leaf 0x80000001, ECX: LAHF/SAHF (v2), LZCNT (v3) */
#define V2_EXT (BIT(0))
#define V3_EXT (BIT(5))
#define XCR0_SSE_AVX 0x6u /* the XMM and YMM state saved by the operating system */

static unsigned xcr0(void) {
  unsigned lo, hi;
  __asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
  return lo;
}

static int x86_64_level(void) {
  unsigned a, b, c, d, ext_c = 0, leaf7_b = 0;
  if (!__get_cpuid(1, &a, &b, &c, &d))
    return 1;
  unsigned leaf1_c = c;
  if (__get_cpuid(0x80000001, &a, &b, &c, &d))
    ext_c = c;
  if (__get_cpuid_max(0, NULL) >= 7) {
    __cpuid_count(7, 0, a, b, c, d);
    leaf7_b = b;
  }
  if ((leaf1_c & V2_LEAF1) != V2_LEAF1 || (ext_c & V2_EXT) != V2_EXT)
    return 1;
  if ((leaf1_c & V3_LEAF1) != V3_LEAF1 || (leaf7_b & V3_LEAF7) != V3_LEAF7 ||
      (ext_c & V3_EXT) != V3_EXT || (xcr0() & XCR0_SSE_AVX) != XCR0_SSE_AVX)
    return 2;
  return 3;
}
#else
static int x86_64_level(void) {
  return 0;
}
#endif

static PyObject* level(PyObject* self, PyObject* unused) {
  return PyLong_FromLong(x86_64_level());
}

static PyObject* gs_base(PyObject* self, PyObject* unused) {
  return PyBool_FromLong(user_gs_base());
}

static PyMethodDef methods[] = {
    {"x86_64_level", level, METH_NOARGS,
     "The x86-64 level (1, 2 or 3: x86-64-v3 and beyond count as 3) this processor and "
     "operating system run; 0 on other architectures."},
    {"user_gs_base", gs_base, METH_NOARGS,
     "Whether user code may read and set the GS segment's base with the FSGSBASE "
     "instructions (x86-64 Linux 5.9+ on a processor that has them)."},
    {NULL}};

static struct PyModuleDef module = {PyModuleDef_HEAD_INIT, "sandboxlib._cpu",
                                    "What the processor runs.", 0, methods};

PyMODINIT_FUNC PyInit__cpu(void) {
  return PyModule_Create(&module);
}
