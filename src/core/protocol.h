/* The line protocol a worker speaks to its parent over a pipe. One message per line:
 *   READY [k]                   reached barrier phase k (default 0, the start barrier)
 *   S <value>                   one primary sample
 *   XS <name> <value>           one sample of a named extra series
 *   X <name> <value>            a named numeric extra
 *   XT <name> <text>            a named text extra
 *   V <value>                   the primary value, when it is not the samples' median
 *   STATUS <OK|SKIP|FAIL|INERT> <reason>
 * Names hold no white space; text runs to the end of the line. Pure C. */
#ifndef GVB_PROTOCOL_H
#define GVB_PROTOCOL_H

#include <stddef.h>

typedef enum {
    GVB_MSG_READY,
    GVB_MSG_SAMPLE,
    GVB_MSG_SERIES,
    GVB_MSG_EXTRA,
    GVB_MSG_TEXT,
    GVB_MSG_VALUE,
    GVB_MSG_STATUS,
} gvb_msg_type;

typedef struct gvb_msg {
    gvb_msg_type type;
    const char *name; /* SERIES, EXTRA, TEXT; STATUS: the status word */
    const char *text; /* TEXT, STATUS reason */
    double value;     /* SAMPLE, SERIES, EXTRA, VALUE; READY: the phase */
} gvb_msg;

#define GVB_PROTO_MAX_LINE 4096

/* File descriptors a worker inherits from the parent. */
#define GVB_FD_OUT 3 /* protocol lines to the parent */
#define GVB_FD_GO 4  /* phase k's barrier is fd GVB_FD_GO + k: EOF when all tenants reach it */
#define GVB_MAX_PHASES 8

/* Parses one line (without its newline), in place. Returns 0, or -1 if malformed. */
int gvb_proto_parse(char *line, gvb_msg *msg);

/* Formats a message into buf with a trailing newline; newlines in text become spaces.
 * Returns the length, or -1 if it does not fit or a name is invalid. */
int gvb_proto_format(char *buf, size_t len, const gvb_msg *msg);

/* A name is 1..127 characters of [A-Za-z0-9_.:/+-]. */
int gvb_proto_name_ok(const char *name);

#endif
