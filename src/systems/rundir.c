/* Private run directories for systems (HAMi's shared-cache files, MPS pipe and log
 * directories): created fresh with mkdtemp (mode 0700), removed whole at teardown; and the
 * check of a directory a layer insists on at a fixed shared path. */
#include <errno.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "systems/system.h"

int gvb_shared_dir_check(const char *path, char *why, size_t len)
{
    struct stat st;
    if (mkdir(path, 0755) != 0 && errno != EEXIST) {
        snprintf(why, len, "cannot create %s: %s", path, strerror(errno));
        return -1;
    }
    if (lstat(path, &st) != 0) {
        snprintf(why, len, "cannot inspect %s: %s", path, strerror(errno));
        return -1;
    }
    /* the mode is the layer's business (HAMi's device plugin makes it 0777); who made it is
     * ours: only root or this user cannot have planted it for us */
    const char *bad = S_ISLNK(st.st_mode)                        ? "is a symbolic link"
                      : !S_ISDIR(st.st_mode)                     ? "is not a directory"
                      : st.st_uid != geteuid() && st.st_uid != 0 ? "belongs to another user"
                                                                 : NULL;
    if (bad)
        snprintf(why, len, "refusing %s: it %s (uid %u, mode %04o); remove it or fix it", path,
                 bad, (unsigned)st.st_uid, (unsigned)(st.st_mode & 07777));
    return bad ? -1 : 0;
}

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
