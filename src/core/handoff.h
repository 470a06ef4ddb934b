/* The parent-to-worker hand-off: what a worker process is told about its metric, system and
 * settings, as `--name=value` arguments. One table of typed fields with bounds encodes them
 * (the runner) and decodes them (the worker), so the two sides cannot disagree about a name,
 * a type or a range. Pure C. */
#ifndef GVB_HANDOFF_H
#define GVB_HANDOFF_H

#include <stddef.h>

#include "core/worker.h"

/* The worker's argv: the NULL-terminated prefix (argv0, the subcommand), then w's fields (its
 * metric must be set), into a NULL-terminated array the caller frees (each, then the array).
 * Returns 0, or -1 when out of memory or a field is out of its bounds. */
int gvb_handoff_encode(const gvb_worker *w, const char *const *prefix, char ***out);

/* Decodes argv[first..argc) (as encode wrote them) into *w, the fields not given at their
 * defaults. Returns 0, or -1 with one line in err naming the argument: unknown name,
 * malformed or out-of-range value, no metric. */
int gvb_handoff_decode(int argc, char **argv, int first, gvb_worker *w, char *err,
                       size_t errlen);

#endif
