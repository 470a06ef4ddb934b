/* libFuzzer target for what `report` and `run --compare` do with a results file: read it
 * (gvb_json_read), combine it with itself as a second file and as the baseline
 * (gvb_model_build), and print every format (md, html, txt, json, csv, the run summary, the
 * --compare table). Any crash, leak or undefined behaviour is a bug: docs/inputs-and-files.md
 * says what the reader guarantees. Built and run by tests/fuzz/run.sh. */
#include <stdint.h>
#include <stdio.h>
#include <sys/mman.h>
#include <unistd.h>

#include "report/model.h"
#include "report/report.h"

/* Every format of one model into f. */
static void write_all(FILE *f, const gvb_model *m)
{
    static const gvb_report_format fmts[] = {GVB_REPORT_MD, GVB_REPORT_HTML, GVB_REPORT_TXT,
                                             GVB_REPORT_JSON};
    for (size_t i = 0; i < sizeof fmts / sizeof fmts[0]; i++)
        gvb_report_write(f, m, fmts[i]);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    /* the reader takes a path: the input goes to an anonymous file named by /proc */
    static int fd = -1;
    static FILE *null;
    if (fd < 0 && (fd = memfd_create("gvb-fuzz", 0)) < 0)
        return 0;
    if (!null && !(null = fopen("/dev/null", "w")))
        return 0;
    if (ftruncate(fd, 0) != 0 || pwrite(fd, data, size, 0) != (ssize_t)size)
        return 0;
    char path[64], err[1024];
    snprintf(path, sizeof path, "/proc/self/fd/%d", fd);

    gvb_run run;
    if (gvb_json_read(path, &run, err, sizeof err) != 0)
        return 0;
    gvb_csv_write(null, &run);
    gvb_text_write(null, &run);
    gvb_compare_write(null, &run, &run);

    const gvb_run *runs[2] = {&run, &run};
    const char *paths[2] = {"a.json", "b.json"};
    for (size_t n = 1; n <= 2; n++) {
        gvb_model m;
        if (gvb_model_build(&m, runs, paths, n, n == 2 ? &run : NULL, "base.json", err,
                            sizeof err) != 0)
            continue;
        write_all(null, &m);
        gvb_model_free(&m);
    }
    gvb_run_free(&run);
    return 0;
}
