/* Environment composition (see env.h). */
#include "core/env.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int push(gvb_env *e, char *kv)
{
    if (e->n + 1 >= e->cap) {
        size_t cap = e->cap ? e->cap * 2 : 64;
        char **v = realloc(e->vars, cap * sizeof *v);
        if (!v)
            return -1;
        e->vars = v;
        e->cap = cap;
    }
    e->vars[e->n++] = kv;
    e->vars[e->n] = NULL;
    return 0;
}

int gvb_env_init(gvb_env *e, char *const *base)
{
    memset(e, 0, sizeof *e);
    if (push(e, NULL) != 0) /* allocate the terminator */
        return -1;
    e->n = 0;
    for (size_t i = 0; base && base[i]; i++) {
        char *dup = strdup(base[i]);
        if (!dup || push(e, dup) != 0)
            return -1;
    }
    return 0;
}

static long find(const gvb_env *e, const char *key)
{
    size_t kl = strlen(key);
    for (size_t i = 0; i < e->n; i++)
        if (strncmp(e->vars[i], key, kl) == 0 && e->vars[i][kl] == '=')
            return (long)i;
    return -1;
}

int gvb_env_set(gvb_env *e, const char *key, const char *value)
{
    char *kv;
    if (asprintf(&kv, "%s=%s", key, value) < 0)
        return -1;
    long i = find(e, key);
    if (i >= 0) {
        free(e->vars[i]);
        e->vars[i] = kv;
        return 0;
    }
    if (push(e, kv) != 0) {
        free(kv);
        return -1;
    }
    return 0;
}

int gvb_env_setf(gvb_env *e, const char *key, const char *fmt, ...)
{
    char *v;
    va_list ap;
    va_start(ap, fmt);
    int rc = vasprintf(&v, fmt, ap);
    va_end(ap);
    if (rc < 0)
        return -1;
    rc = gvb_env_set(e, key, v);
    free(v);
    return rc;
}

void gvb_env_unset(gvb_env *e, const char *key)
{
    long i = find(e, key);
    if (i < 0)
        return;
    free(e->vars[i]);
    memmove(&e->vars[i], &e->vars[i + 1], (e->n - (size_t)i) * sizeof *e->vars);
    e->n--;
}

const char *gvb_env_get(const gvb_env *e, const char *key)
{
    long i = find(e, key);
    return i < 0 ? NULL : e->vars[i] + strlen(key) + 1;
}

void gvb_env_free(gvb_env *e)
{
    for (size_t i = 0; i < e->n; i++)
        free(e->vars[i]);
    free(e->vars);
    memset(e, 0, sizeof *e);
}
