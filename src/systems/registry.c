/* The systems under test, name resolution (with KIND@LABEL instances), and what every
 * system shares: layer variables and --env entries. */
#include <ctype.h>
#include <stdio.h>
#include <string.h>

#include "systems/mig_profiles.h"
#include "systems/system.h"

const gvb_system_ops *const gvb_system_registry[] = {
    &gvb_system_native,
    &gvb_system_hami,
    &gvb_system_mps,
    &gvb_system_mig,
    &gvb_system_mig_ideal,
    &gvb_system_external,
    &gvb_system_fake,
    &gvb_system_calib,
    NULL,
};

const char *const gvb_layer_env_vars[] = {
    "LD_PRELOAD",
    "CUDA_DEVICE_MEMORY_LIMIT",
    "CUDA_DEVICE_SM_LIMIT",
    "CUDA_DEVICE_MEMORY_SHARED_CACHE",
    "GPU_CORE_UTILIZATION_POLICY",
    "CUDA_REDIRECT",
    "LIBCUDA_LOG_LEVEL",
    "CUDA_MPS_PIPE_DIRECTORY",
    "CUDA_MPS_LOG_DIRECTORY",
    "CUDA_MPS_ACTIVE_THREAD_PERCENTAGE",
    "CUDA_MPS_PINNED_DEVICE_MEM_LIMIT",
    "GVB_CALIB",
    NULL,
};

void gvb_env_strip_layers(gvb_env *env)
{
    for (size_t i = 0; gvb_layer_env_vars[i]; i++)
        gvb_env_unset(env, gvb_layer_env_vars[i]);
}

/* "KIND@LABEL" is a second instance of a system under its own name (an A/A run measures
 * native@a against native@b); the label is letters, digits, '-', '_' or '.'. */
static int split_instance(const char *name, size_t *kind_len, char *err, size_t errlen)
{
    const char *at = strchr(name, '@');
    *kind_len = at ? (size_t)(at - name) : strlen(name);
    if (!at)
        return 0;
    int ok = at[1] != '\0' && at != name;
    for (const char *c = at + 1; ok && *c; c++)
        ok = isalnum((unsigned char)*c) || *c == '-' || *c == '_' || *c == '.';
    if (!ok)
        snprintf(err, errlen,
                 "bad system instance '%s' (KIND@LABEL, label of letters, digits, - _ .; "
                 "e.g. native@2)",
                 name);
    return ok ? 0 : -1;
}

/* The kind part of a system's name ("native@2" -> "native"), into buf. */
static const char *kind_of(const char *name, char *buf, size_t len)
{
    snprintf(buf, len, "%.*s", (int)strcspn(name, "@"), name);
    return buf;
}

int gvb_system_apply_extra_env(const gvb_system *s, gvb_env *env)
{
    const gvb_options *o = s->opts;
    char kind[sizeof s->name];
    kind_of(s->name, kind, sizeof kind);
    for (int i = 0; o && i < o->n_extra_env; i++) {
        /* --env NAME:... applies to NAME and to its instances NAME@LABEL */
        if (strcmp(o->extra_env[i].system, s->name) != 0 &&
            strcmp(o->extra_env[i].system, kind) != 0)
            continue;
        char kv[sizeof o->extra_env[i].assignment];
        snprintf(kv, sizeof kv, "%s", o->extra_env[i].assignment);
        char *eq = strchr(kv, '=');
        if (!eq)
            return -1;
        *eq = '\0';
        if (gvb_env_set(env, kv, eq + 1) != 0)
            return -1;
    }
    return 0;
}

void gvb_system_limits(gvb_system *s, uint64_t *memory_bytes, int *compute_pct)
{
    *memory_bytes = s->opts ? s->opts->memory_limit : 0;
    *compute_pct = s->opts ? s->opts->compute_limit : 0;
    if (s->ops->limits)
        s->ops->limits(s, memory_bytes, compute_pct);
}

const char *gvb_system_kind(const gvb_system *s)
{
    return s->ops->kind ? s->ops->kind : s->ops->name;
}

static const gvb_system_ops *find_builtin(const char *name)
{
    for (size_t i = 0; gvb_system_registry[i]; i++)
        if (strcmp(gvb_system_registry[i]->name, name) == 0)
            return gvb_system_registry[i];
    return NULL;
}

/* Options that only make sense together with a system are checked when it is resolved. */
static int check_options(const gvb_options *o, char *err, size_t errlen)
{
    for (int i = 0; i < o->n_preloads; i++) {
        if (find_builtin(o->preloads[i].name) || strcmp(o->preloads[i].name, "preload") == 0) {
            snprintf(err, errlen, "--preload name '%s' is a built-in system; choose another name",
                     o->preloads[i].name);
            return -1;
        }
    }
    if (o->mig_profile[0] && !gvb_mig_profile_find(o->mig_profile)) {
        size_t off = (size_t)snprintf(err, errlen, "unknown --mig-profile '%s' (H100 80GB:",
                                      o->mig_profile);
        for (size_t i = 0; i < gvb_mig_profile_count && off < errlen; i++)
            off += (size_t)snprintf(err + off, errlen - off, " %s", gvb_mig_profiles[i].name);
        if (off < errlen)
            snprintf(err + off, errlen - off, ")");
        return -1;
    }
    return 0;
}

int gvb_system_resolve(const char *name, const gvb_options *o, gvb_system *s, char *err,
                       size_t errlen)
{
    memset(s, 0, sizeof *s);
    s->opts = o;
    snprintf(s->name, sizeof s->name, "%s", name);
    size_t kind_len;
    if (split_instance(name, &kind_len, err, errlen) != 0 || check_options(o, err, errlen) != 0)
        return -1;
    char kind[sizeof s->name];
    kind_of(name, kind, sizeof kind);
    if ((s->ops = find_builtin(kind)) != NULL)
        return 0;
    for (int i = 0; i < o->n_preloads; i++) {
        if (strcmp(o->preloads[i].name, kind) == 0) {
            s->ops = &gvb_system_preload;
            s->priv = (void *)&o->preloads[i];
            return 0;
        }
    }
    size_t off = (size_t)snprintf(err, errlen, "unknown system '%.*s' (known:", (int)kind_len, name);
    for (size_t i = 0; gvb_system_registry[i] && off < errlen; i++)
        if (!gvb_system_registry[i]->hidden)
            off += (size_t)snprintf(err + off, errlen - off, " %s", gvb_system_registry[i]->name);
    if (off < errlen)
        off += (size_t)snprintf(err + off, errlen - off, "%s",
                                o->n_preloads ? "; --preload names:" : "; or --preload NAME=PATH");
    for (int i = 0; i < o->n_preloads && off < errlen; i++)
        off += (size_t)snprintf(err + off, errlen - off, " %s", o->preloads[i].name);
    if (off < errlen)
        snprintf(err + off, errlen - off, ")");
    return -1;
}
