/* Size parsing (see size.h). */
#include "core/size.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>

int gvb_parse_size(const char *s, uint64_t *bytes)
{
    if (!s || !*s || *s == '-' || *s == '+')
        return -1;
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (errno || end == s || !isfinite(v) || v <= 0)
        return -1;
    double mult;
    if (*end == '\0') {
        mult = 1024.0 * 1024.0; /* bare number: MiB */
    } else {
        switch (*end) {
        case 'b': case 'B': mult = 1; break;
        case 'k': case 'K': mult = 1024.0; break;
        case 'm': case 'M': mult = 1024.0 * 1024; break;
        case 'g': case 'G': mult = 1024.0 * 1024 * 1024; break;
        case 't': case 'T': mult = 1024.0 * 1024 * 1024 * 1024; break;
        default: return -1;
        }
        const char *rest = end + 1;
        if (mult > 1) { /* accept k, ki, kb, kib (case-insensitive) */
            if (*rest == 'i' || *rest == 'I')
                rest++;
            if (*rest == 'b' || *rest == 'B')
                rest++;
        }
        if (*rest != '\0')
            return -1;
    }
    double b = v * mult;
    if (b < 1 || b > 1e18)
        return -1;
    *bytes = (uint64_t)llround(b);
    return 0;
}
