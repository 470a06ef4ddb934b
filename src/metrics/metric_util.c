/* Helpers shared by the metric implementations (see metric_util.h). */
#include "metrics/metric_util.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <math.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "core/child.h"
#include "core/env.h"
#include "core/protocol.h"
#include "core/spawn.h"
#include "systems/system.h"

extern char **environ;

int gvb_is_native(const gvb_worker *w) { return gvb_kind_is_baseline(w->kind); }

int gvb_child_run(char *const *args, int strip_layers, double timeout_s, char *out, size_t outlen,
                  double *t_spawn, char *why, size_t whylen)
{
    int nargs = 0;
    while (args[nargs])
        nargs++;
    char **argv = calloc((size_t)nargs + 2, sizeof *argv);
    gvb_env env = {0};
    int p[2] = {-1, -1}, rc = -1;
    pid_t pid = -1;
    out[0] = '\0';
    if (!argv || gvb_env_init(&env, environ) != 0) {
        snprintf(why, whylen, "out of memory");
        goto done;
    }
    argv[0] = "gpu-virt-bench";
    for (int i = 0; i < nargs; i++)
        argv[i + 1] = args[i];
    if (strip_layers)
        gvb_env_strip_layers(&env);
    gvb_cloexec_protocol_fds(); /* a child holding them would keep the runner waiting */
    if (pipe2(p, O_CLOEXEC) != 0) {
        snprintf(why, whylen, "pipe: %s", strerror(errno));
        goto done;
    }
    /* stdin and stderr are the tenant's, stdout the pipe */
    const int fds[] = {0, p[1], 2};
    *t_spawn = gvb_now();
    pid = gvb_spawn("/proc/self/exe", argv, env.vars, fds, 3, 0);
    close(p[1]);
    p[1] = -1;
    if (pid < 0) {
        snprintf(why, whylen, "cannot start %s: %s", args[0], strerror(errno));
        goto done;
    }
    size_t len = 0;
    double deadline = gvb_now() + timeout_s;
    for (;;) {
        int ms = (int)((deadline - gvb_now()) * 1e3);
        if (ms <= 0)
            break; /* the wait below kills it */
        struct pollfd pf = {.fd = p[0], .events = POLLIN};
        if (poll(&pf, 1, ms) <= 0)
            continue;
        char buf[1024];
        ssize_t k = read(p[0], buf, sizeof buf);
        if (k < 0 && errno == EINTR)
            continue;
        if (k <= 0)
            break;
        size_t take = (size_t)k < outlen - 1 - len ? (size_t)k : outlen - 1 - len;
        memcpy(out + len, buf, take);
        len += take;
        out[len] = '\0';
    }
    int st = 0;
    double left = deadline - gvb_now();
    int ended = gvb_spawn_wait(pid, left > 0 ? left : 0, &st); /* past it: killed by pid */
    if (ended < 0)
        snprintf(why, whylen, "waitpid: %s", strerror(errno));
    else if (ended > 0)
        snprintf(why, whylen, "child %s overran %.0f s", args[0], timeout_s);
    else if (WIFSIGNALED(st))
        snprintf(why, whylen, "child %s killed by signal %d", args[0], WTERMSIG(st));
    else if (WEXITSTATUS(st) != 0)
        snprintf(why, whylen, "child %s exited with status %d: %s", args[0], WEXITSTATUS(st),
                 out);
    else
        rc = 0;
done:
    if (p[0] >= 0)
        close(p[0]);
    if (p[1] >= 0)
        close(p[1]);
    gvb_env_free(&env);
    free(argv);
    return rc;
}

int gvb_emit_finite(gvb_worker *w, const char *name, double v, const char *why)
{
    return isfinite(v) ? gvb_emit_extra(w, name, v) : gvb_emit_text(w, name, "%s", why);
}

/* ---- shared page ------------------------------------------------------------------------ */

static void shared_name(const gvb_worker *w, char *buf, size_t len)
{
    snprintf(buf, len, "/gvb-%d-%s", (int)getppid(), w->metric->code);
}

/* The page's name is predictable, so tenant 0 creates it exclusively (O_EXCL): an object
 * already there is never truncated and used. One of ours left by a crashed run whose pid
 * came back is removed first; anyone else's makes the open fail. The other tenants open only
 * a page that is ours and private to us. */
static int shared_create(const char *name)
{
    int fd = shm_open(name, O_RDWR | O_CREAT | O_EXCL, 0600);
    if (fd >= 0 || errno != EEXIST)
        return fd;
    struct stat st;
    int old = shm_open(name, O_RDONLY, 0);
    int stale = old >= 0 && fstat(old, &st) == 0 && st.st_uid == geteuid();
    if (old >= 0)
        close(old);
    if (!stale || shm_unlink(name) != 0) {
        errno = EEXIST;
        return -1;
    }
    return shm_open(name, O_RDWR | O_CREAT | O_EXCL, 0600);
}

gvb_shared *gvb_shared_open(const gvb_worker *w)
{
    char name[64];
    shared_name(w, name, sizeof name);
    int creator = w->tenant == 0;
    int fd = creator ? shared_create(name) : shm_open(name, O_RDWR, 0);
    if (fd < 0)
        return NULL;
    struct stat st;
    if ((creator && ftruncate(fd, 4096) != 0) || fstat(fd, &st) != 0 ||
        st.st_uid != geteuid() || (st.st_mode & 077) || st.st_size < 4096) {
        close(fd);
        return NULL;
    }
    void *m = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    close(fd);
    return m == MAP_FAILED ? NULL : (gvb_shared *)m;
}

void gvb_shared_close(gvb_shared *s, const gvb_worker *w)
{
    if (s)
        munmap(s, 4096);
    if (w->tenant == 0) {
        char name[64];
        shared_name(w, name, sizeof name);
        shm_unlink(name);
    }
}

void gvb_shared_stop_phase(gvb_shared *s, int phase)
{
    if (s && __atomic_load_n(&s->stop, __ATOMIC_ACQUIRE) < phase)
        __atomic_store_n(&s->stop, phase, __ATOMIC_RELEASE);
}

int gvb_shared_phase_stopped(gvb_shared *s, int phase)
{
    return s ? __atomic_load_n(&s->stop, __ATOMIC_ACQUIRE) >= phase : 0;
}

void gvb_shared_set_stop(gvb_shared *s) { gvb_shared_stop_phase(s, INT_MAX); }

int gvb_shared_stopped(gvb_shared *s) { return gvb_shared_phase_stopped(s, 1); }

void gvb_shared_add_ready(gvb_shared *s)
{
    if (s)
        __atomic_add_fetch(&s->ready, 1, __ATOMIC_ACQ_REL);
}

int gvb_shared_ready(gvb_shared *s) { return s ? __atomic_load_n(&s->ready, __ATOMIC_ACQUIRE) : 0; }

/* ---- allocate until full ------------------------------------------------------------------ */

int gvb_alloc_fill(gvb_alloc_set *s, size_t max_chunk, size_t min_chunk)
{
    for (size_t chunk = max_chunk; chunk >= min_chunk;) {
        if (s->n == s->cap) {
            size_t cap = s->cap ? s->cap * 2 : 256;
            void **np = realloc(s->p, cap * sizeof *np);
            if (np)
                s->p = np;
            size_t *ns = realloc(s->size, cap * sizeof *ns);
            if (ns)
                s->size = ns;
            if (!np || !ns) {
                s->last_err = cudaErrorMemoryAllocation;
                return -1;
            }
            s->cap = cap;
        }
        void *ptr = NULL;
        cudaError_t e = cudaMalloc(&ptr, chunk);
        if (e == cudaSuccess) {
            s->size[s->n] = chunk;
            s->p[s->n++] = ptr;
            s->bytes += chunk;
            continue;
        }
        cudaGetLastError(); /* out-of-memory is not sticky: clear it */
        s->last_err = e;
        if (e != cudaErrorMemoryAllocation)
            return -1;
        chunk /= 2;
    }
    return 0;
}

void gvb_alloc_release(gvb_alloc_set *s)
{
    for (size_t i = 0; i < s->n; i++)
        cudaFree(s->p[i]);
    free(s->p);
    free(s->size);
    cudaError_t last = s->last_err;
    memset(s, 0, sizeof *s);
    s->last_err = last;
}

/* ---- parent side -------------------------------------------------------------------------- */

const gvb_series *gvb_tenant_series(const gvb_result *r, int t, const char *name, int tenants)
{
    char key[160];
    if (tenants > 1)
        snprintf(key, sizeof key, "t%d.%s", t, name);
    else
        snprintf(key, sizeof key, "%s", name);
    return gvb_series_lookup(r, key);
}

double gvb_extra_num(const gvb_result *r, const char *key)
{
    return gvb_kv_num(&r->extras, key);
}

void gvb_sleep_s(double s)
{
    struct timespec d = {(time_t)s, (long)((s - floor(s)) * 1e9)};
    nanosleep(&d, NULL);
}

/* The NVML monitor series of tenant t, or NULL when the monitor was unavailable. */
const gvb_series *gvb_monitor_series(const gvb_result *r, int t, const char *what)
{
    char key[64];
    snprintf(key, sizeof key, "monitor.t%d.%s", t, what);
    return gvb_series_lookup(r, key);
}

void gvb_copy_samples(gvb_result *r, const gvb_series *per_tenant, int tenants)
{
    for (int i = 0; i < tenants; i++)
        for (size_t k = 0; k < per_tenant[i].n; k++)
            gvb_series_push(&r->samples, per_tenant[i].v[k]);
}

/* Without monitor series the tenant's own numbers stand alone; the runner may already have
 * said why the monitor was unavailable, which is kept. */
void gvb_monitor_unavailable(gvb_result *r)
{
    if (!gvb_kv_get(&r->extras, "monitor"))
        gvb_kv_set_text(&r->extras, "monitor", "unavailable: no NVML monitor series");
    gvb_kv_set_text(&r->extras, "monitor_cross_check",
                    "not done: the tenant's own measurement is reported unchecked");
}
