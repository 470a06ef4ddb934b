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
    int hidden;    /* not listed by `list` (the fake system) */
    int needs_gpu; /* its metrics need the CUDA probe */
    /* Is the system usable here? Non-zero: every metric SKIPs with `why`. */
    int (*probe)(gvb_system *s, char *why, size_t len);
    /* Start what the tenants need (daemons, run directory). Non-zero: metrics FAIL with why. */
    int (*setup)(gvb_system *s, char *why, size_t len);
    /* Edit a tenant's environment (starts as the parent's). */
    int (*tenant_env)(gvb_system *s, int tenant, int tenants, gvb_env *env);
    /* Can this system run metric m? Non-zero: SKIP with why. */
    int (*supports)(gvb_system *s, const gvb_metric_def *m, char *why, size_t len);
    /* Prove the layer is active before any metric; fills proof. Non-zero: INERT with why. */
    int (*verify_active)(gvb_system *s, gvb_kv *proof, char *why, size_t len);
    /* Configuration as recorded in the results. */
    void (*describe)(gvb_system *s, gvb_kv *config);
    /* Undo setup; must be safe after a failed or partial setup, and idempotent. */
    void (*teardown)(gvb_system *s);
} gvb_system_ops;

struct gvb_system {
    const gvb_system_ops *ops;
    char name[48]; /* as the user named it (a preload system has the user's name) */
    const gvb_options *opts;
    void *priv;
};

/* Resolves a system name (built-in or a --preload name) into s. Returns 0, or -1 with err. */
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

/* Variables through which sharing layers are configured; native removes them so that a
 * native tenant is not accidentally a hooked one. */
extern const char *const gvb_layer_env_vars[];
void gvb_env_strip_layers(gvb_env *env);

#endif
