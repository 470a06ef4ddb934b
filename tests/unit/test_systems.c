/* Systems under test without a GPU: tenant environments per system, name and option
 * resolution, run directories, the MPS daemon's start/stop against a fake control program,
 * the activation proof rules, the mig-ideal model and the monitor's series. */
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/env.h"
#include "core/monitor.h"
#include "systems/mps_control.h"
#include "systems/system.h"
#include "tests.h"

static char tmpdir[64];

static int setup_tmp(void **state)
{
    (void)state;
    snprintf(tmpdir, sizeof tmpdir, "/tmp/gvb-unit.XXXXXX");
    if (!mkdtemp(tmpdir))
        return -1;
    setenv("TMPDIR", tmpdir, 1);
    return 0;
}

static int teardown_tmp(void **state)
{
    (void)state;
    gvb_rundir_remove(tmpdir);
    unsetenv("TMPDIR");
    return 0;
}

static gvb_system resolved(const char *name, const gvb_options *o)
{
    gvb_system s;
    char err[512];
    int rc = gvb_system_resolve(name, o, &s, err, sizeof err);
    if (rc != 0)
        print_error("resolve %s: %s\n", name, err);
    assert_int_equal(rc, 0);
    return s;
}

static int is_dir_0700(const char *p)
{
    struct stat st;
    return stat(p, &st) == 0 && S_ISDIR(st.st_mode) && (st.st_mode & 0777) == 0700;
}

static int exists(const char *p) { return access(p, F_OK) == 0; }

/* ---- environments ------------------------------------------------------------------- */

static void test_native_and_external_env(void **state)
{
    (void)state;
    gvb_options o;
    gvb_options_defaults(&o);
    char *base[] = {"PATH=/bin", "LD_PRELOAD=/x.so", "CUDA_DEVICE_MEMORY_LIMIT=4g",
                    "CUDA_MPS_PIPE_DIRECTORY=/tmp/p", NULL};
    gvb_system s = resolved("native", &o);
    gvb_env e;
    gvb_env_init(&e, base);
    assert_int_equal(s.ops->tenant_env(&s, 0, 1, &e), 0);
    assert_null(gvb_env_get(&e, "LD_PRELOAD"));
    assert_null(gvb_env_get(&e, "CUDA_DEVICE_MEMORY_LIMIT"));
    assert_null(gvb_env_get(&e, "CUDA_MPS_PIPE_DIRECTORY"));
    gvb_env_free(&e);

    s = resolved("external", &o); /* the environment's layer stays as it is */
    gvb_env_init(&e, base);
    assert_int_equal(s.ops->tenant_env(&s, 1, 2, &e), 0);
    assert_string_equal(gvb_env_get(&e, "LD_PRELOAD"), "/x.so");
    assert_string_equal(gvb_env_get(&e, "CUDA_DEVICE_MEMORY_LIMIT"), "4g");
    assert_string_equal(gvb_env_get(&e, "CUDA_MPS_PIPE_DIRECTORY"), "/tmp/p");
    assert_int_equal(e.n, 4);
    gvb_env_free(&e);
}

static void test_hami_env(void **state)
{
    (void)state;
    gvb_options o;
    gvb_options_defaults(&o);
    o.memory_limit = 4ull << 30;
    o.compute_limit = 50;
    snprintf(o.hami_lib, sizeof o.hami_lib, "/opt/hami/libvgpu.so");
    gvb_system s = resolved("hami", &o);
    char why[512];
    assert_int_equal(s.ops->setup(&s, why, sizeof why), 0);
    gvb_kv config = {0};
    s.ops->describe(&s, &config);
    const char *rundir = gvb_kv_text(&config, "run_dir");
    assert_non_null(rundir);
    char dir[PATH_MAX];
    snprintf(dir, sizeof dir, "%s", rundir);
    assert_true(is_dir_0700(dir));
    assert_true(strncmp(dir, tmpdir, strlen(tmpdir)) == 0); /* honours TMPDIR */
    assert_true(exists("/tmp/vgpulock"));

    char *base[] = {"PATH=/bin", "LD_PRELOAD=/other.so", "CUDA_MPS_PIPE_DIRECTORY=/tmp/p", NULL};
    gvb_env e0, e1;
    gvb_env_init(&e0, base);
    gvb_env_init(&e1, base);
    assert_int_equal(s.ops->tenant_env(&s, 0, 2, &e0), 0);
    assert_int_equal(s.ops->tenant_env(&s, 1, 2, &e1), 0);
    assert_string_equal(gvb_env_get(&e0, "LD_PRELOAD"), "/opt/hami/libvgpu.so");
    assert_string_equal(gvb_env_get(&e0, "CUDA_REDIRECT"), "/opt/hami/libvgpu.so");
    assert_string_equal(gvb_env_get(&e0, "CUDA_DEVICE_MEMORY_LIMIT"), "4096m");
    assert_string_equal(gvb_env_get(&e0, "CUDA_DEVICE_SM_LIMIT"), "50");
    assert_string_equal(gvb_env_get(&e0, "GPU_CORE_UTILIZATION_POLICY"), "FORCE");
    assert_string_equal(gvb_env_get(&e0, "LIBCUDA_LOG_LEVEL"), "0");
    assert_null(gvb_env_get(&e0, "CUDA_MPS_PIPE_DIRECTORY"));
    const char *c0 = gvb_env_get(&e0, "CUDA_DEVICE_MEMORY_SHARED_CACHE");
    const char *c1 = gvb_env_get(&e1, "CUDA_DEVICE_MEMORY_SHARED_CACHE");
    assert_true(strncmp(c0, dir, strlen(dir)) == 0 && strncmp(c1, dir, strlen(dir)) == 0);
    assert_true(strcmp(c0, c1) != 0); /* one cache file per tenant: separate limits */
    gvb_env e2;
    gvb_env_init(&e2, base); /* a later metric's tenant 0 gets a fresh file too */
    assert_int_equal(s.ops->tenant_env(&s, 0, 2, &e2), 0);
    assert_true(strcmp(c0, gvb_env_get(&e2, "CUDA_DEVICE_MEMORY_SHARED_CACHE")) != 0);
    /* a cache file HAMi created in the run directory goes with it */
    FILE *f = fopen(c0, "w");
    assert_non_null(f);
    fclose(f);
    gvb_env_free(&e0);
    gvb_env_free(&e1);
    gvb_env_free(&e2);
    s.ops->teardown(&s, &config);
    assert_false(exists(dir));
    assert_null(s.priv);
    s.ops->teardown(&s, &config); /* idempotent */
    gvb_kv_free(&config);

    /* no compute limit: no throttling variables; the library from $GVB_HAMI_LIB */
    o.compute_limit = 0;
    o.hami_lib[0] = '\0';
    setenv("GVB_HAMI_LIB", "/env/libvgpu.so", 1);
    s = resolved("hami", &o);
    assert_int_equal(s.ops->setup(&s, why, sizeof why), 0);
    gvb_env_init(&e0, base);
    assert_int_equal(s.ops->tenant_env(&s, 0, 1, &e0), 0);
    assert_string_equal(gvb_env_get(&e0, "LD_PRELOAD"), "/env/libvgpu.so");
    assert_null(gvb_env_get(&e0, "CUDA_DEVICE_SM_LIMIT"));
    assert_null(gvb_env_get(&e0, "GPU_CORE_UTILIZATION_POLICY"));
    gvb_env_free(&e0);
    s.ops->teardown(&s, NULL);
    unsetenv("GVB_HAMI_LIB");
}

static void test_preload_env_and_resolve(void **state)
{
    (void)state;
    gvb_options o;
    gvb_options_defaults(&o);
    snprintf(o.preloads[0].name, sizeof o.preloads[0].name, "fcsp");
    snprintf(o.preloads[0].path, sizeof o.preloads[0].path, "/opt/libfcsp.so");
    o.n_preloads = 1;
    snprintf(o.extra_env[0].system, sizeof o.extra_env[0].system, "fcsp");
    snprintf(o.extra_env[0].assignment, sizeof o.extra_env[0].assignment, "FCSP_LIMIT=a=b");
    snprintf(o.extra_env[1].system, sizeof o.extra_env[1].system, "other");
    snprintf(o.extra_env[1].assignment, sizeof o.extra_env[1].assignment, "NOT_MINE=1");
    o.n_extra_env = 2;
    gvb_system s = resolved("fcsp", &o);
    assert_ptr_equal(s.ops, &gvb_system_preload);
    assert_string_equal(s.name, "fcsp");
    char *base[] = {"LD_PRELOAD=/old.so", "CUDA_DEVICE_SM_LIMIT=20", NULL};
    gvb_env e;
    gvb_env_init(&e, base);
    assert_int_equal(s.ops->tenant_env(&s, 0, 1, &e), 0);
    assert_int_equal(gvb_system_apply_extra_env(&s, &e), 0);
    assert_string_equal(gvb_env_get(&e, "LD_PRELOAD"), "/opt/libfcsp.so");
    assert_string_equal(gvb_env_get(&e, "FCSP_LIMIT"), "a=b");
    assert_null(gvb_env_get(&e, "NOT_MINE"));
    assert_null(gvb_env_get(&e, "CUDA_DEVICE_SM_LIMIT"));
    gvb_env_free(&e);

    char err[512];
    assert_int_equal(gvb_system_resolve("nosuch", &o, &s, err, sizeof err), -1);
    assert_non_null(strstr(err, "--preload names: fcsp"));
    snprintf(o.preloads[0].name, sizeof o.preloads[0].name, "hami"); /* hides a built-in */
    assert_int_equal(gvb_system_resolve("hami", &o, &s, err, sizeof err), -1);
    assert_non_null(strstr(err, "'hami' is a built-in"));
    o.n_preloads = 0;
    snprintf(o.mig_profile, sizeof o.mig_profile, "5g.50gb");
    assert_int_equal(gvb_system_resolve("mig-ideal", &o, &s, err, sizeof err), -1);
    assert_non_null(strstr(err, "unknown --mig-profile '5g.50gb'"));
    snprintf(o.mig_profile, sizeof o.mig_profile, "1g.10gb");
    s = resolved("mig-ideal", &o);
    assert_string_equal(s.ops->kind, "model");
}

static void test_mig_env(void **state)
{
    (void)state;
    gvb_options o;
    gvb_options_defaults(&o);
    gvb_system s = resolved("mig", &o);
    char why[512];
    gvb_kv gpu = {0};
    gvb_kv_set_text(&gpu, "mig_mode", "disabled");
    s.gpu = &gpu;
    assert_int_not_equal(s.ops->probe(&s, why, sizeof why), 0); /* never enables MIG */
    assert_non_null(strstr(why, "MIG is disabled"));
    setenv("GVB_MIG_DEVICES", "MIG-aaa,MIG-bbb", 1);
    assert_int_equal(s.ops->probe(&s, why, sizeof why), 0);
    assert_int_equal(s.ops->setup(&s, why, sizeof why), 0);
    const char *want[] = {"MIG-aaa", "MIG-bbb", "MIG-aaa"};
    for (int t = 0; t < 3; t++) { /* round-robin */
        gvb_env e;
        gvb_env_init(&e, NULL);
        assert_int_equal(s.ops->tenant_env(&s, t, 3, &e), 0);
        assert_string_equal(gvb_env_get(&e, "CUDA_VISIBLE_DEVICES"), want[t]);
        gvb_env_free(&e);
    }
    gvb_kv proof = {0};
    gvb_kv_set_text(&proof, "env.CUDA_VISIBLE_DEVICES", "MIG-aaa");
    gvb_kv_set_text(&proof, "device_name", "NVIDIA H100 80GB HBM3");
    s.proof_gpu = 1;
    assert_int_not_equal(s.ops->verify_active(&s, &proof, why, sizeof why), 0);
    gvb_kv_set_text(&proof, "device_name", "NVIDIA H100 80GB HBM3 MIG 1g.10gb");
    assert_int_equal(s.ops->verify_active(&s, &proof, why, sizeof why), 0);
    s.ops->teardown(&s, NULL);
    unsetenv("GVB_MIG_DEVICES");
    gvb_kv_free(&proof);
    gvb_kv_free(&gpu);
}

/* ---- run directories ------------------------------------------------------------------ */

static void test_rundir(void **state)
{
    (void)state;
    char dir[PATH_MAX], p[PATH_MAX + 64], outside[PATH_MAX + 64];
    assert_int_equal(gvb_rundir_create("t", dir, sizeof dir), 0);
    assert_true(is_dir_0700(dir));
    snprintf(p, sizeof p, "%s/a/b", dir);
    snprintf(outside, sizeof outside, "%s/keep-me", tmpdir);
    assert_int_equal(mkdir(outside, 0700), 0);
    snprintf(p, sizeof p, "%s/a", dir);
    assert_int_equal(mkdir(p, 0700), 0);
    snprintf(p, sizeof p, "%s/a/file", dir);
    FILE *f = fopen(p, "w");
    fclose(f);
    snprintf(p, sizeof p, "%s/link", dir);
    assert_int_equal(symlink(outside, p), 0);
    assert_int_equal(gvb_rundir_remove(dir), 0);
    assert_false(exists(dir));
    assert_true(exists(outside)); /* a link inside is removed, never followed */
    assert_int_equal(gvb_rundir_remove(dir), 0); /* already gone: fine */
    rmdir(outside);
}

/* ---- MPS against a fake control program ----------------------------------------------- */

static void use_fake_control(void)
{
    char path[PATH_MAX];
    assert_non_null(realpath("tests/fake-mps-control.sh", path));
    setenv("GVB_MPS_CONTROL", path, 1);
}

static void test_mps_lifecycle(void **state)
{
    (void)state;
    use_fake_control();
    gvb_options o;
    gvb_options_defaults(&o);
    o.memory_limit = 4ull << 30;
    o.compute_limit = 50;
    gvb_system s = resolved("mps", &o);
    char why[1024];
    assert_int_equal(s.ops->probe(&s, why, sizeof why), 0);
    assert_int_equal(s.ops->setup(&s, why, sizeof why), 0);
    gvb_kv config = {0};
    s.ops->describe(&s, &config);
    char pipe[PATH_MAX], rundir[PATH_MAX];
    snprintf(pipe, sizeof pipe, "%s", gvb_kv_text(&config, "pipe_dir"));
    snprintf(rundir, sizeof rundir, "%s", gvb_kv_text(&config, "run_dir"));
    assert_true(is_dir_0700(rundir));
    pid_t pids[16];
    assert_true(gvb_mps_our_processes(pipe, pids, 16) >= 2); /* daemon and server */

    gvb_env e;
    gvb_env_init(&e, (char *[]){"LD_PRELOAD=/x.so", NULL});
    assert_int_equal(s.ops->tenant_env(&s, 0, 1, &e), 0);
    assert_string_equal(gvb_env_get(&e, "CUDA_MPS_PIPE_DIRECTORY"), pipe);
    assert_non_null(gvb_env_get(&e, "CUDA_MPS_LOG_DIRECTORY"));
    assert_string_equal(gvb_env_get(&e, "CUDA_MPS_ACTIVE_THREAD_PERCENTAGE"), "50");
    assert_string_equal(gvb_env_get(&e, "CUDA_MPS_PINNED_DEVICE_MEM_LIMIT"), "0=4096M");
    assert_null(gvb_env_get(&e, "LD_PRELOAD"));
    gvb_env_free(&e);

    /* proof: the worker must be a client of our server; with 50 % threads, fewer SMs */
    gvb_kv gpu = {0}, proof = {0};
    gvb_kv_set_num(&gpu, "sm_count", 132);
    s.gpu = &gpu;
    s.proof_gpu = 1;
    gvb_kv_set_num(&proof, "pid", 424242);
    gvb_kv_set_num(&proof, "sm_count", 66);
    assert_int_not_equal(s.ops->verify_active(&s, &proof, why, sizeof why), 0);
    assert_non_null(strstr(why, "not among the clients"));
    char clients[PATH_MAX + 16];
    snprintf(clients, sizeof clients, "%s/clients", pipe);
    FILE *f = fopen(clients, "w");
    fprintf(f, "111\n424242\n");
    fclose(f);
    assert_int_equal(s.ops->verify_active(&s, &proof, why, sizeof why), 0);
    assert_non_null(gvb_kv_get(&proof, "mps_server_pid"));
    gvb_kv_set_num(&proof, "sm_count", 132);
    assert_int_not_equal(s.ops->verify_active(&s, &proof, why, sizeof why), 0);
    assert_non_null(strstr(why, "sees all 132 SMs"));

    s.ops->teardown(&s, &config);
    assert_int_equal(gvb_mps_our_processes(pipe, pids, 16), 0);
    assert_false(exists(rundir));
    assert_non_null(strstr(gvb_kv_text(&config, "teardown"), "every daemon and server process is gone"));
    gvb_kv_free(&config);
    gvb_kv_free(&gpu);
    gvb_kv_free(&proof);
    unsetenv("GVB_MPS_CONTROL");
}

static void test_mps_failures(void **state)
{
    (void)state;
    use_fake_control();
    gvb_options o;
    gvb_options_defaults(&o);
    char why[1024];
    /* the daemon does not start: SKIP with the log's tail, nothing left behind */
    setenv("GVB_FAKE_MPS_FAIL", "1", 1);
    gvb_system s = resolved("mps", &o);
    assert_int_equal(s.ops->probe(&s, why, sizeof why), 0);
    assert_int_equal(s.ops->setup(&s, why, sizeof why), GVB_SKIP);
    assert_non_null(strstr(why, "did not start"));
    assert_non_null(strstr(why, "GVB_FAKE_MPS_FAIL is set")); /* from control.log */
    gvb_kv config = {0};
    s.ops->describe(&s, &config);
    char rundir[PATH_MAX];
    snprintf(rundir, sizeof rundir, "%s", gvb_kv_text(&config, "run_dir"));
    s.ops->teardown(&s, &config);
    assert_false(exists(rundir));
    gvb_kv_free(&config);
    unsetenv("GVB_FAKE_MPS_FAIL");

    /* a daemon that ignores quit: its processes are killed by pid after the timeout */
    setenv("GVB_FAKE_MPS_HANG", "1", 1);
    setenv("GVB_MPS_STOP_TIMEOUT_S", "0.5", 1);
    s = resolved("mps", &o);
    assert_int_equal(s.ops->probe(&s, why, sizeof why), 0);
    assert_int_equal(s.ops->setup(&s, why, sizeof why), 0);
    s.ops->describe(&s, &config);
    char pipe[PATH_MAX];
    snprintf(pipe, sizeof pipe, "%s", gvb_kv_text(&config, "pipe_dir"));
    s.ops->teardown(&s, &config);
    pid_t pids[16];
    assert_int_equal(gvb_mps_our_processes(pipe, pids, 16), 0);
    assert_non_null(strstr(gvb_kv_text(&config, "teardown"), "killed"));
    gvb_kv_free(&config);
    unsetenv("GVB_FAKE_MPS_HANG");
    unsetenv("GVB_MPS_STOP_TIMEOUT_S");

    /* no control program: probe SKIPs with the reason */
    setenv("GVB_MPS_CONTROL", "/nonexistent/nvidia-cuda-mps-control", 1);
    s = resolved("mps", &o);
    assert_int_not_equal(s.ops->probe(&s, why, sizeof why), 0);
    assert_non_null(strstr(why, "not an executable"));
    s.ops->teardown(&s, NULL);
    unsetenv("GVB_MPS_CONTROL");

    pid_t p[4];
    assert_int_equal(gvb_mps_parse_pids("123\n 456\nNo server\n", p, 4), 2);
    assert_int_equal(p[0], 123);
    assert_int_equal(p[1], 456);
}

/* ---- proof rules ---------------------------------------------------------------------- */

static void test_proof_rules(void **state)
{
    (void)state;
    gvb_kv proof = {0};
    gvb_kv_set_num(&proof, "preload.count", 2);
    gvb_kv_set_text(&proof, "preload.0", "/opt/a/libvgpu.so");
    gvb_kv_set_text(&proof, "preload.0.resolved", "/opt/b/libvgpu.so");
    gvb_kv_set_num(&proof, "preload.0.mapped", 1);
    gvb_kv_set_text(&proof, "preload.1", "libz.so.1");
    gvb_kv_set_num(&proof, "preload.1.mapped", 0);
    assert_int_equal(gvb_proof_lib_mapped(&proof, "/opt/a/libvgpu.so"), 1);
    assert_int_equal(gvb_proof_lib_mapped(&proof, "libz.so.1"), 0);
    assert_int_equal(gvb_proof_lib_mapped(&proof, "/opt/c/other.so"), -1);
    assert_int_equal(gvb_proof_mapped_count(&proof), 1);

    char why[512];
    gvb_kv_set_num(&proof, "mem_total_bytes", 4294967296.0);
    assert_int_equal(gvb_proof_check_memory_total(&proof, 4294967296.0 * 1.009, why, sizeof why), 0);
    gvb_kv_set_num(&proof, "mem_total_bytes", 85520809984.0); /* the physical 79.6 GiB */
    assert_int_equal(gvb_proof_check_memory_total(&proof, 4294967296.0, why, sizeof why), -1);
    assert_non_null(strstr(why, "not the 4096 MiB memory limit"));

    gvb_options o;
    gvb_options_defaults(&o);
    gvb_system s = {.opts = &o, .proof_gpu = 1};
    assert_int_equal(gvb_proof_check_layer(&s, &proof, "libz.so.1", 0, 0, why, sizeof why), -1);
    assert_non_null(strstr(why, "libz.so.1 is not mapped"));
    assert_int_equal(
        gvb_proof_check_layer(&s, &proof, "/opt/a/libvgpu.so", 4294967296.0, 0, why, sizeof why), -1);
    gvb_kv_set_num(&proof, "mem_total_bytes", 4294967296.0);
    assert_int_equal(
        gvb_proof_check_layer(&s, &proof, "/opt/a/libvgpu.so", 4294967296.0, 0, why, sizeof why), 0);

    /* compute: a finding, never a failure */
    gvb_kv_set_num(&proof, "native_compute_rate_kps", 500);
    gvb_kv_set_num(&proof, "compute_rate_kps", 480);
    gvb_proof_compute_finding(&proof, 50);
    assert_non_null(strstr(gvb_kv_text(&proof, "finding"), "compute limit not enforced for the proof's kernel"));
    assert_double_equal(gvb_kv_get(&proof, "compute_share_pct")->num, 96.0, 1e-9);
    gvb_kv proof2 = {0};
    gvb_kv_set_num(&proof2, "native_compute_rate_kps", 500);
    gvb_kv_set_num(&proof2, "compute_rate_kps", 260);
    gvb_proof_compute_finding(&proof2, 50);
    assert_null(gvb_kv_get(&proof2, "finding"));
    assert_non_null(strstr(gvb_kv_text(&proof2, "compute_check"), "limit enforced"));
    /* more than 10 pp above the limit is not enforced, even below the old midpoint (75 %) */
    gvb_kv proof3 = {0};
    gvb_kv_set_num(&proof3, "native_compute_rate_kps", 500);
    gvb_kv_set_num(&proof3, "compute_rate_kps", 320); /* 64 % with a 50 % limit */
    gvb_proof_compute_finding(&proof3, 50);
    assert_non_null(gvb_kv_text(&proof3, "finding"));
    gvb_kv_free(&proof3);

    double b;
    assert_int_equal(gvb_parse_hami_size("4g", &b), 0);
    assert_double_equal(b, 4294967296.0, 0);
    assert_int_equal(gvb_parse_hami_size("4096m", &b), 0);
    assert_double_equal(b, 4294967296.0, 0);
    assert_int_equal(gvb_parse_hami_size("1024", &b), 0);
    assert_double_equal(b, 1024, 0);
    assert_int_equal(gvb_parse_hami_size("4x", &b), -1);
    gvb_kv_free(&proof);
    gvb_kv_free(&proof2);
}

/* ---- mig-ideal ------------------------------------------------------------------------- */

static gvb_result *add(gvb_run *run, const char *system, const char *metric, gvb_status st,
                       double value, int tenants)
{
    gvb_result *r = gvb_run_add_result(run);
    snprintf(r->system, sizeof r->system, "%s", system);
    snprintf(r->metric, sizeof r->metric, "%s", metric);
    r->status = st;
    r->tenants = tenants;
    if (st == GVB_OK) {
        r->value = value;
        r->has_value = 1;
    }
    return r;
}

/* The limits a system's tenants are promised: the options', or the layer's own (calib) */
static void test_system_limits(void **state)
{
    (void)state;
    gvb_options o;
    gvb_options_defaults(&o);
    o.memory_limit = 4ull << 30;
    o.compute_limit = 50;
    uint64_t mem;
    int compute;
    gvb_system n = resolved("native@b", &o);
    gvb_system_limits(&n, &mem, &compute);
    assert_true(mem == 4ull << 30 && compute == 50);
    /* calib's duty= and mem= are what it applies: IS-003 and IS-001 measure against them */
    gvb_options_defaults(&o);
    snprintf(o.calib, sizeof o.calib, "duty=30,mem=3g");
    gvb_system c = resolved("calib", &o);
    gvb_system_limits(&c, &mem, &compute);
    assert_true(mem == 3ull << 30);
    assert_int_equal(compute, 30);
    /* a spec without them leaves the options' limits */
    snprintf(o.calib, sizeof o.calib, "launch_us=5");
    o.compute_limit = 40;
    c = resolved("calib", &o);
    gvb_system_limits(&c, &mem, &compute);
    assert_true(mem == 0 && compute == 40);
}

static void test_mig_ideal(void **state)
{
    (void)state;
    gvb_options o;
    gvb_options_defaults(&o);
    gvb_system s = resolved("mig-ideal", &o);
    gvb_run run = {0};
    gvb_kv_set_num(&run.gpu, "sm_count", 132);
    add(&run, "native", "LLM-001", GVB_OK, 660.0, 1);
    add(&run, "native", "IS-006", GVB_OK, 31.0, 4);
    add(&run, "native", "OH-001", GVB_OK, 10.0, 1);
    add(&run, "native", "BW-001", GVB_FAIL, 0, 4);

    gvb_result *r = add(&run, "mig-ideal", "IS-006", GVB_OK, 0, 4);
    r->has_value = 0;
    s.ops->derive(&s, gvb_metric_find("IS-006"), &run, r);
    assert_int_equal(r->status, GVB_OK);
    assert_double_equal(r->value, 100.0, 0);
    assert_true(strncmp(r->reason, "model (1g.10gb)", 15) == 0); /* 4 tenants -> 1g.10gb */
    assert_non_null(strstr(gvb_kv_text(&r->extras, "model"), "not a measurement"));
    assert_double_equal(gvb_kv_get(&r->extras, "native_value")->num, 31.0, 0);

    r = add(&run, "mig-ideal", "LLM-001", GVB_OK, 0, 1);
    r->has_value = 0;
    s.ops->derive(&s, gvb_metric_find("LLM-001"), &run, r); /* 1 tenant -> 7g.80gb */
    assert_double_equal(r->value, 660.0, 1e-9);
    snprintf(o.mig_profile, sizeof o.mig_profile, "3g.40gb");
    s.ops->derive(&s, gvb_metric_find("LLM-001"), &run, r);
    assert_double_equal(r->value, 660.0 * 60 / 132, 1e-9);
    assert_double_equal(gvb_kv_get(&r->extras, "model.bandwidth_fraction")->num, 0.5, 0);
    o.mig_profile[0] = '\0';

    const struct {
        const char *metric;
        int tenants;
        const char *why;
    } skips[] = {
        {"OH-001", 1, "does not define this metric"},
        {"BW-001", 4, "native is FAIL"},
        {"IS-008", 4, "add native to --systems"},
        {"IS-006", 8, "8 tenants do not fit"},
    };
    for (size_t i = 0; i < sizeof skips / sizeof skips[0]; i++) {
        r = add(&run, "mig-ideal", skips[i].metric, GVB_OK, 0, skips[i].tenants);
        r->has_value = 0;
        s.ops->derive(&s, gvb_metric_find(skips[i].metric), &run, r);
        assert_int_equal(r->status, GVB_SKIP);
        if (!strstr(r->reason, skips[i].why))
            print_error("%s: %s\n", skips[i].metric, r->reason);
        assert_non_null(strstr(r->reason, skips[i].why));
        assert_true(strncmp(r->reason, "model:", 6) == 0);
    }
    gvb_kv_set_num(&run.gpu, "sm_count", 108); /* another GPU: the H100 table does not apply */
    r = add(&run, "mig-ideal", "IS-006", GVB_OK, 0, 4);
    s.ops->derive(&s, gvb_metric_find("IS-006"), &run, r);
    assert_int_equal(r->status, GVB_SKIP);
    gvb_run_free(&run);
}

/* ---- the monitor's output into series -------------------------------------------------- */

static const gvb_series *series(const gvb_result *r, const char *name)
{
    for (size_t i = 0; i < r->n_series; i++)
        if (strcmp(r->series[i].name, name) == 0)
            return &r->series[i];
    return NULL;
}

static void test_monitor_apply(void **state)
{
    (void)state;
    pid_t pids[2] = {100, 200};
    gvb_result r = {0};
    const char *text = "M 10.05 1000 5 1 1 1 100:500:-\n"
                       "M 10.10 3000 90 1 1 3 100:500:40 200:700:55 999:1:99\n"
                       "garbage\n"
                       "M 10.15 3000 95 0 1 0\n";
    gvb_monitor_apply(text, pids, 2, 10.0, "", &r);
    const gvb_series *t = series(&r, "monitor.time_s");
    assert_non_null(t);
    assert_int_equal(t->n, 3);
    assert_double_equal(t->v[0], 0.05, 1e-9);
    assert_double_equal(series(&r, "monitor.device_used_bytes")->v[1], 3000, 0);
    assert_double_equal(series(&r, "monitor.device_util_pct")->v[2], 95, 0);
    const gvb_series *u0 = series(&r, "monitor.t0.used_bytes");
    const gvb_series *u1 = series(&r, "monitor.t1.used_bytes");
    const gvb_series *s0 = series(&r, "monitor.t0.sm_util_pct");
    const gvb_series *s1 = series(&r, "monitor.t1.sm_util_pct");
    assert_non_null(u0);
    assert_non_null(s1);
    assert_double_equal(u0->v[0], 500, 0);
    assert_double_equal(u1->v[0], 0, 0); /* not on the GPU yet */
    assert_double_equal(s0->v[0], 0, 0); /* no recent sample: no kernel ran */
    assert_double_equal(s0->v[1], 40, 0);
    assert_double_equal(s1->v[1], 55, 0);
    assert_true(isnan(u0->v[2])); /* the process query failed in that sample */
    assert_double_equal(gvb_kv_get(&r.extras, "monitor.samples")->num, 3, 0);
    assert_double_equal(gvb_kv_get(&r.extras, "monitor.tenants_seen")->num, 2, 0);
    gvb_result_free(&r);

    /* a workload: the programs are the tenants' descendants (ancestors listed, parent first);
     * two programs of tenant 1 add up; a stranger whose ancestors are no tenant is nobody's;
     * an entry without ancestors (older monitor) still matches by its own pid */
    memset(&r, 0, sizeof r);
    gvb_monitor_apply("M 5.0 9000 80 1 1 4 301:1000:30:200/1 302:2000:25:55/200/1 "
                      "303:4000:99:7/1 100:8:-:-\n"
                      "M 5.1 9000 80 1 1 1 401:600:10:300/100/1\n",
                      pids, 2, 4.0, "", &r);
    assert_double_equal(series(&r, "monitor.t1.used_bytes")->v[0], 3000, 0);
    assert_double_equal(series(&r, "monitor.t1.sm_util_pct")->v[0], 55, 0);
    assert_double_equal(series(&r, "monitor.t0.used_bytes")->v[0], 8, 0);
    assert_double_equal(series(&r, "monitor.t0.used_bytes")->v[1], 600, 0); /* grandchild */
    assert_double_equal(series(&r, "monitor.t1.used_bytes")->v[1], 0, 0);
    gvb_result_free(&r);

    /* per-process utilization never supported: no sm series, a reason instead */
    memset(&r, 0, sizeof r);
    gvb_monitor_apply("I sm_util nvmlDeviceGetProcessUtilization: Not Supported\n"
                      "M 1.0 10 0 1 0 0\n",
                      pids, 2, 0.5, "", &r);
    assert_null(series(&r, "monitor.t0.sm_util_pct"));
    assert_non_null(series(&r, "monitor.t0.used_bytes"));
    assert_non_null(strstr(gvb_kv_text(&r.extras, "monitor.sm_util"), "Not Supported"));
    gvb_result_free(&r);

    /* an MPS server on the GPU: its clients' utilization is not theirs (they read near 0 on
     * the H200 while busy): no sm series, the reason with the server's pid; memory stays */
    memset(&r, 0, sizeof r);
    gvb_monitor_apply("M 1.0 10 50 1 1 2 100:500:0 777:900:40\n"
                      "I mps_server 777\n"
                      "M 1.1 10 50 1 1 2 100:500:3 777:900:45\n",
                      pids, 2, 0.5, "", &r);
    assert_null(series(&r, "monitor.t0.sm_util_pct"));
    assert_null(series(&r, "monitor.t1.sm_util_pct"));
    assert_double_equal(series(&r, "monitor.t0.used_bytes")->v[1], 500, 0);
    assert_non_null(strstr(gvb_kv_text(&r.extras, "monitor.sm_util"), "MPS server (pid 777)"));
    gvb_result_free(&r);

    /* no NVML: unavailable with the reason, no series */
    memset(&r, 0, sizeof r);
    gvb_monitor_apply("E NVML not available: libnvidia-ml.so.1: cannot open\n", pids, 2, 0, "", &r);
    assert_int_equal(r.n_series, 0);
    assert_string_equal(gvb_kv_text(&r.extras, "monitor"),
                        "unavailable: NVML not available: libnvidia-ml.so.1: cannot open");
    gvb_result_free(&r);
}

/* The GPU hold: a fake __monitor (a shell script as the "binary") that answers with a
 * sample is held until released; one that answers E (no NVML) or nothing is not. */
static void write_script(const char *path, const char *body)
{
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fprintf(f, "#!/bin/sh\n%s\n", body);
    fclose(f);
    chmod(path, 0700);
}

static void test_monitor_hold(void **state)
{
    (void)state;
    char exe[128];
    snprintf(exe, sizeof exe, "%s/fake-monitor", tmpdir);
    char *env[] = {"PATH=/usr/bin:/bin", NULL};
    gvb_monitor m;
    /* "I" lines first, then a sample, then it waits like the real one */
    write_script(exe, "echo 'I hooked x' >&3; sleep 0.2; echo 'M 1.0 10 0 1 1 0' >&3; "
                      "exec sleep 30");
    assert_int_equal(gvb_monitor_hold(&m, exe, env, NULL), 0);
    pid_t pid = m.pid;
    assert_true(pid > 0);
    assert_int_equal(kill(pid, 0), 0); /* held */
    assert_true(gvb_monitor_alive(&m));
    gvb_monitor_release(&m);
    assert_int_equal(m.pid, -1);
    assert_int_equal(m.fd, -1);
    assert_int_equal(kill(pid, 0), -1); /* reaped, gone */
    /* a hold that dies mid-run is seen as gone */
    assert_int_equal(gvb_monitor_hold(&m, exe, env, NULL), 0);
    kill(m.pid, SIGKILL);
    usleep(200000);
    assert_false(gvb_monitor_alive(&m));
    gvb_monitor_release(&m);
    /* the energy counter on request: a hold answers SIGUSR1 with "J t mJ" (twice: each
     * answer is read after what was there; a line stamped before the question, a late answer
     * to an earlier one, is not taken), or "J t -" without the counter */
    write_script(exe, "n=0; trap 'n=$((n+1)); echo \"J 1.0 999\" >&3; "
                      "echo \"J 1e12 $((12345 * n))\" >&3' USR1; "
                      "echo 'M 1.0 10 0 1 1 0' >&3; while :; do sleep 0.02; done");
    assert_int_equal(gvb_monitor_hold(&m, exe, env, NULL), 0);
    double j = 0;
    assert_int_equal(gvb_monitor_energy(&m, &j), 0);
    assert_double_equal(j, 12.345, 1e-9);
    assert_int_equal(gvb_monitor_energy(&m, &j), 0);
    assert_double_equal(j, 24.69, 1e-9);
    gvb_monitor_release(&m);
    assert_int_equal(gvb_monitor_energy(&m, &j), -1); /* released: no hold to ask */
    write_script(exe, "trap 'echo \"J 1e12 -\" >&3' USR1; echo 'M 1.0 10 0 1 1 0' >&3; "
                      "while :; do sleep 0.02; done");
    assert_int_equal(gvb_monitor_hold(&m, exe, env, NULL), 0);
    assert_int_equal(gvb_monitor_energy(&m, &j), -1);
    gvb_monitor_release(&m);
    /* NVML not usable: not held, and why */
    write_script(exe, "echo 'E libnvidia-ml.so.1: cannot open' >&3");
    assert_int_equal(gvb_monitor_hold(&m, exe, env, NULL), -1);
    assert_string_equal(m.why, "libnvidia-ml.so.1: cannot open");
    assert_int_equal(m.pid, -1);
    /* exits without a word */
    write_script(exe, "exit 0");
    assert_int_equal(gvb_monitor_hold(&m, exe, env, NULL), -1);
    assert_non_null(strstr(m.why, "ended without a sample"));
    gvb_monitor_release(&m); /* twice is harmless */
}

int run_systems_tests(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_native_and_external_env),
        cmocka_unit_test(test_hami_env),
        cmocka_unit_test(test_preload_env_and_resolve),
        cmocka_unit_test(test_mig_env),
        cmocka_unit_test(test_rundir),
        cmocka_unit_test(test_mps_lifecycle),
        cmocka_unit_test(test_mps_failures),
        cmocka_unit_test(test_proof_rules),
        cmocka_unit_test(test_mig_ideal),
        cmocka_unit_test(test_system_limits),
        cmocka_unit_test(test_monitor_apply),
        cmocka_unit_test(test_monitor_hold),
    };
    return cmocka_run_group_tests_name("systems", tests, setup_tmp, teardown_tmp);
}
