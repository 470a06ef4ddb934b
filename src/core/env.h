/* An environment under composition: a copy of a base environment that a system under test
 * edits (LD_PRELOAD, limit variables, MPS pipe directory) before a tenant is exec'd. Pure C. */
#ifndef GVB_ENV_H
#define GVB_ENV_H

#include <stddef.h>

typedef struct gvb_env {
    char **vars; /* "KEY=VALUE", NULL-terminated */
    size_t n, cap;
} gvb_env;

int gvb_env_init(gvb_env *e, char *const *base); /* base may be NULL: empty */
int gvb_env_set(gvb_env *e, const char *key, const char *value);
int gvb_env_setf(gvb_env *e, const char *key, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
void gvb_env_unset(gvb_env *e, const char *key);
const char *gvb_env_get(const gvb_env *e, const char *key);
void gvb_env_free(gvb_env *e);

#endif
