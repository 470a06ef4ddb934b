/* NCCL through dlopen (see nccl_dl.h). */
#include "gpu/nccl_dl.h"

#include <dlfcn.h>
#include <stdio.h>

static struct {
    void *lib;
    int (*get_version)(int *);
    int (*get_unique_id)(gvb_nccl_id *);
    int (*comm_init_rank)(gvb_nccl_comm *, int, gvb_nccl_id, int);
    int (*all_reduce)(const void *, void *, size_t, int, int, gvb_nccl_comm, cudaStream_t);
    int (*comm_destroy)(gvb_nccl_comm);
    const char *(*get_error_string)(int);
} nccl;

#define NCCL_SYM(field, name)                                                                  \
    do {                                                                                       \
        *(void **)&nccl.field = dlsym(lib, name);                                              \
        if (!nccl.field) {                                                                     \
            snprintf(why, len, "libnccl.so.2 has no %s", name);                                \
            dlclose(lib);                                                                      \
            return -1;                                                                         \
        }                                                                                      \
    } while (0)

int gvb_nccl_open(char *why, size_t len)
{
    if (nccl.lib)
        return 0;
    void *lib = dlopen("libnccl.so.2", RTLD_NOW | RTLD_LOCAL);
    if (!lib) {
        const char *e = dlerror();
        snprintf(why, len, "NCCL not available: %s", e ? e : "dlopen(libnccl.so.2) failed");
        return -1;
    }
    NCCL_SYM(get_version, "ncclGetVersion");
    NCCL_SYM(get_unique_id, "ncclGetUniqueId");
    NCCL_SYM(comm_init_rank, "ncclCommInitRank");
    NCCL_SYM(all_reduce, "ncclAllReduce");
    NCCL_SYM(comm_destroy, "ncclCommDestroy");
    NCCL_SYM(get_error_string, "ncclGetErrorString");
    nccl.lib = lib;
    return 0;
}

#define NOT_OPEN 3 /* ncclInternalError */

int gvb_nccl_version(int *version)
{
    return nccl.lib ? nccl.get_version(version) : NOT_OPEN;
}

int gvb_nccl_get_unique_id(gvb_nccl_id *id)
{
    return nccl.lib ? nccl.get_unique_id(id) : NOT_OPEN;
}

int gvb_nccl_comm_init_rank(gvb_nccl_comm *comm, int nranks, gvb_nccl_id id, int rank)
{
    return nccl.lib ? nccl.comm_init_rank(comm, nranks, id, rank) : NOT_OPEN;
}

int gvb_nccl_all_reduce(const void *send, void *recv, size_t count, int dtype, int op,
                        gvb_nccl_comm comm, cudaStream_t stream)
{
    return nccl.lib ? nccl.all_reduce(send, recv, count, dtype, op, comm, stream) : NOT_OPEN;
}

int gvb_nccl_comm_destroy(gvb_nccl_comm comm)
{
    return nccl.lib ? nccl.comm_destroy(comm) : NOT_OPEN;
}

const char *gvb_nccl_error(int result)
{
    return nccl.lib ? nccl.get_error_string(result) : "NCCL not loaded";
}
