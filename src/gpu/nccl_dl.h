/* NCCL loaded with dlopen at run time, so the binary builds without nccl.h and runs where
 * NCCL is absent (the NCCL metrics then SKIP and say why). Only the few symbols the suite
 * uses are declared, with NCCL 2.x's ABI (nccl.h: ncclUniqueId is 128 bytes passed by value;
 * ncclResult_t, ncclDataType_t and ncclRedOp_t are C enums). */
#ifndef GVB_NCCL_DL_H
#define GVB_NCCL_DL_H

#include <cuda_runtime_api.h>
#include <stddef.h>

#define GVB_NCCL_UNIQUE_ID_BYTES 128
typedef struct gvb_nccl_id { char internal[GVB_NCCL_UNIQUE_ID_BYTES]; } gvb_nccl_id;
typedef struct gvb_nccl_comm_s *gvb_nccl_comm; /* ncclComm_t */

enum { GVB_NCCL_SUCCESS = 0 };       /* ncclSuccess */
enum { GVB_NCCL_FLOAT32 = 7, GVB_NCCL_BF16 = 9 }; /* ncclDataType_t */
enum { GVB_NCCL_SUM = 0 };           /* ncclSum */

typedef struct gvb_nccl {
    void *lib;
    char path[256];
    int (*get_version)(int *version);
    int (*get_unique_id)(gvb_nccl_id *id);
    int (*comm_init_rank)(gvb_nccl_comm *comm, int nranks, gvb_nccl_id id, int rank);
    int (*comm_destroy)(gvb_nccl_comm comm);
    int (*all_reduce)(const void *send, void *recv, size_t count, int dtype, int op,
                      gvb_nccl_comm comm, cudaStream_t stream);
    int (*all_gather)(const void *send, void *recv, size_t send_count, int dtype,
                      gvb_nccl_comm comm, cudaStream_t stream);
    int (*broadcast)(const void *send, void *recv, size_t count, int dtype, int root,
                     gvb_nccl_comm comm, cudaStream_t stream);
    const char *(*error_string)(int result);
} gvb_nccl;

/* Loads NCCL: $GVB_NCCL_LIB if set, else libnccl.so.2 from the loader's path, else
 * $CUDA_HOME/lib64 and /usr/local/cuda/lib64. Returns 0, or -1 with why. */
int gvb_nccl_load(gvb_nccl *n, char *why, size_t len);
/* The process-wide instance, for code that needs one NCCL (LLM-010): loads it on first use.
 * Returns NULL with why when NCCL cannot be loaded. */
gvb_nccl *gvb_nccl_open(char *why, size_t len);
/* "2.28.9" from ncclGetVersion's code. */
void gvb_nccl_version_str(int code, char *buf, size_t len);

#endif
