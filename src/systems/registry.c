/* The systems under test, and name resolution. */
#include <stdio.h>
#include <string.h>

#include "systems/system.h"

const gvb_system_ops *const gvb_system_registry[] = {
    &gvb_system_native,
    &gvb_system_fake,
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
    NULL,
};

void gvb_env_strip_layers(gvb_env *env)
{
    for (size_t i = 0; gvb_layer_env_vars[i]; i++)
        gvb_env_unset(env, gvb_layer_env_vars[i]);
}

int gvb_system_resolve(const char *name, const gvb_options *o, gvb_system *s, char *err,
                       size_t errlen)
{
    memset(s, 0, sizeof *s);
    s->opts = o;
    snprintf(s->name, sizeof s->name, "%s", name);
    for (size_t i = 0; gvb_system_registry[i]; i++) {
        if (strcmp(gvb_system_registry[i]->name, name) == 0) {
            s->ops = gvb_system_registry[i];
            return 0;
        }
    }
    size_t off = (size_t)snprintf(err, errlen, "unknown system '%s' (known:", name);
    for (size_t i = 0; gvb_system_registry[i] && off < errlen; i++)
        if (!gvb_system_registry[i]->hidden)
            off += (size_t)snprintf(err + off, errlen - off, " %s", gvb_system_registry[i]->name);
    if (off < errlen)
        snprintf(err + off, errlen - off, ")");
    return -1;
}
