/* <arm_neon.h> for the wasm build: libjpeg-turbo's Arm Neon intrinsics implemented by
   SIMDe in wasm SIMD (wasm_x86_intrinsics puts SIMDe's headers on the include path). */
#define SIMDE_ENABLE_NATIVE_ALIASES
#define SIMDE_FLOAT16_API SIMDE_FLOAT16_API_PORTABLE /* wasm32 has no _Float16 */
#include <simde/arm/neon.h>
