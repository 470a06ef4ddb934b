/* Text from outside the tool (results files read back, what tenant processes report or print
 * on stderr) is cleaned where it enters, so that no writer can pass a terminal escape or a
 * broken character on: docs/inputs-and-files.md. Pure C. */
#ifndef GVB_SANITIZE_H
#define GVB_SANITIZE_H

#include <stddef.h>

/* In place, keeping the length: every control character but tab (C0, DEL, and C1 such as
 * U+009B, the 8-bit CSI) and every byte that is not part of valid UTF-8 (a character cut by
 * a fixed-size copy included) becomes '?'. Returns s. */
char *gvb_sanitize_text(char *s);

#endif
