/* NCCL through dlopen (see nccl_dl.h). */
#include "gpu/nccl_dl.h"

#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void *open_first(char *path, size_t plen, char *why, size_t len)
{
    char cands[4][256];
    int n = 0;
    const char *env = getenv("GVB_NCCL_LIB"), *home = getenv("CUDA_HOME");
    if (env && *env)
        snprintf(cands[n++], sizeof cands[0], "%s", env);
    snprintf(cands[n++], sizeof cands[0], "libnccl.so.2");
    if (home && *home)
        snprintf(cands[n++], sizeof cands[0], "%s/lib64/libnccl.so.2", home);
    snprintf(cands[n++], sizeof cands[0], "/usr/local/cuda/lib64/libnccl.so.2");
    const char *first_err = NULL;
    char errbuf[200] = "";
    for (int i = 0; i < n; i++) {
        void *h = dlopen(cands[i], RTLD_NOW | RTLD_LOCAL);
        if (h) {
            snprintf(path, plen, "%s", cands[i]);
            return h;
        }
        if (!first_err) {
            const char *e = dlerror();
            snprintf(errbuf, sizeof errbuf, "%s", e ? e : cands[i]);
            first_err = errbuf;
        }
    }
    snprintf(why, len, "NCCL not found (libnccl.so.2; set GVB_NCCL_LIB): %s", errbuf);
    return NULL;
}

int gvb_nccl_load(gvb_nccl *n, char *why, size_t len)
{
    memset(n, 0, sizeof *n);
    n->lib = open_first(n->path, sizeof n->path, why, len);
    if (!n->lib)
        return -1;
    static const struct {
        const char *name;
        size_t off;
    } syms[] = {
        {"ncclGetVersion", offsetof(gvb_nccl, get_version)},
        {"ncclGetUniqueId", offsetof(gvb_nccl, get_unique_id)},
        {"ncclCommInitRank", offsetof(gvb_nccl, comm_init_rank)},
        {"ncclCommDestroy", offsetof(gvb_nccl, comm_destroy)},
        {"ncclAllReduce", offsetof(gvb_nccl, all_reduce)},
        {"ncclAllGather", offsetof(gvb_nccl, all_gather)},
        {"ncclBroadcast", offsetof(gvb_nccl, broadcast)},
        {"ncclGetErrorString", offsetof(gvb_nccl, error_string)},
    };
    for (size_t i = 0; i < sizeof syms / sizeof syms[0]; i++) {
        void *f = dlsym(n->lib, syms[i].name);
        if (!f) {
            snprintf(why, len, "%s lacks %s", n->path, syms[i].name);
            dlclose(n->lib);
            n->lib = NULL;
            return -1;
        }
        memcpy((char *)n + syms[i].off, &f, sizeof f);
    }
    return 0;
}

void gvb_nccl_version_str(int code, char *buf, size_t len)
{
    /* NCCL_VERSION(X,Y,Z): X*10000 + Y*100 + Z since 2.9; X*1000 + Y*100 + Z before */
    if (code >= 10000)
        snprintf(buf, len, "%d.%d.%d", code / 10000, (code % 10000) / 100, code % 100);
    else
        snprintf(buf, len, "%d.%d.%d", code / 1000, (code % 1000) / 100, code % 100);
}

gvb_nccl *gvb_nccl_open(char *why, size_t len)
{
    static gvb_nccl shared;
    static int loaded;
    if (!loaded && gvb_nccl_load(&shared, why, len) != 0)
        return NULL;
    loaded = 1;
    return &shared;
}
