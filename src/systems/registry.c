/* The systems under test, and name resolution. */
#include <ctype.h>
#include <stdio.h>
#include <string.h>

#include "systems/system.h"

const gvb_system_ops *const gvb_system_registry[] = {
    &gvb_system_native,
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

int gvb_system_resolve(const char *name, const gvb_options *o, gvb_system *s, char *err,
                       size_t errlen)
{
    memset(s, 0, sizeof *s);
    s->opts = o;
    snprintf(s->name, sizeof s->name, "%s", name);
    size_t kind_len;
    if (split_instance(name, &kind_len, err, errlen) != 0)
        return -1;
    for (size_t i = 0; gvb_system_registry[i]; i++) {
        if (strlen(gvb_system_registry[i]->name) == kind_len &&
            strncmp(gvb_system_registry[i]->name, name, kind_len) == 0) {
            s->ops = gvb_system_registry[i];
            return 0;
        }
    }
    size_t off = (size_t)snprintf(err, errlen, "unknown system '%.*s' (known:", (int)kind_len, name);
    for (size_t i = 0; gvb_system_registry[i] && off < errlen; i++)
        if (!gvb_system_registry[i]->hidden)
            off += (size_t)snprintf(err + off, errlen - off, " %s", gvb_system_registry[i]->name);
    if (off < errlen)
        snprintf(err + off, errlen - off, ")");
    return -1;
}
