/* NCCL metrics (NCCL-xxx): collectives across the machine's GPUs, one process per GPU, and
 * GPU-to-GPU copy bandwidth. Bus bandwidth as nccl-tests defines it (src/stats/busbw.h).
 *
 * Process design: the catalog gives these metrics one tenant. That tenant is rank 0 on
 * device 0; it asks NCCL for a unique id and execs ranks 1..G-1 itself (this binary's hidden
 * `__nccl_rank` subcommand, with the id in hex, the sizes and the iteration counts on the
 * command line), so the runner needs no per-metric tenant count. Exec, not fork, so rank 0
 * may hold a CUDA context. Every rank runs the same fixed schedule of collectives (no
 * min-time: ranks must issue the same operations); only rank 0 times and reports. A watchdog
 * thread in rank 0 turns a rank that dies, or collectives that never finish, into FAIL with
 * the reason instead of a hang, and kills the other ranks by pid. Ranks die with rank 0
 * (PR_SET_PDEATHSIG). NVLink multicast stays off (NCCL_NVLS_ENABLE=0) in every rank.
 *
 * With fewer than 2 GPUs the metrics SKIP. GVB_NCCL_ALLOW_SINGLE=1 (used by tests/gpu/run.sh)
 * runs the collective path as a 1-rank communicator on one GPU so the code is tested there;
 * its numbers go to `single_rank.*` extras of a result that still SKIPs: a 1-rank collective
 * moves nothing between GPUs and is not the metric. Methods in docs/metrics/nccl.md. */
#include "metrics/nccl.h"

#include <errno.h>
#include <getopt.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include "core/child.h"
#include "core/spawn.h"
#include "gpu/cuda_check.h"
#include "gpu/nccl_dl.h"
#include "stats/busbw.h"
#include "stats/stats.h"

extern char **environ;

#define SINGLE_ENV GVB_ENV_NCCL_ALLOW_SINGLE
#define LARGE_MAX (512ull << 20) /* bandwidth message size (NCCL-002/004) */
#define SWEEP_MAX (128ull << 20) /* NCCL-001's size sweep: 8 B .. this, x8 steps */
#define SWEEP_BATCH 10
#define BW_BATCH 5
#define BW_SAMPLES_MAX 50
#define CHECK_COUNT 1024 /* floats per rank in the correctness check */
#define MAX_RANKS 64

typedef struct coll_ctx {
    gvb_worker *w; /* rank 0: where numbers go; NULL on the other ranks */
    int single;    /* 1-rank self-test: numbers go to single_rank.* */
    gvb_nccl nccl;
    gvb_nccl_comm comm;
    int rank, nranks;
    gvb_collective coll;
    size_t large;
    int iters, warmup;
    cudaStream_t stream;
    float *send, *recv;
    char err[256];
} coll_ctx;

static int coll_of_metric(const char *code, gvb_collective *c)
{
    if (!strcmp(code, "NCCL-001"))
        *c = GVB_COLL_ALLREDUCE;
    else if (!strcmp(code, "NCCL-002"))
        *c = GVB_COLL_ALLGATHER;
    else if (!strcmp(code, "NCCL-004"))
        *c = GVB_COLL_BROADCAST;
    else
        return -1;
    return 0;
}

/* ---- output: rank 0 only; the 1-rank self-test keeps its numbers apart ---- */

static void out_sample(coll_ctx *c, double v)
{
    if (!c->w)
        return;
    if (c->single)
        gvb_emit_series(c->w, "single_rank.samples", v);
    else
        gvb_emit_sample(c->w, v);
}

static void out_extra(coll_ctx *c, const char *name, double v)
{
    if (!c->w)
        return;
    char k[128];
    snprintf(k, sizeof k, "%s%s", c->single ? "single_rank." : "", name);
    gvb_emit_extra(c->w, k, v);
}

/* ---- collectives ---- */

static int nccl_fail(coll_ctx *c, const char *what, int rc)
{
    snprintf(c->err, sizeof c->err, "%s: %s", what, c->nccl.error_string(rc));
    return -1;
}

static int cuda_fail(coll_ctx *c, const char *what, cudaError_t e)
{
    snprintf(c->err, sizeof c->err, "%s: %s", what, cudaGetErrorString(e));
    return -1;
}

/* Elements per rank's send buffer for a message of `bytes` (busbw.h's meaning of bytes). */
static size_t send_count(const coll_ctx *c, size_t bytes)
{
    size_t n = bytes / sizeof(float);
    return c->coll == GVB_COLL_ALLGATHER ? n / (size_t)c->nranks : n;
}

/* The bytes an operation of `bytes` really moves, as busbw.h counts them. */
static double op_bytes(const coll_ctx *c, size_t bytes)
{
    double n = (double)send_count(c, bytes) * sizeof(float);
    return c->coll == GVB_COLL_ALLGATHER ? n * c->nranks : n;
}

static int coll_op(coll_ctx *c, size_t bytes)
{
    size_t n = send_count(c, bytes);
    int rc;
    switch (c->coll) {
    case GVB_COLL_ALLREDUCE:
        rc = c->nccl.all_reduce(c->send, c->recv, n, GVB_NCCL_FLOAT32, GVB_NCCL_SUM, c->comm, c->stream);
        break;
    case GVB_COLL_ALLGATHER:
        rc = c->nccl.all_gather(c->send, c->recv, n, GVB_NCCL_FLOAT32, c->comm, c->stream);
        break;
    default:
        rc = c->nccl.broadcast(c->send, c->recv, n, GVB_NCCL_FLOAT32, 0, c->comm, c->stream);
        break;
    }
    return rc == GVB_NCCL_SUCCESS ? 0 : nccl_fail(c, gvb_collective_name(c->coll), rc);
}

/* k operations of `bytes` back to back, then one synchronize: seconds per operation. */
static int coll_batch(coll_ctx *c, size_t bytes, int k, double *sec)
{
    double t0 = gvb_now();
    for (int i = 0; i < k; i++)
        if (coll_op(c, bytes))
            return -1;
    cudaError_t e = cudaStreamSynchronize(c->stream);
    if (e != cudaSuccess)
        return cuda_fail(c, "cudaStreamSynchronize", e);
    *sec = (gvb_now() - t0) / k;
    return 0;
}

/* One operation on known data; every rank checks what it received. */
static int coll_check(coll_ctx *c)
{
    size_t n_in = CHECK_COUNT, n_out = c->coll == GVB_COLL_ALLGATHER ? n_in * (size_t)c->nranks : n_in;
    float *h = malloc(n_out * sizeof *h);
    if (!h)
        return cuda_fail(c, "check", cudaErrorMemoryAllocation);
    for (size_t i = 0; i < n_in; i++)
        h[i] = c->coll == GVB_COLL_BROADCAST ? (c->rank == 0 ? 42.0f : -1.0f) : (float)(c->rank + 1);
    cudaError_t e = cudaMemcpy(c->send, h, n_in * sizeof *h, cudaMemcpyHostToDevice);
    if (e == cudaSuccess)
        e = cudaMemset(c->recv, 0, n_out * sizeof *h);
    if (e != cudaSuccess) {
        free(h);
        return cuda_fail(c, "check setup", e);
    }
    size_t bytes = c->coll == GVB_COLL_ALLGATHER ? n_out * sizeof *h : n_in * sizeof *h;
    double s;
    if (coll_batch(c, bytes, 1, &s)) {
        free(h);
        return -1;
    }
    if ((e = cudaMemcpy(h, c->recv, n_out * sizeof *h, cudaMemcpyDeviceToHost)) != cudaSuccess) {
        free(h);
        return cuda_fail(c, "check copy-back", e);
    }
    int bad = 0;
    for (size_t i = 0; i < n_out && !bad; i++) {
        float want = c->coll == GVB_COLL_ALLREDUCE   ? (float)c->nranks * (c->nranks + 1) / 2
                     : c->coll == GVB_COLL_ALLGATHER ? (float)(i / n_in + 1)
                                                     : 42.0f;
        if (h[i] != want) {
            snprintf(c->err, sizeof c->err, "%s gave %g at element %zu, expected %g",
                     gvb_collective_name(c->coll), h[i], i, want);
            bad = 1;
        }
    }
    free(h);
    return bad ? -1 : 0;
}

static const char *size_label(size_t b, char *buf, size_t len)
{
    if (b >= (1u << 20))
        snprintf(buf, len, "%zuMiB", b >> 20);
    else if (b >= 1024)
        snprintf(buf, len, "%zuKiB", b >> 10);
    else
        snprintf(buf, len, "%zuB", b);
    return buf;
}

/* NCCL-001: latency of one small all-reduce (launch + synchronize), then the size sweep. */
static int schedule_allreduce(coll_ctx *c)
{
    const size_t small = 8;
    double s;
    for (int i = 0; i < c->warmup; i++)
        if (coll_batch(c, small, 1, &s))
            return -1;
    for (int i = 0; i < c->iters; i++) {
        if (coll_batch(c, small, 1, &s))
            return -1;
        out_sample(c, s * 1e6);
    }
    size_t top = c->large < SWEEP_MAX ? c->large : SWEEP_MAX;
    for (size_t b = small; b <= top; b *= 8) {
        if (coll_batch(c, b, 2, &s) || coll_batch(c, b, SWEEP_BATCH, &s))
            return -1;
        char l[32], k[96];
        size_label(b, l, sizeof l);
        double alg = gvb_alg_bw(op_bytes(c, b), s);
        snprintf(k, sizeof k, "sweep.%s.time_us", l);
        out_extra(c, k, s * 1e6);
        snprintf(k, sizeof k, "sweep.%s.algbw_GBps", l);
        out_extra(c, k, alg / 1e9);
        snprintf(k, sizeof k, "sweep.%s.busbw_GBps", l);
        out_extra(c, k, gvb_bus_bw(c->coll, alg, c->nranks) / 1e9);
    }
    out_extra(c, "primary_bytes", (double)small);
    return 0;
}

/* NCCL-002/004: bus bandwidth of batches of large operations. */
static int schedule_bandwidth(coll_ctx *c)
{
    double s;
    for (int i = 0; i < (c->warmup < 3 ? c->warmup : 3); i++)
        if (coll_batch(c, c->large, 1, &s))
            return -1;
    int n = c->iters < BW_SAMPLES_MAX ? c->iters : BW_SAMPLES_MAX;
    double bytes = op_bytes(c, c->large), tsum = 0;
    for (int i = 0; i < n; i++) {
        if (coll_batch(c, c->large, BW_BATCH, &s))
            return -1;
        tsum += s;
        out_sample(c, gvb_bus_bw(c->coll, gvb_alg_bw(bytes, s), c->nranks) / 1e9);
    }
    out_extra(c, "bytes", bytes);
    out_extra(c, "mean_time_us", tsum / n * 1e6);
    out_extra(c, "algbw_GBps_at_mean_time", gvb_alg_bw(bytes, tsum / n) / 1e9);
    out_extra(c, "busbw_factor", gvb_bus_bw_factor(c->coll, c->nranks));
    return 0;
}

/* Device, stream, buffers, communicator (blocks until every rank has joined), the
 * correctness check, the schedule, teardown. The same on every rank. */
static int coll_run(coll_ctx *c, const gvb_nccl_id *id)
{
    cudaError_t e;
    if ((e = cudaSetDevice(c->rank)) != cudaSuccess)
        return cuda_fail(c, "cudaSetDevice", e);
    if ((e = cudaStreamCreateWithFlags(&c->stream, cudaStreamNonBlocking)) != cudaSuccess)
        return cuda_fail(c, "cudaStreamCreate", e);
    size_t check = (size_t)CHECK_COUNT * sizeof(float) * (size_t)c->nranks;
    size_t bytes = c->large > check ? c->large : check;
    if ((e = cudaMalloc((void **)&c->send, bytes)) != cudaSuccess ||
        (e = cudaMalloc((void **)&c->recv, bytes)) != cudaSuccess)
        return cuda_fail(c, "cudaMalloc of the message buffers", e);
    int rc = c->nccl.comm_init_rank(&c->comm, c->nranks, *id, c->rank);
    if (rc != GVB_NCCL_SUCCESS)
        return nccl_fail(c, "ncclCommInitRank", rc);
    int r = coll_check(c);
    if (!r)
        r = c->coll == GVB_COLL_ALLREDUCE ? schedule_allreduce(c) : schedule_bandwidth(c);
    c->nccl.comm_destroy(c->comm);
    cudaFree(c->send);
    cudaFree(c->recv);
    cudaStreamDestroy(c->stream);
    return r;
}

/* ---- rank 0: spawning and watching the other ranks ---- */

typedef struct ranks {
    int n; /* processes besides rank 0 */
    pid_t pid[MAX_RANKS];
    int status[MAX_RANKS], reaped[MAX_RANKS];
    volatile int done;
    double limit_s;
    gvb_worker *w;
    pthread_t th;
    int watching;
} ranks;

static void hex_encode(const gvb_nccl_id *id, char *out)
{
    const unsigned char *b = (const unsigned char *)id->internal;
    for (int i = 0; i < GVB_NCCL_UNIQUE_ID_BYTES; i++)
        sprintf(out + 2 * i, "%02x", b[i]);
}

static int hex_decode(const char *s, gvb_nccl_id *id)
{
    if (strlen(s) != 2 * GVB_NCCL_UNIQUE_ID_BYTES)
        return -1;
    for (int i = 0; i < GVB_NCCL_UNIQUE_ID_BYTES; i++) {
        unsigned v;
        if (sscanf(s + 2 * i, "%2x", &v) != 1)
            return -1;
        id->internal[i] = (char)v;
    }
    return 0;
}

static int spawn_ranks(ranks *rk, const coll_ctx *c, const gvb_nccl_id *id, char *why, size_t len)
{
    char hex[2 * GVB_NCCL_UNIQUE_ID_BYTES + 1];
    hex_encode(id, hex);
    gvb_cloexec_protocol_fds(); /* ranks must not hold the protocol or barrier fds */
    for (int r = 1; r < c->nranks; r++) {
        char a[8][320];
        snprintf(a[0], sizeof a[0], "--metric=%s", c->w->metric->code);
        snprintf(a[1], sizeof a[1], "--rank=%d", r);
        snprintf(a[2], sizeof a[2], "--nranks=%d", c->nranks);
        snprintf(a[3], sizeof a[3], "--id=%s", hex);
        snprintf(a[4], sizeof a[4], "--bytes=%zu", c->large);
        snprintf(a[5], sizeof a[5], "--iterations=%d", c->iters);
        snprintf(a[6], sizeof a[6], "--warmup=%d", c->warmup);
        snprintf(a[7], sizeof a[7], "--parent=%d", (int)getpid());
        char *argv[] = {"gpu-virt-bench", (char *)c->w->metric->child /* __nccl_rank */,
                        a[0], a[1], a[2], a[3], a[4], a[5], a[6], a[7], NULL};
        const int fds[] = {0, 1, 2};
        pid_t pid = gvb_spawn("/proc/self/exe", argv, environ, fds, 3, 0);
        if (pid < 0) {
            snprintf(why, len, "cannot start rank %d: %s", r, strerror(errno));
            return -1;
        }
        rk->pid[rk->n++] = pid;
    }
    return 0;
}

static void kill_ranks(ranks *rk)
{
    for (int i = 0; i < rk->n; i++)
        if (!rk->reaped[i])
            kill(rk->pid[i], SIGKILL); /* by pid, never a group */
    for (int i = 0; i < rk->n; i++)
        if (!rk->reaped[i] && waitpid(rk->pid[i], &rk->status[i], 0) == rk->pid[i])
            rk->reaped[i] = 1;
}

/* Polls the ranks while rank 0 is in NCCL: a rank that fails, or a schedule past its time,
 * ends this process with FAIL (rank 0 would otherwise wait in a collective forever). */
static void *watch_ranks(void *arg)
{
    ranks *rk = arg;
    double t0 = gvb_now();
    while (!rk->done) {
        for (int i = 0; i < rk->n; i++) {
            if (rk->reaped[i] || waitpid(rk->pid[i], &rk->status[i], WNOHANG) != rk->pid[i])
                continue;
            rk->reaped[i] = 1;
            if (WIFEXITED(rk->status[i]) && WEXITSTATUS(rk->status[i]) == 0)
                continue;
            kill_ranks(rk);
            gvb_report_status(rk->w, GVB_FAIL, "rank %d %s %d (its stderr is in the log)", i + 1,
                              WIFSIGNALED(rk->status[i]) ? "was killed by signal" : "exited with status",
                              WIFSIGNALED(rk->status[i]) ? WTERMSIG(rk->status[i]) : WEXITSTATUS(rk->status[i]));
            _exit(0);
        }
        if (gvb_now() - t0 > rk->limit_s) {
            kill_ranks(rk);
            gvb_report_status(rk->w, GVB_FAIL, "collectives did not finish within %.0f s", rk->limit_s);
            _exit(0);
        }
        usleep(100000);
    }
    return NULL;
}

/* Waits for the ranks after rank 0's schedule; returns 0 when all succeeded. */
static int finish_ranks(ranks *rk, char *why, size_t len)
{
    rk->done = 1;
    if (rk->watching)
        pthread_join(rk->th, NULL);
    double t0 = gvb_now();
    for (int i = 0; i < rk->n; i++) {
        while (!rk->reaped[i] && gvb_now() - t0 < 30) {
            if (waitpid(rk->pid[i], &rk->status[i], WNOHANG) == rk->pid[i])
                rk->reaped[i] = 1;
            else
                usleep(10000);
        }
    }
    int bad = 0;
    for (int i = 0; i < rk->n; i++) {
        if (!rk->reaped[i]) {
            snprintf(why, len, "rank %d did not exit", i + 1);
            bad = 1;
        } else if (!WIFEXITED(rk->status[i]) || WEXITSTATUS(rk->status[i]) != 0) {
            snprintf(why, len, "rank %d ended badly (wait status %d)", i + 1, rk->status[i]);
            bad = 1;
        }
    }
    kill_ranks(rk);
    return bad ? -1 : 0;
}

static int gpu_count_or_skip(gvb_worker *w, int *count, int *single)
{
    GVB_CUDA_TRY(w, cudaGetDeviceCount(count));
    const char *s = getenv(SINGLE_ENV);
    *single = *count < 2 && s && !strcmp(s, "1");
    if (*count < 2 && !*single)
        return gvb_report_status(w, GVB_SKIP, "needs >= 2 GPUs; this machine has %d", *count);
    return 0;
}

static int nccl_collective(gvb_worker *w)
{
    coll_ctx c = {.w = w};
    int count;
    if (coll_of_metric(w->metric->code, &c.coll) != 0)
        return gvb_report_status(w, GVB_FAIL, "no collective for %s", w->metric->code);
    if (gpu_count_or_skip(w, &count, &c.single))
        return 1;
    char why[256];
    if (gvb_nccl_load(&c.nccl, why, sizeof why) != 0)
        return gvb_report_status(w, GVB_SKIP, "%s", why);
    setenv("NCCL_NVLS_ENABLE", "0", 1); /* NVLink multicast must stay off (ranks inherit it) */
    c.nranks = c.single ? 1 : count;
    if (c.nranks > MAX_RANKS + 1)
        c.nranks = MAX_RANKS + 1;
    GVB_CUDA_TRY(w, cudaSetDevice(0));
    size_t free_b = 0, total_b = 0;
    GVB_CUDA_TRY(w, cudaMemGetInfo(&free_b, &total_b));
    /* two message buffers per rank, sized from the tenant's free memory (a limit may apply) */
    c.large = free_b / 8 / (1u << 20) * (1u << 20);
    if (c.large > LARGE_MAX)
        c.large = LARGE_MAX;
    if (c.large < (4u << 20))
        return gvb_report_status(w, GVB_SKIP, "only %zu MiB free: too little for the messages", free_b >> 20);
    c.iters = w->iterations;
    c.warmup = w->warmup;
    int version = 0;
    c.nccl.get_version(&version);
    gvb_nccl_id id;
    int rc = c.nccl.get_unique_id(&id);
    if (rc != GVB_NCCL_SUCCESS)
        return gvb_report_status(w, GVB_FAIL, "ncclGetUniqueId: %s", c.nccl.error_string(rc));
    ranks rk = {.w = w, .limit_s = w->metric->impl->deadline_s - 15};
    if (spawn_ranks(&rk, &c, &id, why, sizeof why) != 0) {
        kill_ranks(&rk);
        return gvb_report_status(w, GVB_FAIL, "%s", why);
    }
    if (rk.n > 0)
        rk.watching = pthread_create(&rk.th, NULL, watch_ranks, &rk) == 0;
    if (gvb_barrier(w) != 0) {
        kill_ranks(&rk);
        return gvb_report_status(w, GVB_FAIL, "start barrier failed");
    }
    int r = coll_run(&c, &id);
    if (r != 0) {
        kill_ranks(&rk);
        rk.done = 1;
        if (rk.watching)
            pthread_join(rk.th, NULL);
        return gvb_report_status(w, GVB_FAIL, "rank 0: %s", c.err);
    }
    if (finish_ranks(&rk, why, sizeof why) != 0)
        return gvb_report_status(w, GVB_FAIL, "%s", why);
    char v[32];
    gvb_nccl_version_str(version, v, sizeof v);
    out_extra(&c, "ranks", c.nranks);
    gvb_emit_text(w, c.single ? "single_rank.nccl" : "nccl", "%s (%s)", v, c.nccl.path);
    const char *algo = getenv("NCCL_ALGO");
    gvb_emit_text(w, c.single ? "single_rank.algorithm" : "algorithm", "%s",
                  algo && *algo ? algo : "NCCL's own choice per size (NCCL_ALGO unset)");
    if (c.single)
        return gvb_report_status(w, GVB_SKIP,
                                 "needs >= 2 GPUs; this machine has %d (1-rank %s self-test passed)",
                                 count, gvb_collective_name(c.coll));
    return 0;
}
const gvb_metric_impl gvb_impl_nccl_001 = {.run = nccl_collective, .deadline_s = 120,
                                           .child_main = gvb_nccl_rank_main};
const gvb_metric_impl gvb_impl_nccl_002 = {.run = nccl_collective, .deadline_s = 120,
                                           .child_main = gvb_nccl_rank_main};
const gvb_metric_impl gvb_impl_nccl_004 = {.run = nccl_collective, .deadline_s = 120,
                                           .child_main = gvb_nccl_rank_main};

/* ---- the other ranks: `gpu-virt-bench __nccl_rank ...` ---- */

int gvb_nccl_rank_main(int argc, char **argv, double t_main)
{
    static const struct option opts[] = {
        {"metric", required_argument, 0, 'm'}, {"rank", required_argument, 0, 'r'},
        {"nranks", required_argument, 0, 'n'}, {"id", required_argument, 0, 'i'},
        {"bytes", required_argument, 0, 'b'}, {"iterations", required_argument, 0, 't'},
        {"warmup", required_argument, 0, 'w'}, {"parent", required_argument, 0, 'p'},
        {0, 0, 0, 0},
    };
    coll_ctx c = {0};
    gvb_nccl_id id;
    int have_id = 0, code_ok = 0;
    long parent = 0;
    int o;
    optind = 1;
    while ((o = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        switch (o) {
        case 'm': code_ok = coll_of_metric(optarg, &c.coll) == 0; break;
        case 'r': c.rank = atoi(optarg); break;
        case 'n': c.nranks = atoi(optarg); break;
        case 'i': have_id = hex_decode(optarg, &id) == 0; break;
        case 'b': c.large = strtoull(optarg, NULL, 10); break;
        case 't': c.iters = atoi(optarg); break;
        case 'w': c.warmup = atoi(optarg); break;
        case 'p': parent = atol(optarg); break;
        default: return 2;
        }
    }
    if (!code_ok || !have_id || c.rank < 1 || c.rank >= c.nranks || !c.large || c.iters < 1) {
        fprintf(stderr, "gpu-virt-bench __nccl_rank: bad arguments\n");
        return 2;
    }
    prctl(PR_SET_PDEATHSIG, SIGKILL); /* never outlive rank 0 */
    if (getppid() != (pid_t)parent)
        return 4; /* rank 0 is already gone */
    setenv("NCCL_NVLS_ENABLE", "0", 1);
    char why[256];
    if (gvb_nccl_load(&c.nccl, why, sizeof why) != 0) {
        fprintf(stderr, "nccl rank %d: %s\n", c.rank, why);
        return 3;
    }
    if (coll_run(&c, &id) != 0) {
        fprintf(stderr, "nccl rank %d: %s\n", c.rank, c.err);
        return 3;
    }
    return 0;
}

/* ---- NCCL-003 P2P GPU Bandwidth -------------------------------------------------------- */

typedef struct peer_copy {
    void *src, *dst;
    int src_dev, dst_dev;
    size_t bytes;
    cudaStream_t stream;
} peer_copy;

/* GB/s of BW_BATCH back-to-back peer copies. */
static cudaError_t peer_batch(const peer_copy *p, double *gbps)
{
    double t0 = gvb_now();
    cudaError_t e = cudaSuccess;
    for (int i = 0; i < BW_BATCH && e == cudaSuccess; i++)
        e = cudaMemcpyPeerAsync(p->dst, p->dst_dev, p->src, p->src_dev, p->bytes, p->stream);
    if (e == cudaSuccess)
        e = cudaStreamSynchronize(p->stream);
    *gbps = (double)p->bytes * BW_BATCH / (gvb_now() - t0) / 1e9;
    return e;
}

static int nccl_003(gvb_worker *w)
{
    int count, single;
    if (gpu_count_or_skip(w, &count, &single))
        return 1;
    if (single)
        return gvb_report_status(w, GVB_SKIP, "needs >= 2 GPUs; this machine has %d", count);
    size_t bytes = 256u << 20;
    void *buf[2];
    cudaStream_t st[2];
    int access[2] = {0, 0};
    for (int d = 0; d < 2; d++) {
        size_t f = 0, t = 0;
        GVB_CUDA_TRY(w, cudaSetDevice(d));
        GVB_CUDA_TRY(w, cudaMemGetInfo(&f, &t));
        if (f / 4 / (1u << 20) * (1u << 20) < bytes)
            bytes = f / 4 / (1u << 20) * (1u << 20);
    }
    if (bytes < (4u << 20))
        return gvb_report_status(w, GVB_SKIP, "too little free memory for the copies");
    for (int d = 0; d < 2; d++) {
        GVB_CUDA_TRY(w, cudaSetDevice(d));
        GVB_CUDA_TRY(w, cudaMalloc(&buf[d], bytes));
        GVB_CUDA_TRY(w, cudaStreamCreateWithFlags(&st[d], cudaStreamNonBlocking));
        GVB_CUDA_TRY(w, cudaDeviceCanAccessPeer(&access[d], d, 1 - d));
        if (access[d]) {
            cudaError_t e = cudaDeviceEnablePeerAccess(1 - d, 0);
            if (e != cudaSuccess && e != cudaErrorPeerAccessAlreadyEnabled)
                return gvb_report_status(w, GVB_FAIL, "cudaDeviceEnablePeerAccess(%d->%d): %s", d,
                                         1 - d, cudaGetErrorString(e));
            cudaGetLastError();
        }
    }
    int perf_rank = -1, atomics = 0;
    cudaDeviceGetP2PAttribute(&perf_rank, cudaDevP2PAttrPerformanceRank, 0, 1);
    cudaDeviceGetP2PAttribute(&atomics, cudaDevP2PAttrNativeAtomicSupported, 0, 1);
    peer_copy fwd = {buf[0], buf[1], 0, 1, bytes, st[0]}, rev = {buf[1], buf[0], 1, 0, bytes, st[1]};
    if (gvb_barrier(w) != 0)
        return gvb_report_status(w, GVB_FAIL, "start barrier failed");
    int n = w->iterations < BW_SAMPLES_MAX ? w->iterations : BW_SAMPLES_MAX;
    double g;
    for (int i = 0; i < 2; i++) {
        GVB_CUDA_TRY(w, peer_batch(&fwd, &g));
        GVB_CUDA_TRY(w, peer_batch(&rev, &g));
    }
    for (int i = 0; i < n; i++) {
        GVB_CUDA_TRY(w, peer_batch(&fwd, &g));
        gvb_emit_sample(w, g);
        GVB_CUDA_TRY(w, peer_batch(&rev, &g));
        gvb_emit_series(w, "reverse_1to0_GBps", g);
    }
    gvb_emit_extra(w, "bytes", (double)bytes);
    gvb_emit_extra(w, "peer_access", access[0] && access[1]);
    gvb_emit_extra(w, "p2p_performance_rank", perf_rank);
    gvb_emit_extra(w, "p2p_native_atomics", atomics);
    gvb_emit_text(w, "link", "%s",
                  access[0] && access[1]
                      ? (atomics ? "direct peer access with native atomics (NVLink-class)"
                                 : "direct peer access without native atomics (PCIe P2P-class)")
                      : "no peer access: the driver stages copies through host memory");
    for (int d = 0; d < 2; d++) {
        cudaSetDevice(d);
        cudaFree(buf[d]);
        cudaStreamDestroy(st[d]);
    }
    return 0;
}
const gvb_metric_impl gvb_impl_nccl_003 = {.run = nccl_003, .deadline_s = 120};
