/* realistic.c: the minimal build of realistic.h (no RL_ENABLE_TRACE, no
   realistic_hc.c): rl_trace and rl_compress_hc are declared but not defined. */
#include "realistic.h"

#include <stdlib.h>
#include <string.h>

int rl_version_number(void) { return RL_VERSION_NUMBER; }

void rl_state_init(rl_state *state, int level) { state->level = level; }

int rl_state_level(const rl_state *state) { return state->level; }

int rl_for_each(const int *values, int n, rl_handler *handler, void *data) {
    int total = 0;
    for (int i = 0; i < n; i++) {
        total += handler(data, values[i]);
    }
    return total;
}

int rl_io_read(const struct rl_io_methods *methods, void *file, int amount, int offset) {
    if (methods->xLog) {
        methods->xLog(file, amount);
    }
    return methods->xRead(file, amount, offset);
}

int rl_io_close(const struct rl_io_methods *methods, void *file) {
    return methods->xClose(file);
}

int rl_encode(const char *src, size_t srcSize, char *dst, size_t *dstSize) {
    size_t room = *dstSize;
    *dstSize = srcSize;
    if (room < srcSize) {
        return -1;
    }
    for (size_t i = 0; i < srcSize; i++) {
        dst[i] = src[srcSize - 1 - i];
    }
    return 0;
}

int rl_open(int level, rl_state **out) {
    rl_state *state = malloc(sizeof *state);
    *out = state;
    if (!state) {
        return -1;
    }
    state->level = level;
    return 0;
}

void rl_close(rl_state *state) { free(state); }

int rl_set_mode(rl_state *state, rl_mode mode) {
    state->level = mode == RL_SMALL ? 9 : 1;
    return (int)mode;
}

static const char *kept_text;
static char *kept_copy;

int rl_keep_text(const char *text, rl_destructor how) {
    free(kept_copy);
    kept_copy = NULL;
    if (how == RL_TRANSIENT) {
        size_t n = strlen(text) + 1;
        kept_copy = malloc(n);
        if (kept_copy) {
            memcpy(kept_copy, text, n);
        }
        kept_text = kept_copy;
        return 1;
    }
    kept_text = text;
    return 0;
}

const char *rl_kept(void) { return kept_text ? kept_text : ""; }

#ifdef RL_ENABLE_TRACE
static rl_log_fn trace_log;
static void *trace_user;

int rl_trace(int mask, rl_log_fn log, void *user) {
    trace_log = log;
    trace_user = user;
    return mask;
}
#endif
