// GNU readline (Debian: libreadline-dev). No pkg-config on purpose: readline.pc drags tinfo's
// -D_DEFAULT_SOURCE/-D_XOPEN_SOURCE flags, which SwiftPM rejects.
#include <stdio.h>
#include <stdlib.h>
#include <readline/readline.h>
#include <readline/history.h>

// readline's configuration globals are mutable C state; Swift 6 cannot touch them directly.
static inline void chsk_rl_set_completion(rl_completion_func_t *f) { rl_attempted_completion_function = f; }
static inline void chsk_rl_completion_over(void) { rl_attempted_completion_over = 1; }
