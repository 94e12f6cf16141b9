/* libwebp's CPU report. Natively its src/dsp/cpu.c. In the wasm build the SIMD the
   module is compiled with (SSE2 and SSE4.1 as wasm SIMD: X86_FEATURE_MACROS), as
   cpu.c reports it for Emscripten's builds, but not kSlowSSSE3 (a slow-SSSE3 x86 CPU),
   which cpu.c reports with SSE4.1 there and which makes the VP8 decoder read its
   coefficients with its branchy bit reader instead of its table-driven one (the same
   values; 3% fewer instructions reading them in a lossy 1024x768 image). */
#ifndef __wasm__
#include "src/dsp/cpu.c"
#else
#include "src/dsp/cpu.h"

WEBP_EXTERN VP8CPUInfo VP8GetCPUInfo;

static int wasm_cpu_info(CPUFeature feature) {
  return feature == kSSE2 || feature == kSSE3 || feature == kSSE4_1;
}

VP8CPUInfo VP8GetCPUInfo = wasm_cpu_info;
#endif
