/* NCCL loaded with dlopen("libnccl.so.2") at run time: the binary builds and runs where NCCL
 * is absent, and a metric that needs it SKIPs saying why. Only the symbols the suite uses are
 * declared, with NCCL's ABI (nccl.h: ncclUniqueId is 128 bytes, enums are ints). Self-contained
 * so that it can be merged with another branch's copy. */
#ifndef GVB_NCCL_DL_H
#define GVB_NCCL_DL_H

#include <cuda_runtime_api.h>
#include <stddef.h>

typedef struct gvb_nccl_id { char internal[128]; } gvb_nccl_id; /* ncclUniqueId */
typedef struct gvb_nccl_comm *gvb_nccl_comm;                     /* ncclComm_t */

enum { GVB_NCCL_FLOAT32 = 7, GVB_NCCL_BF16 = 9 }; /* ncclDataType_t */
enum { GVB_NCCL_SUM = 0 };                         /* ncclRedOp_t */

/* Loads the library once. Returns 0, or -1 with why. */
int gvb_nccl_open(char *why, size_t len);
/* The calls below return an ncclResult_t as int (0 = success). */
int gvb_nccl_version(int *version);
int gvb_nccl_get_unique_id(gvb_nccl_id *id);
int gvb_nccl_comm_init_rank(gvb_nccl_comm *comm, int nranks, gvb_nccl_id id, int rank);
int gvb_nccl_all_reduce(const void *send, void *recv, size_t count, int dtype, int op,
                        gvb_nccl_comm comm, cudaStream_t stream);
int gvb_nccl_comm_destroy(gvb_nccl_comm comm);
const char *gvb_nccl_error(int result);

#endif
