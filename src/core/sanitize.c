/* Cleaning text from outside the tool (see sanitize.h). */
#include "core/sanitize.h"

/* Length of the valid UTF-8 sequence at s (1..4), or 0 when s does not start one. */
static size_t utf8_len(const unsigned char *s)
{
    unsigned char c = s[0];
    size_t n = c < 0x80 ? 1 : (c & 0xE0) == 0xC0 ? 2 : (c & 0xF0) == 0xE0 ? 3
                                                  : (c & 0xF8) == 0xF0 ? 4 : 0;
    for (size_t i = 1; i < n; i++)
        if ((s[i] & 0xC0) != 0x80) /* also stops at the terminating NUL */
            return 0;
    unsigned cp = n == 1 ? c : n == 2 ? c & 0x1Fu : n == 3 ? c & 0x0Fu : c & 0x07u;
    for (size_t i = 1; i < n; i++)
        cp = cp << 6 | (s[i] & 0x3Fu);
    /* overlong forms, UTF-16 surrogates and code points past U+10FFFF are not UTF-8 */
    static const unsigned least[] = {0, 0, 0x80, 0x800, 0x10000};
    if (n == 0 || cp < least[n] || (cp >= 0xD800 && cp <= 0xDFFF) || cp > 0x10FFFF)
        return 0;
    return n;
}

char *gvb_sanitize_text(char *s)
{
    unsigned char *p = (unsigned char *)s;
    while (p && *p) {
        size_t n = utf8_len(p);
        int control = n == 1 ? (*p < 0x20 && *p != '\t') || *p == 0x7F
                             : n == 2 && p[0] == 0xC2 && p[1] < 0xA0; /* U+0080..U+009F */
        if (n == 0 || control) {
            size_t k = n ? n : 1;
            for (size_t i = 0; i < k; i++)
                p[i] = '?';
            p += k;
        } else {
            p += n;
        }
    }
    return s;
}
