/* calib: the project's own calibration layer (libgvb-calib.so, src/calib/) as a system under
 * test, with the known effects of --calib SPEC. `validate` runs it next to native and checks
 * that the metrics recover what it injects (docs/validation.md).
 *
 * Tenants get LD_PRELOAD=<dir of this binary>/libgvb-calib.so (GVB_CALIB_LIB overrides the
 * path, e.g. for the INERT test) and GVB_CALIB=SPEC. Activation proof: a `__calib-proof`
 * worker runs under the same environment, creates a context, allocates, launches, and reads
 * the layer's own counters; the layer is active only if it is loaded, accepted its spec and
 * really intercepted the worker's launch and allocation, and (with mem=) cudaMemGetInfo
 * reports the cap. (Self-contained for now; the general proof machinery of the other systems
 * can absorb it.) */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "calib/calib_account.h"
#include "core/protocol.h"
#include "core/spawn.h"
#include "systems/system.h"

extern char **environ;

#define PROOF_DEADLINE_S 60.0

typedef struct calib_priv {
    char lib[PATH_MAX];
    gvb_calib_spec spec;
} calib_priv;

/* <dir of the running binary>/libgvb-calib.so, unless GVB_CALIB_LIB names another path */
static int library_path(char *out, size_t len)
{
    const char *env = getenv("GVB_CALIB_LIB");
    if (env && *env) {
        snprintf(out, len, "%s", env);
        return 0;
    }
    char self[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
    if (n <= 0)
        return -1;
    self[n] = '\0';
    char *slash = strrchr(self, '/');
    if (slash)
        *slash = '\0';
    snprintf(out, len, "%s/libgvb-calib.so", self);
    return 0;
}

static int calib_setup(gvb_system *s, char *why, size_t len)
{
    calib_priv *p = calloc(1, sizeof *p);
    if (!p) {
        snprintf(why, len, "out of memory");
        return -1;
    }
    s->priv = p;
    char err[256];
    if (gvb_calib_spec_parse(s->opts->calib, &p->spec, err, sizeof err) != 0) {
        snprintf(why, len, "%s", err); /* options.c rejects it first; kept for safety */
        return -1;
    }
    if (library_path(p->lib, sizeof p->lib) != 0) {
        snprintf(why, len, "cannot find this program's directory: %s", strerror(errno));
        return -1;
    }
    return 0;
}

static int calib_env(gvb_system *s, int tenant, int tenants, gvb_env *env)
{
    (void)tenant;
    (void)tenants;
    calib_priv *p = s->priv;
    if (!p)
        return -1;
    gvb_env_strip_layers(env);
    if (gvb_env_set(env, "LD_PRELOAD", p->lib) != 0)
        return -1;
    return gvb_env_set(env, "GVB_CALIB", s->opts->calib);
}

static double num(const gvb_kv *kv, const char *key)
{
    const gvb_kv_item *it = gvb_kv_get(kv, key);
    return it && !it->is_text ? it->num : 0;
}

int gvb_calib_judge_proof(const gvb_kv *proof, const gvb_calib_spec *spec, char *why, size_t len)
{
    const char *status = gvb_kv_text(proof, "proof_status");
    const char *reason = gvb_kv_text(proof, "proof_reason");
    const char *lib = gvb_kv_text(proof, "lib_path");
    if (!status || strcmp(status, "OK") != 0) {
        snprintf(why, len, "the calibration proof worker did not complete: %s",
                 reason && *reason ? reason : "no status");
        return -1;
    }
    if (num(proof, "stats_found") < 1) {
        snprintf(why, len, "the calibration layer is not loaded in the tenant: %s %s",
                 lib ? lib : "?",
                 num(proof, "lib_exists") < 1 ? "does not exist (GVB_CALIB_LIB?)"
                                              : "was not loaded by LD_PRELOAD");
        return -1;
    }
    if (num(proof, "config_ok") < 1) {
        snprintf(why, len, "the calibration layer rejected GVB_CALIB and applies no effect");
        return -1;
    }
    if (num(proof, "intercepted_launches") < 1 || num(proof, "intercepted_allocs") < 1) {
        snprintf(why, len,
                 "the calibration layer is loaded but intercepted %.0f kernel launches and %.0f "
                 "allocations of the proof's 1 and 1: the runtime's driver entry points bypass "
                 "it (cuGetProcAddress hooked %.0f, dlsym hooked %.0f)",
                 num(proof, "intercepted_launches"), num(proof, "intercepted_allocs"),
                 num(proof, "getproc_hooked"), num(proof, "dlsym_hooked"));
        return -1;
    }
    if (spec->mem && num(proof, "meminfo_total_bytes") != (double)spec->mem) {
        snprintf(why, len, "cudaMemGetInfo reports a total of %.0f bytes, not the cap of %llu",
                 num(proof, "meminfo_total_bytes"), (unsigned long long)spec->mem);
        return -1;
    }
    return 0;
}

/* Runs `gpu-virt-bench __calib-proof` under the tenants' environment; what it reports over
 * the protocol pipe goes into proof. Returns 0, or -1 with why if it could not be run. */
static int run_proof(gvb_system *s, gvb_kv *proof, char *why, size_t len)
{
    char self[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
    if (n <= 0) {
        snprintf(why, len, "cannot find this program's path: %s", strerror(errno));
        return -1;
    }
    self[n] = '\0';
    gvb_env env;
    int pipefd[2] = {-1, -1};
    char errpath[] = "/tmp/gvb-calib-proof-XXXXXX";
    int errfd = mkstemp(errpath);
    if (errfd >= 0)
        unlink(errpath);
    if (gvb_env_init(&env, environ) != 0 || calib_env(s, 0, 1, &env) != 0 || errfd < 0 ||
        pipe2(pipefd, O_CLOEXEC) != 0) {
        snprintf(why, len, "cannot prepare the proof worker: %s", strerror(errno));
        gvb_env_free(&env);
        if (errfd >= 0)
            close(errfd);
        return -1;
    }
    char *argv[] = {(char *)"gpu-virt-bench", (char *)"__calib-proof", NULL};
    const int fds[] = {GVB_SPAWN_NULL, errfd, errfd, pipefd[1]};
    pid_t pid = gvb_spawn(self, argv, env.vars, fds, 4, 0);
    gvb_env_free(&env);
    close(pipefd[1]);
    if (pid < 0) {
        snprintf(why, len, "cannot start the proof worker: %s", strerror(errno));
        close(pipefd[0]);
        close(errfd);
        return -1;
    }
    struct timespec t0, t;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    char line[GVB_PROTO_MAX_LINE];
    size_t used = 0;
    int timed_out = 0;
    gvb_kv_set_text(proof, "proof_status", "none");
    for (;;) {
        clock_gettime(CLOCK_MONOTONIC, &t);
        double left = PROOF_DEADLINE_S - (double)(t.tv_sec - t0.tv_sec) -
                      (double)(t.tv_nsec - t0.tv_nsec) * 1e-9;
        if (left <= 0) {
            timed_out = 1;
            kill(pid, SIGKILL); /* by its own pid */
            break;
        }
        struct pollfd pfd = {.fd = pipefd[0], .events = POLLIN};
        if (poll(&pfd, 1, (int)(left * 1000) + 1) <= 0)
            continue;
        char buf[4096];
        ssize_t k = read(pipefd[0], buf, sizeof buf);
        if (k < 0 && errno == EINTR)
            continue;
        if (k <= 0)
            break;
        for (ssize_t i = 0; i < k; i++) {
            if (buf[i] != '\n') {
                if (used + 1 < sizeof line)
                    line[used++] = buf[i];
                continue;
            }
            line[used] = '\0';
            used = 0;
            gvb_msg m;
            if (gvb_proto_parse(line, &m) != 0)
                continue;
            if (m.type == GVB_MSG_EXTRA)
                gvb_kv_set_num(proof, m.name, m.value);
            else if (m.type == GVB_MSG_TEXT)
                gvb_kv_set_text(proof, m.name, "%s", m.text);
            else if (m.type == GVB_MSG_STATUS) {
                gvb_kv_set_text(proof, "proof_status", "%s", m.name);
                gvb_kv_set_text(proof, "proof_reason", "%s", m.text ? m.text : "");
            }
        }
    }
    close(pipefd[0]);
    int ws = 0;
    waitpid(pid, &ws, 0);
    /* the worker's last stderr line explains a failure (e.g. ld.so refusing the preload) */
    char tail[512] = "";
    off_t end = lseek(errfd, 0, SEEK_END);
    off_t from = end > (off_t)sizeof tail - 1 ? end - (off_t)sizeof tail + 1 : 0;
    ssize_t got = pread(errfd, tail, sizeof tail - 1, from);
    close(errfd);
    tail[got > 0 ? got : 0] = '\0';
    while (*tail && tail[strlen(tail) - 1] == '\n')
        tail[strlen(tail) - 1] = '\0';
    char *last = strrchr(tail, '\n');
    if (*tail)
        gvb_kv_set_text(proof, "proof_stderr", "%s", last ? last + 1 : tail);
    if (timed_out)
        gvb_kv_set_text(proof, "proof_reason", "the proof worker overran %.0f s", PROOF_DEADLINE_S);
    else if (WIFSIGNALED(ws))
        gvb_kv_set_text(proof, "proof_reason", "the proof worker died of signal %d",
                        WTERMSIG(ws));
    return 0;
}

static int calib_verify(gvb_system *s, gvb_kv *proof, char *why, size_t len)
{
    calib_priv *p = s->priv;
    if (!p) {
        snprintf(why, len, "not set up");
        return -1;
    }
    gvb_kv_set_text(proof, "method",
                    "__calib-proof worker under LD_PRELOAD: cudaMalloc, cudaFree, one kernel "
                    "launch, cudaMemGetInfo; the layer's own counters must show them");
    gvb_kv_set_text(proof, "lib_path", "%s", p->lib);
    gvb_kv_set_num(proof, "lib_exists", access(p->lib, R_OK) == 0);
    if (run_proof(s, proof, why, len) != 0)
        return -1;
    return gvb_calib_judge_proof(proof, &p->spec, why, len);
}

/* The spec setup parsed, or (before setup) the option parsed now. */
static gvb_calib_spec spec_of(const gvb_system *s)
{
    const calib_priv *p = s->priv;
    gvb_calib_spec spec = {0};
    if (p)
        spec = p->spec;
    else
        gvb_calib_spec_parse(s->opts->calib, &spec, NULL, 0);
    return spec;
}

static void calib_describe(gvb_system *s, gvb_kv *config)
{
    gvb_kv_set_text(config, "layer", "libgvb-calib.so (the suite's calibration layer)");
    gvb_kv_set_text(config, "spec", "%s", s->opts->calib);
    gvb_calib_spec spec = spec_of(s);
    gvb_kv_set_num(config, "launch_us", spec.launch_us);
    gvb_kv_set_num(config, "alloc_us", spec.alloc_us);
    gvb_kv_set_num(config, "mem_bytes", (double)spec.mem);
    gvb_kv_set_num(config, "duty_pct", spec.duty);
    char lib[PATH_MAX];
    if (library_path(lib, sizeof lib) == 0)
        gvb_kv_set_text(config, "library", "%s", lib);
}

/* The layer's own mem= and duty= are the limits its tenants get (so IS-001 and IS-003 have a
 * target without --memory-limit / --compute-limit). */
static void calib_limits(gvb_system *s, uint64_t *memory_bytes, int *compute_pct)
{
    gvb_calib_spec spec = spec_of(s); /* a bad spec never gets past option parsing */
    if (spec.mem > 0)
        *memory_bytes = spec.mem;
    if (spec.duty > 0 && spec.duty < 100)
        *compute_pct = (int)spec.duty;
}

static void calib_teardown(gvb_system *s, gvb_kv *notes)
{
    (void)notes;
    free(s->priv);
    s->priv = NULL;
}

const gvb_system_ops gvb_system_calib = {
    .name = "calib",
    .summary = "the suite's own calibration layer with known effects (--calib SPEC)",
    .needs_gpu = 1,
    .setup = calib_setup,
    .tenant_env = calib_env,
    .verify_active = calib_verify,
    .describe = calib_describe,
    .teardown = calib_teardown,
    .limits = calib_limits,
};
