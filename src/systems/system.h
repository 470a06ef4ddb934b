/* A system under test: how tenant processes get the sharing layer (environment, daemons) and
 * how the run proves the layer was active. One small ops struct per system (after fio's
 * ioengine_ops), registered in systems/registry.c. Optional hooks may be NULL. Pure C. */
#ifndef GVB_SYSTEM_H
#define GVB_SYSTEM_H

#include <stddef.h>

#include "core/catalog.h"
#include "core/env.h"
#include "core/options.h"
#include "core/result.h"

typedef struct gvb_system gvb_system;

typedef struct gvb_system_ops {
    const char *name;
    const char *summary;
    const char *kind; /* as recorded in systems[].kind; NULL: the name ("model" for mig-ideal) */
    int hidden;    /* not listed by `list` (the fake system) */
    int needs_gpu; /* its metrics need the CUDA probe */
    /* Is the system usable here? Non-zero: every metric SKIPs with `why`. */
    int (*probe)(gvb_system *s, char *why, size_t len);
    /* Start what the tenants need (daemons, run directory). Returns 0, or the status every
     * metric gets (GVB_SKIP: e.g. the MPS daemon does not start; GVB_FAIL or -1: FAIL). */
    int (*setup)(gvb_system *s, char *why, size_t len);
    /* Edit a tenant's environment (starts as the parent's). */
    int (*tenant_env)(gvb_system *s, int tenant, int tenants, gvb_env *env);
    /* Can this system run metric m? Non-zero: SKIP with why. */
    int (*supports)(gvb_system *s, const gvb_metric_def *m, char *why, size_t len);
    /* Judges the activation proof. The runner first runs a proof worker (`__proof`) under
     * this system's tenant environment and puts what it reported into proof (libraries
     * mapped, cudaMemGetInfo, SM count, compute rate, its pid); this hook is called while
     * that worker is still alive (waiting at its barrier), so it may look at it from outside
     * (the MPS control daemon's client list). It may add keys. Non-zero: INERT with why. */
    int (*verify_active)(gvb_system *s, gvb_kv *proof, char *why, size_t len);
    /* A model instead of a measurement (mig-ideal): fills r from other systems' results of
     * the same run, with no GPU process. Such systems run after the measured ones. */
    void (*derive)(gvb_system *s, const gvb_metric_def *m, const gvb_run *run, gvb_result *r);
    /* Configuration as recorded in the results. */
    void (*describe)(gvb_system *s, gvb_kv *config);
    /* Undo setup; must be safe after a failed or partial setup, and idempotent. May note
     * what happened in notes (the system's recorded config; may be NULL). */
    void (*teardown)(gvb_system *s, gvb_kv *notes);
    /* The limits the layer itself applies, where they are its own rather than --memory-limit
     * and --compute-limit (calib's mem= and duty=): overwrites *memory_bytes / *compute_pct
     * (0: none). NULL: the options' limits. */
    void (*limits)(gvb_system *s, uint64_t *memory_bytes, int *compute_pct);
} gvb_system_ops;

struct gvb_system {
    const gvb_system_ops *ops;
    char name[48]; /* as the user named it (a preload system has the user's name) */
    const gvb_options *opts;
    const gvb_kv *gpu; /* the probe's report of the GPU (sm_count, uuid, mig_mode); may be empty */
    int proof_gpu;     /* the proof worker touched the GPU (a GPU metric was selected) */
    void *priv;
};

/* The per-tenant limits this system's tenants are promised: --memory-limit / --compute-limit,
 * or what the layer applies itself (ops->limits). Metrics measure against these. */
void gvb_system_limits(gvb_system *s, uint64_t *memory_bytes, int *compute_pct);

/* The system's kind as recorded in systems[].kind: ops->kind, else ops->name ("native" for
 * native@b). */
const char *gvb_system_kind(const gvb_system *s);

/* Resolves a system name (built-in or a --preload name) into s. Returns 0, or -1 with err
 * (unknown name, a --preload name that hides a built-in, an unknown --mig-profile). */
int gvb_system_resolve(const char *name, const gvb_options *o, gvb_system *s, char *err,
                       size_t errlen);

/* The registered systems, for `list`. */
extern const gvb_system_ops *const gvb_system_registry[];

extern const gvb_system_ops gvb_system_native;
extern const gvb_system_ops gvb_system_fake;
extern const gvb_system_ops gvb_system_calib;

/* calib: the calibration layer's activation proof, judged from what the `__calib-proof`
 * worker reported under the layer (keys in systems/calib.c). Returns 0 when the layer is
 * active with the configured effects, or -1 with the reason. Pure, for the unit tests. */
struct gvb_calib_spec;
int gvb_calib_judge_proof(const gvb_kv *proof, const struct gvb_calib_spec *spec, char *why,
                          size_t len);
extern const gvb_system_ops gvb_system_hami;
extern const gvb_system_ops gvb_system_mps;
extern const gvb_system_ops gvb_system_mig;
extern const gvb_system_ops gvb_system_mig_ideal;
extern const gvb_system_ops gvb_system_preload;
extern const gvb_system_ops gvb_system_external;

/* Variables through which sharing layers are configured; native removes them so that a
 * native tenant is not accidentally a hooked one. */
extern const char *const gvb_layer_env_vars[];
void gvb_env_strip_layers(gvb_env *env);

/* --env SYSTEM:KEY=VALUE entries naming this system, applied after its tenant_env. */
int gvb_system_apply_extra_env(const gvb_system *s, gvb_env *env);

/* ---- private run directories (systems/rundir.c) ---------------------------------------- */

/* A directory at a fixed, shared path (HAMi's /tmp/vgpulock), created (0755) when absent,
 * and used only when nobody else can have planted it: a directory, not a symlink, owned by
 * this user or root. Returns 0, or -1 with why. */
int gvb_shared_dir_check(const char *path, char *why, size_t len);
/* Creates a fresh directory $TMPDIR/gvb-<tag>.XXXXXX (mode 0700) into out. Returns 0 or -1. */
int gvb_rundir_create(const char *tag, char *out, size_t len);
/* Removes the directory and everything below it (never following links). Returns 0 or -1. */
int gvb_rundir_remove(const char *path);

/* ---- activation proof rules shared by systems (systems/proof_rules.c) ------------------ */

/* The proof worker reports every library requested through LD_PRELOAD or /etc/ld.so.preload
 * as preload.<k> (path), preload.<k>.mapped (0/1), preload.<k>.source; preload.count. */
/* Is lib (a path; compared by real path, else by file name) mapped in the proof worker?
 * Returns 1 mapped, 0 requested but not mapped, -1 not requested at all. */
int gvb_proof_lib_mapped(const gvb_kv *proof, const char *lib);
/* Number of requested preload libraries that are mapped. */
int gvb_proof_mapped_count(const gvb_kv *proof);
/* cudaMemGetInfo total (mem_total_bytes) equals limit within 1 %? 0 yes, -1 with why. */
int gvb_proof_check_memory_total(const gvb_kv *proof, double limit_bytes, char *why, size_t len);
/* Adds compute_share_pct (proof rate / native rate) and, when the share exceeds the limit by
 * more than GVB_PROOF_COMPUTE_SLACK_PP, finding = "compute limit not enforced for the proof's
 * kernel ...". Records why the check could not run otherwise. Never fails the proof (the
 * share depends on the kernel's shape: IS-003). */
void gvb_proof_compute_finding(gvb_kv *proof, int limit_pct);
/* The rule for preload layers (hami, preload, external): lib mapped; with a memory limit,
 * the cudaMemGetInfo total equals it (when the proof touched the GPU); compute finding. */
int gvb_proof_check_layer(const gvb_system *s, gvb_kv *proof, const char *lib,
                          double memory_limit, int compute_pct, char *why, size_t len);
/* Parses a HAMi-style size ("4g", "4096m", "1024k", plain bytes; powers of 1024). */
int gvb_parse_hami_size(const char *s, double *bytes);

#endif
