/* cuBLAS and cuBLASLt through dlopen (see cublas_dl.h). */
#include "gpu/cublas_dl.h"

#include <dlfcn.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#ifndef GVB_CUDA_LIB_DIR
#define GVB_CUDA_LIB_DIR "/usr/local/cuda/lib64"
#endif

#define STR_(x) #x
#define STR(x) STR_(x)
/* The headers' major only: another major's ABI is not what the types above describe. */
#define SO_SUFFIX ".so." STR(CUBLAS_VER_MAJOR)

static gvb_cublas shared;
static int shared_ok;
static char shared_why[512];
static pthread_once_t shared_once = PTHREAD_ONCE_INIT;

/* libcublasLt first: libcublas needs it, and finds it already loaded by its soname. */
static int open_pair(const char *dir, void *lib[2], char *err, size_t len)
{
    static const char *const names[2] = {"libcublas" SO_SUFFIX, "libcublasLt" SO_SUFFIX};
    char path[512];
    lib[GVB_CUBLAS_LIB] = lib[GVB_CUBLASLT_LIB] = NULL;
    for (int i = GVB_CUBLASLT_LIB; i >= GVB_CUBLAS_LIB; i--) {
        snprintf(path, sizeof path, "%s%s%s", dir, *dir ? "/" : "", names[i]);
        lib[i] = dlopen(path, RTLD_NOW | RTLD_LOCAL);
        if (!lib[i]) {
            const char *e = dlerror();
            snprintf(err, len, "%s", e ? e : path);
            if (lib[GVB_CUBLASLT_LIB])
                dlclose(lib[GVB_CUBLASLT_LIB]);
            return -1;
        }
    }
    return 0;
}

static void load_shared(void)
{
    void *lib[2];
    char err[2][240];
    if (open_pair("", lib, err[0], sizeof err[0]) != 0 &&
        open_pair(GVB_CUDA_LIB_DIR, lib, err[1], sizeof err[1]) != 0) {
        snprintf(shared_why, sizeof shared_why, "cuBLAS not available: %s; %s", err[0], err[1]);
        return;
    }
    static const struct {
        const char *name;
        size_t off;
        int lib;
    } syms[] = {
#define GVB_CUBLAS_SYM(member, sym, which) {#sym, offsetof(gvb_cublas, member), which},
        GVB_CUBLAS_FUNCS(GVB_CUBLAS_SYM)
#undef GVB_CUBLAS_SYM
    };
    for (size_t i = 0; i < sizeof syms / sizeof syms[0]; i++) {
        void *f = dlsym(lib[syms[i].lib], syms[i].name);
        if (!f) {
            snprintf(shared_why, sizeof shared_why, "cuBLAS not available: %s lacks %s",
                     syms[i].lib == GVB_CUBLASLT_LIB ? "libcublasLt" SO_SUFFIX
                                                     : "libcublas" SO_SUFFIX,
                     syms[i].name);
            return; /* the libraries stay loaded: harmless, and nothing else will use them */
        }
        memcpy((char *)&shared + syms[i].off, &f, sizeof f);
    }
    shared_ok = 1; /* the libraries stay loaded for the life of the process */
}

const gvb_cublas *gvb_cublas_get(char *why, size_t len)
{
    pthread_once(&shared_once, load_shared);
    if (shared_ok)
        return &shared;
    if (why && len)
        snprintf(why, len, "%s", shared_why);
    return NULL;
}
