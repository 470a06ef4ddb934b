/* LLM-010 Multi-GPU Scaling: a tensor-parallel MLP layer (column-split gate/up, row-split down
 * projection, NCCL all-reduce of the output, as Megatron-LM splits it) on G GPUs, one process
 * per GPU, against the whole layer on one GPU. Method: docs/metrics/llm.md.
 *
 * The worker process never touches CUDA (a child of a process that initialised CUDA cannot use
 * it): it counts GPUs in a short-lived child, forks one rank process per GPU, collects their
 * results through pipes and emits them. NCCL is loaded with dlopen (src/gpu/nccl_dl.c). */
#include <errno.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "core/child.h"
#include "core/spawn.h"
#include "gpu/nccl_dl.h"
#include "kernels/kernels.h"
#include "metrics/llm_common.h"
#include "stats/llm_formulas.h"

#define TP_MAX_GPUS 16
#define TP_MAX_SAMPLES 1000
#define TP_TOL 2e-2 /* partial sums rounded to bf16 on each rank before the all-reduce */

typedef struct tp_shape {
    int tokens, hidden, ffn, ranks;
    int gpus; /* rank r runs on device r % gpus */
} tp_shape;

/* What a rank process sends back (rank 0 with samples). */
typedef struct tp_result {
    int ok;
    char reason[400];
    int n;
    double check_err, tp_err;
    double peak_bf16;
    char peak_source[200];
} tp_result;

typedef struct tp_rank {
    tp_shape s;
    int rank;
    void *x, *wg, *wu, *wd, *gu, *act, *y, *y1; /* bf16 */
    gvb_nccl_comm comm;
} tp_rank;

/* The whole layer on this GPU: Y1 = (silu(X Wg^T) * (X Wu^T)) Wd^T. */
static int single_body(llm_ctx *c, void *arg)
{
    tp_rank *t = arg;
    long long H = t->s.hidden, F = t->s.ffn;
    int M = t->s.tokens;
    LLM_BLAS(c, gvb_gemm(&c->blas, GVB_PREC_BF16, 1, M, t->s.ffn, t->s.hidden, t->x, H, 0, t->wg,
                         H, 0, t->gu, 2 * F, 0, 1, 0.0f));
    LLM_BLAS(c, gvb_gemm(&c->blas, GVB_PREC_BF16, 1, M, t->s.ffn, t->s.hidden, t->x, H, 0, t->wu,
                         H, 0, (char *)t->gu + F * 2, 2 * F, 0, 1, 0.0f));
    LLM_CUDA(c, gvb_llm_silu_mul(t->gu, t->act, M, t->s.ffn, 2 * t->s.ffn, c->stream));
    LLM_BLAS(c, gvb_gemm(&c->blas, GVB_PREC_BF16, 1, M, t->s.hidden, t->s.ffn, t->act, F, 0, t->wd,
                         F, 0, t->y1, H, 0, 1, 0.0f));
    return 0;
}

/* This rank's shard: rows [r fs, (r+1) fs) of Wg and Wu, columns of Wd; then Y = sum over ranks. */
static int tp_body(llm_ctx *c, void *arg)
{
    tp_rank *t = arg;
    long long H = t->s.hidden, F = t->s.ffn, fs = F / t->s.ranks, off = t->rank * fs;
    int M = t->s.tokens;
    LLM_BLAS(c, gvb_gemm(&c->blas, GVB_PREC_BF16, 1, M, (int)fs, t->s.hidden, t->x, H, 0,
                         (char *)t->wg + off * H * 2, H, 0, t->gu, 2 * fs, 0, 1, 0.0f));
    LLM_BLAS(c, gvb_gemm(&c->blas, GVB_PREC_BF16, 1, M, (int)fs, t->s.hidden, t->x, H, 0,
                         (char *)t->wu + off * H * 2, H, 0, (char *)t->gu + fs * 2, 2 * fs, 0, 1,
                         0.0f));
    LLM_CUDA(c, gvb_llm_silu_mul(t->gu, t->act, M, (int)fs, 2 * (int)fs, c->stream));
    LLM_BLAS(c, gvb_gemm(&c->blas, GVB_PREC_BF16, 1, M, t->s.hidden, (int)fs, t->act, fs, 0,
                         (char *)t->wd + off * 2, F, 0, t->y, H, 0, 1, 0.0f));
    gvb_nccl *nc = gvb_nccl_open(NULL, 0); /* loaded before any rank reaches here */
    int nr = nc->all_reduce(t->y, t->y, (size_t)M * t->s.hidden, GVB_NCCL_BF16, GVB_NCCL_SUM,
                                 t->comm, c->stream);
    if (nr != 0)
        return llm_fail_at(c, __FILE__, __LINE__, "ncclAllReduce", nc->error_string(nr));
    return 0;
}

/* Moves n bytes through a pipe whole (write when out, else read); -1 on error or EOF. */
static int pipe_all(int fd, void *buf, size_t n, int out)
{
    char *p = buf;
    while (n) {
        ssize_t k = out ? write(fd, p, n) : read(fd, p, n);
        if (k < 0 && errno == EINTR)
            continue;
        if (k <= 0)
            return -1;
        p += k, n -= (size_t)k;
    }
    return 0;
}

static int write_all(int fd, const void *buf, size_t n)
{
    return pipe_all(fd, (void *)buf, n, 1);
}

static int read_all(int fd, void *buf, size_t n)
{
    return pipe_all(fd, buf, n, 0);
}

/* Y (all-reduced) against Y1 (one GPU) at seeded entries, and Y1's down projection against a
 * double reference. */
static int tp_check(llm_ctx *c, tp_rank *t, tp_result *res)
{
    if (llm_check_gemm(c, GVB_DT_BF16, GVB_DT_BF16, t->s.tokens, t->s.hidden, t->s.ffn, t->act,
                       t->s.ffn, t->wd, t->s.ffn, t->y1, t->s.hidden, NULL, 16, c->w->seed,
                       &res->check_err))
        return 1;
    if (!(res->check_err <= 1e-2)) {
        snprintf(c->err, sizeof c->err, "down projection differs from the reference: %.3g",
                 res->check_err);
        return 1;
    }
    int M = t->s.tokens, H = t->s.hidden, rows[4] = {0, M / 3, (2 * M) / 3, M - 1};
    float *a = malloc(sizeof *a * (size_t)H), *b = malloc(sizeof *b * (size_t)H);
    double *out = malloc(sizeof *out * (size_t)H * 4), *ref = malloc(sizeof *ref * (size_t)H * 4);
    int rc = !a || !b || !out || !ref;
    for (int i = 0; i < 4 && !rc; i++) {
        rc = llm_fetch_f32(c, (char *)t->y + (size_t)rows[i] * H * 2, GVB_DT_BF16, H, 1, H, a) ||
             llm_fetch_f32(c, (char *)t->y1 + (size_t)rows[i] * H * 2, GVB_DT_BF16, H, 1, H, b);
        for (int j = 0; j < H && !rc; j++)
            out[i * H + j] = a[j], ref[i * H + j] = b[j];
    }
    if (!rc)
        res->tp_err = gvb_rel_l2_error(out, ref, (size_t)H * 4);
    free(a), free(b), free(out), free(ref);
    if (!rc && !(res->tp_err <= TP_TOL)) {
        snprintf(c->err, sizeof c->err,
                 "tensor-parallel output differs from the one-GPU output: relative error %.3g > %.3g",
                 res->tp_err, TP_TOL);
        return 1;
    }
    return rc;
}

/* One rank: its own GPU, the same seeded weights as every rank, the 1-GPU layer timed, then the
 * TP layer timed. Writes a tp_result (+ samples from rank 0) to fd. Returns the exit status. */
static int rank_main(gvb_worker *w, tp_shape s, int rank, int id_in, const int *id_out, int fd)
{
    tp_result res;
    memset(&res, 0, sizeof res);
    gvb_worker cw = *w;
    cw.out_fd = -1; /* only the parent speaks the protocol */
    llm_ctx c;
    tp_rank t = {.s = s, .rank = rank};
    double *t1 = NULL, *tg = NULL;
    int n1 = 0, ng = 0, rc = 1, comm_ok = 0;
    char why[256];
    if (llm_setup_on(&cw, &c, 1, rank % s.gpus)) {
        snprintf(res.reason, sizeof res.reason, "rank %d: %s", rank, c.err);
        goto send;
    }
    res.peak_bf16 = c.peak.tflops[GVB_PREC_BF16];
    snprintf(res.peak_source, sizeof res.peak_source, "%s", c.peak.source);
    gvb_nccl_id id;
    gvb_nccl *nc = gvb_nccl_open(why, sizeof why);
    if (!nc) {
        snprintf(res.reason, sizeof res.reason, "rank %d: %s", rank, why);
        goto send;
    }
    if (rank == 0) {
        int nr = nc->get_unique_id(&id);
        if (nr != 0) {
            snprintf(res.reason, sizeof res.reason, "ncclGetUniqueId: %s", nc->error_string(nr));
            goto send;
        }
        for (int r = 1; r < s.ranks; r++)
            write_all(id_out[r], &id, sizeof id);
    } else if (read_all(id_in, &id, sizeof id) != 0) {
        snprintf(res.reason, sizeof res.reason, "rank %d: no NCCL id from rank 0", rank);
        goto send;
    }
    size_t H = (size_t)s.hidden, F = (size_t)s.ffn, M = (size_t)s.tokens;
    if (llm_alloc(&c, &t.x, M * H * 2) || llm_alloc(&c, &t.wg, F * H * 2) ||
        llm_alloc(&c, &t.wu, F * H * 2) || llm_alloc(&c, &t.wd, H * F * 2) ||
        llm_alloc(&c, &t.gu, M * 2 * F * 2) || llm_alloc(&c, &t.act, M * F * 2) ||
        llm_alloc(&c, &t.y, M * H * 2) || llm_alloc(&c, &t.y1, M * H * 2)) {
        snprintf(res.reason, sizeof res.reason, "rank %d: cudaMalloc failed", rank);
        goto send;
    }
    float sh = sqrtf(3.0f / (float)H), sf = sqrtf(3.0f / (float)F);
    if (gvb_llm_fill_random(t.x, GVB_DT_BF16, M * H, w->seed + 1, 1.7f, c.stream) ||
        gvb_llm_fill_random(t.wg, GVB_DT_BF16, F * H, w->seed + 2, sh, c.stream) ||
        gvb_llm_fill_random(t.wu, GVB_DT_BF16, F * H, w->seed + 3, sh, c.stream) ||
        gvb_llm_fill_random(t.wd, GVB_DT_BF16, H * F, w->seed + 4, sf, c.stream)) {
        snprintf(res.reason, sizeof res.reason, "rank %d: random fill failed", rank);
        goto send;
    }
    int nr = nc->comm_init_rank(&t.comm, s.ranks, id, rank);
    if (nr != 0) {
        snprintf(res.reason, sizeof res.reason, "rank %d: ncclCommInitRank: %s", rank,
                 nc->error_string(nr));
        goto send;
    }
    comm_ok = 1;
    if (single_body(&c, &t) || tp_body(&c, &t) || cudaStreamSynchronize(c.stream) != cudaSuccess ||
        tp_check(&c, &t, &res)) {
        snprintf(res.reason, sizeof res.reason, "rank %d: %s", rank, c.err);
        goto send;
    }
    int n = w->iterations < TP_MAX_SAMPLES ? w->iterations : TP_MAX_SAMPLES;
    /* every rank runs the 1-GPU layer on its own GPU, then all run the TP layer (its
     * all-reduce keeps the ranks in step) */
    if (llm_time(&c, n, w->warmup, single_body, &t, &t1, &n1) ||
        llm_time(&c, n, w->warmup, tp_body, &t, &tg, &ng)) {
        snprintf(res.reason, sizeof res.reason, "rank %d: %s", rank, c.err);
        goto send;
    }
    res.ok = 1;
    res.n = n1 < ng ? n1 : ng;
    rc = 0;
send:
    if (write_all(fd, &res, sizeof res) == 0 && res.ok && rank == 0) {
        write_all(fd, t1, sizeof *t1 * (size_t)res.n);
        write_all(fd, tg, sizeof *tg * (size_t)res.n);
    }
    free(t1), free(tg);
    if (comm_ok)
        nc->comm_destroy(t.comm);
    llm_teardown(&c);
    return rc;
}

static int device_count_exit(void *arg)
{
    (void)arg;
    int n = 0;
    return cudaGetDeviceCount(&n) == cudaSuccess ? (n > 250 ? 250 : n) : 255;
}

/* GPUs visible to a fresh process (CUDA_VISIBLE_DEVICES applies), or -1. */
static int count_gpus(void)
{
    pid_t pid = gvb_child_fork(device_count_exit, NULL);
    int st;
    if (pid < 0 || gvb_spawn_wait(pid, -1, &st) != 0)
        return -1;
    return WIFEXITED(st) && WEXITSTATUS(st) != 255 ? WEXITSTATUS(st) : -1;
}

static void kill_ranks(const pid_t *pid, const int *alive, int n)
{
    for (int r = 0; r < n; r++)
        if (alive[r])
            kill(pid[r], SIGKILL);
    for (int r = 0; r < n; r++)
        if (alive[r])
            waitpid(pid[r], NULL, 0);
}

/* Waits for every rank; when one fails, the others (possibly blocked in NCCL waiting for it)
 * are killed. Returns the first failing rank, or -1 when all exited 0. */
static int wait_ranks(const pid_t *pid, int n, double timeout_s, char *why, size_t len)
{
    int alive[TP_MAX_GPUS], left = n, failed = -1;
    for (int r = 0; r < n; r++)
        alive[r] = 1;
    struct timespec ts0, ts;
    clock_gettime(CLOCK_MONOTONIC, &ts0);
    while (left > 0) {
        int st;
        pid_t p = waitpid(-1, &st, WNOHANG);
        if (p > 0) {
            for (int r = 0; r < n; r++) {
                if (pid[r] != p || !alive[r])
                    continue;
                alive[r] = 0, left--;
                if (!(WIFEXITED(st) && WEXITSTATUS(st) == 0) && failed < 0) {
                    failed = r;
                    if (WIFSIGNALED(st))
                        snprintf(why, len, "rank %d killed by signal %d", r, WTERMSIG(st));
                    else
                        snprintf(why, len, "rank %d exited with status %d", r, WEXITSTATUS(st));
                    kill_ranks(pid, alive, n);
                    return failed;
                }
            }
            continue;
        }
        clock_gettime(CLOCK_MONOTONIC, &ts);
        if ((double)(ts.tv_sec - ts0.tv_sec) + (ts.tv_nsec - ts0.tv_nsec) * 1e-9 > timeout_s) {
            snprintf(why, len, "ranks did not finish within %.0f s", timeout_s);
            kill_ranks(pid, alive, n);
            return 0;
        }
        struct timespec nap = {0, 20 * 1000 * 1000};
        nanosleep(&nap, NULL);
    }
    return -1;
}

/* One rank's process: it keeps its own result pipe's write end and id pipe's read end
 * (rank 0 also every id pipe's write end) and closes the rest, so a rank whose id never comes
 * sees EOF. */
typedef struct rank_start {
    gvb_worker *w;
    const tp_shape *s;
    int r;
    int (*res)[2], (*id)[2];
    int *id_out;
} rank_start;

static int rank_child(void *arg)
{
    const rank_start *a = arg;
    for (int k = 0; k < a->s->ranks; k++) {
        close(a->res[k][0]);
        if (k != a->r)
            close(a->res[k][1]);
        if (k != a->r)
            close(a->id[k][0]);
        if (a->r != 0)
            close(a->id[k][1]);
    }
    return rank_main(a->w, *a->s, a->r, a->id[a->r][0], a->id_out, a->res[a->r][1]);
}

static int llm_010(gvb_worker *w)
{
    int gpus = count_gpus();
    if (gpus < 0)
        return gvb_report_status(w, GVB_FAIL, "cannot count the GPUs (cudaGetDeviceCount failed)");
    /* GVB_LLM_TP_SAME_GPU=1 on one GPU: two ranks on it, a test of the rank machinery (NCCL
     * refuses two ranks on one device, so this ends FAIL with NCCL's reason, never a number) */
    int same = gpus == 1 && llm_env_int(GVB_ENV_LLM_TP_SAME_GPU, 0, 0, 1);
    if (gpus < 2 && !same)
        return gvb_report_status(w, GVB_SKIP, "needs >= 2 GPUs; this machine has %d", gpus);
    char why[256];
    if (!gvb_nccl_open(why, sizeof why) || gvb_blas_available(why, sizeof why) != 0)
        return gvb_report_status(w, GVB_SKIP, "%s", why);
    tp_shape s = {
        .tokens = llm_env_int("GVB_LLM_TP_TOKENS", w->quick ? 1024 : 4096, 16, 1 << 20),
        .hidden = llm_env_int("GVB_LLM_HIDDEN", 4096, 64, 65536),
        .ffn = llm_env_int("GVB_LLM_FFN", 11008, 64, 262144),
        .ranks = llm_env_int("GVB_LLM_TP_GPUS", gpus, 2, TP_MAX_GPUS),
        .gpus = gpus,
    };
    if (same)
        s.ranks = 2;
    else if (s.ranks > gpus)
        s.ranks = gpus;
    s.ffn = s.ffn / (8 * s.ranks) * (8 * s.ranks); /* equal shards, 16-byte aligned */
    if (gvb_barrier(w) != 0)
        return gvb_report_status(w, GVB_FAIL, "start barrier failed");
    /* every pipe exists before the first fork; rank 0 writes the NCCL id into id[r] */
    int res[TP_MAX_GPUS][2], id[TP_MAX_GPUS][2], id_out[TP_MAX_GPUS];
    pid_t pid[TP_MAX_GPUS];
    for (int r = 0; r < s.ranks; r++)
        if (pipe(res[r]) != 0 || pipe(id[r]) != 0)
            return gvb_report_status(w, GVB_FAIL, "pipe: %s", strerror(errno));
    for (int r = 0; r < s.ranks; r++)
        id_out[r] = id[r][1];
    int started = 0;
    for (; started < s.ranks; started++) {
        rank_start rs = {.w = w, .s = &s, .r = started, .res = res, .id = id, .id_out = id_out};
        pid[started] = gvb_child_fork(rank_child, &rs);
        if (pid[started] < 0)
            break;
    }
    for (int r = 0; r < s.ranks; r++) {
        close(res[r][1]);
        close(id[r][0]);
        close(id[r][1]);
    }
    if (started < s.ranks) {
        int alive[TP_MAX_GPUS] = {0};
        for (int r = 0; r < started; r++)
            alive[r] = 1;
        kill_ranks(pid, alive, started);
        return gvb_report_status(w, GVB_FAIL, "fork: %s", strerror(errno));
    }
    char wwhy[256] = "";
    int failed = wait_ranks(pid, s.ranks, 240, wwhy, sizeof wwhy);
    tp_result head[TP_MAX_GPUS];
    for (int r = 0; r < s.ranks; r++) {
        memset(&head[r], 0, sizeof head[r]);
        if (read_all(res[r][0], &head[r], sizeof head[r]) != 0)
            snprintf(head[r].reason, sizeof head[r].reason, "rank %d sent no result", r);
    }
    int culprit = failed;
    for (int r = 0; r < s.ranks && culprit < 0; r++)
        if (!head[r].ok)
            culprit = r;
    if (culprit >= 0 || wwhy[0]) {
        for (int k = 0; k < s.ranks; k++)
            close(res[k][0]);
        const char *reason = culprit >= 0 ? head[culprit].reason : "";
        return gvb_report_status(w, GVB_FAIL, "%s%s%s", reason, reason[0] && wwhy[0] ? "; " : "",
                                 wwhy);
    }
    int n = head[0].n;
    double *t1 = malloc(sizeof *t1 * (size_t)(n > 0 ? n : 1)), *tg = malloc(sizeof *tg * (size_t)(n > 0 ? n : 1));
    int bad = !t1 || !tg || read_all(res[0][0], t1, sizeof *t1 * (size_t)n) != 0 ||
              read_all(res[0][0], tg, sizeof *tg * (size_t)n) != 0;
    for (int k = 0; k < s.ranks; k++)
        close(res[k][0]);
    if (bad || n < 1) {
        free(t1), free(tg);
        return gvb_report_status(w, GVB_FAIL, "rank 0's samples did not arrive");
    }
    double flops = 3 * gvb_gemm_flops(s.tokens, s.ffn, s.hidden), best1 = 0, bestg = 0;
    for (int i = 0; i < n; i++) {
        gvb_emit_series(w, "one_gpu_ms", t1[i] * 1e3);
        gvb_emit_series(w, "tensor_parallel_ms", tg[i] * 1e3);
        best1 = fmax(best1, flops / t1[i] / 1e12);
        bestg = fmax(bestg, flops / tg[i] / s.ranks / 1e12);
    }
    double m1 = llm_median(t1, n), mg = llm_median(tg, n);
    free(t1), free(tg);
    double ratio = gvb_tp_scaling_ratio(flops / mg, s.ranks, flops / m1);
    if (same)
        return gvb_report_status(w, GVB_SKIP,
                                 "GVB_LLM_TP_SAME_GPU test: 2 ranks ran on one GPU (ratio %.3f is "
                                 "not a multi-GPU measurement)",
                                 ratio);
    gvb_emit_value(w, ratio);
    gvb_emit_extra(w, "gpus", s.ranks);
    gvb_emit_extra(w, "check_rel_error", head[0].check_err);
    gvb_emit_extra(w, "tp_vs_one_gpu_rel_error", head[0].tp_err);
    gvb_emit_extra(w, "one_gpu_tflops", flops / m1 / 1e12);
    gvb_emit_extra(w, "tp_tflops_per_gpu", flops / mg / s.ranks / 1e12);
    gvb_emit_text(w, "peak_source", "%s", head[0].peak_source);
    gvb_emit_text(w, "method",
                  "MLP layer, %d tokens, hidden %d, gated MLP %d, bf16: gate/up split by "
                  "columns, down by rows, NCCL all-reduce (sum) of the output; one process per "
                  "GPU; value = TP throughput / (G x one-GPU throughput), medians",
                  s.tokens, s.hidden, s.ffn);
    /* peaks: each rank's own GPU; rank 0's table entry stands for all */
    double peak = head[0].peak_bf16;
    const char *src = head[0].peak_source;
    const struct { const char *name; double v; } chk[] = {
        {"one_gpu_tflops_best", best1}, {"tp_tflops_per_gpu_best", bestg}};
    for (size_t i = 0; i < 2; i++) {
        char key[96];
        snprintf(key, sizeof key, "%s_pct_of_peak", chk[i].name);
        if (peak > 0)
            gvb_emit_extra(w, key, gvb_pct_of_peak(chk[i].v, peak));
        if (gvb_above_peak(chk[i].v, peak))
            return gvb_report_status(w, GVB_FAIL,
                                     "%s = %.4g TFLOP/s is above the device's peak of %.4g (%s): "
                                     "a measurement bug, not a result",
                                     chk[i].name, chk[i].v, peak, src);
    }
    return 0;
}
const gvb_metric_impl gvb_impl_llm_010 = {.run = llm_010, .deadline_s = 300};
