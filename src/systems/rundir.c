/* Private run directories for systems (HAMi's shared-cache files, MPS pipe and log
 * directories): created fresh with mkdtemp (mode 0700), removed whole at teardown. */
#include <errno.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "systems/system.h"

int gvb_rundir_create(const char *tag, char *out, size_t len)
{
    const char *tmp = getenv("TMPDIR");
    if (!tmp || !*tmp)
        tmp = "/tmp";
    int n = snprintf(out, len, "%s/gvb-%s.XXXXXX", tmp, tag);
    if (n < 0 || (size_t)n >= len) {
        errno = ENAMETOOLONG;
        return -1;
    }
    return mkdtemp(out) ? 0 : -1; /* mkdtemp creates the directory with mode 0700 */
}

static int remove_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st;
    (void)ftw;
    int rc = (flag == FTW_DP) ? rmdir(path) : unlink(path);
    return rc != 0 && errno != ENOENT ? -1 : 0;
}

int gvb_rundir_remove(const char *path)
{
    if (!path || !*path)
        return 0;
    if (access(path, F_OK) != 0)
        return errno == ENOENT ? 0 : -1;
    /* depth first, physical: a symlink inside is removed, never followed */
    return nftw(path, remove_entry, 16, FTW_DEPTH | FTW_PHYS) == 0 ? 0 : -1;
}
