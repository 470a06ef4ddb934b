/* Worker -> parent line protocol (see protocol.h). */
#include "core/protocol.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/sanitize.h"

int gvb_proto_name_ok(const char *name)
{
    size_t n = strlen(name);
    if (n == 0 || n > 127)
        return 0;
    for (const char *p = name; *p; p++) {
        char c = *p;
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              strchr("_.:/+-%", c)))
            return 0;
    }
    return 1;
}

static char *next_token(char **p)
{
    while (**p == ' ')
        (*p)++;
    if (**p == '\0')
        return NULL;
    char *start = *p;
    while (**p && **p != ' ')
        (*p)++;
    if (**p)
        *(*p)++ = '\0';
    return start;
}

static int parse_number(const char *s, double *out)
{
    if (!s)
        return -1;
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (errno || end == s || *end != '\0' || isnan(v))
        return -1;
    *out = v;
    return 0;
}

int gvb_proto_parse(char *line, gvb_msg *m)
{
    memset(m, 0, sizeof *m);
    char *p = line;
    char *word = next_token(&p);
    if (!word)
        return -1;
    if (strcmp(word, "READY") == 0) {
        m->type = GVB_MSG_READY;
        char *k = next_token(&p);
        if (!k)
            return 0;
        if (parse_number(k, &m->value) || m->value < 0 || m->value >= 64 ||
            m->value != (int)m->value)
            return -1;
        return next_token(&p) ? -1 : 0;
    }
    if (strcmp(word, "S") == 0 || strcmp(word, "V") == 0) {
        m->type = word[0] == 'S' ? GVB_MSG_SAMPLE : GVB_MSG_VALUE;
        return parse_number(next_token(&p), &m->value) || next_token(&p) ? -1 : 0;
    }
    if (strcmp(word, "XS") == 0 || strcmp(word, "X") == 0) {
        m->type = word[1] == 'S' ? GVB_MSG_SERIES : GVB_MSG_EXTRA;
        m->name = next_token(&p);
        if (!m->name || !gvb_proto_name_ok(m->name))
            return -1;
        return parse_number(next_token(&p), &m->value) || next_token(&p) ? -1 : 0;
    }
    if (strcmp(word, "XT") == 0 || strcmp(word, "STATUS") == 0) {
        m->type = word[0] == 'X' ? GVB_MSG_TEXT : GVB_MSG_STATUS;
        m->name = next_token(&p);
        if (!m->name || !gvb_proto_name_ok(m->name))
            return -1;
        while (*p == ' ')
            p++;
        m->text = gvb_sanitize_text(p); /* a tenant's words reach the terminal and the files */
        return 0;
    }
    return -1;
}

int gvb_proto_format(char *buf, size_t len, const gvb_msg *m)
{
    int n = -1;
    switch (m->type) {
    case GVB_MSG_READY: n = snprintf(buf, len, "READY %d\n", (int)m->value); break;
    case GVB_MSG_SAMPLE: n = snprintf(buf, len, "S %.17g\n", m->value); break;
    case GVB_MSG_VALUE: n = snprintf(buf, len, "V %.17g\n", m->value); break;
    case GVB_MSG_SERIES:
    case GVB_MSG_EXTRA:
        if (!m->name || !gvb_proto_name_ok(m->name))
            return -1;
        n = snprintf(buf, len, "%s %s %.17g\n", m->type == GVB_MSG_SERIES ? "XS" : "X", m->name,
                     m->value);
        break;
    case GVB_MSG_TEXT:
    case GVB_MSG_STATUS:
        if (!m->name || !gvb_proto_name_ok(m->name))
            return -1;
        n = snprintf(buf, len, "%s %s %s\n", m->type == GVB_MSG_TEXT ? "XT" : "STATUS", m->name,
                     m->text ? m->text : "");
        if (n > 0 && (size_t)n < len)
            for (int i = 0; i < n - 1; i++)
                if (buf[i] == '\n' || buf[i] == '\r')
                    buf[i] = ' ';
        break;
    }
    if (n < 0 || (size_t)n >= len)
        return -1;
    return n;
}
