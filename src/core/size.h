/* Sizes as users write them ("4g", "4096m"). Its own file because the calibration preload
 * library (src/calib/) parses the same sizes without the rest of core/. Pure C. */
#ifndef GVB_SIZE_H
#define GVB_SIZE_H

#include <stdint.h>

/* "4g", "4096m", "512MiB", "1073741824b": binary units; a bare number means MiB, as in the
 * older tool's --memory-limit <MB>. Returns 0, or -1 for malformed, zero, negative or huge. */
int gvb_parse_size(const char *s, uint64_t *bytes);

#endif
