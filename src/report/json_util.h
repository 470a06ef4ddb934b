/* The few jansson helpers every JSON writer of the report/ layer shares. Pure C. */
#ifndef GVB_JSON_UTIL_H
#define GVB_JSON_UTIL_H

#include <jansson.h>
#include <stdio.h>

/* A number, or null when it is not finite (JSON has no NaN). */
json_t *gvb_json_num(double v);
/* Writes root indented, in insertion order, with a final newline; takes root's reference.
 * Returns 0 or -1. */
int gvb_json_dump(FILE *f, json_t *root);

#endif
