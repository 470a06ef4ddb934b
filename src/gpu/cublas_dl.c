/* cuBLAS through dlopen (see cublas_dl.h). */
#include "gpu/cublas_dl.h"

#include <dlfcn.h>
#include <stdio.h>
#include <string.h>

#ifndef GVB_CUDA_LIB_DIR
#define GVB_CUDA_LIB_DIR "/usr/local/cuda/lib64"
#endif

int gvb_cublas_load(gvb_cublas *c, char *why, size_t len)
{
    static const char *const names[] = {"libcublas.so.13", "libcublas.so.12", "libcublas.so",
                                        GVB_CUDA_LIB_DIR "/libcublas.so.13",
                                        GVB_CUDA_LIB_DIR "/libcublas.so"};
    void *lib = NULL;
    for (size_t i = 0; i < sizeof names / sizeof names[0] && !lib; i++)
        lib = dlopen(names[i], RTLD_NOW | RTLD_LOCAL);
    if (!lib) {
        snprintf(why, len, "cuBLAS not available: %s", dlerror());
        return -1;
    }
    memset(c, 0, sizeof *c);
    *(void **)&c->create = dlsym(lib, "cublasCreate_v2");
    *(void **)&c->destroy = dlsym(lib, "cublasDestroy_v2");
    *(void **)&c->set_stream = dlsym(lib, "cublasSetStream_v2");
    *(void **)&c->gemm_ex = dlsym(lib, "cublasGemmEx");
    *(void **)&c->status_string = dlsym(lib, "cublasGetStatusString");
    if (!c->create || !c->destroy || !c->set_stream || !c->gemm_ex || !c->status_string) {
        snprintf(why, len, "cuBLAS lacks an entry point this tool needs (cublasGemmEx ...)");
        return -1;
    }
    return 0; /* the library stays loaded for the life of the process */
}
