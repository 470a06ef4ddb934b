/* `validate` output: the pass/fail table with measured vs expected, and the JSON of the
 * checks (validate.json). Formatting only; the checks are computed in validate/checks.c. */
#include <jansson.h>

#include "report/json_util.h"
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "report/report.h"

/* "20 ± 2", "<= 2", ">= 95", "= 5" */
static const char *fmt_expected(const gvb_check *c, char *buf, size_t len)
{
    char e[32], t[32];
    gvb_fmt_num(c->expected, e, sizeof e);
    if (!isfinite(c->expected))
        snprintf(buf, len, "-");
    else if (!strcmp(c->op, "~") && isfinite(c->tolerance))
        snprintf(buf, len, "%s +- %s", e, gvb_fmt_num(c->tolerance, t, sizeof t));
    else
        snprintf(buf, len, "%s %s", c->op, e);
    return buf;
}

int gvb_validate_write_text(FILE *f, const gvb_validate_report *r)
{
    const char *gpu = r->gpu ? gvb_kv_text(r->gpu, "name") : NULL;
    fprintf(f, "gpu-virt-bench validate  GPU: %s  results: %s\n\n", gpu ? gpu : "?",
            r->dir ? r->dir : "?");
    fprintf(f, "%-26s %-6s %-20s %-12s %-5s %s\n", "check", "status", "expected", "measured",
            "unit", "what / detail");
    int counts[3] = {0};
    for (int i = 0; i < r->n_checks; i++) {
        const gvb_check *c = &r->checks[i];
        char e[64], m[32];
        fprintf(f, "%-26s %-6s %-20s %-12s %-5s %s: %s\n", c->id, gvb_check_status_name(c->status),
                fmt_expected(c, e, sizeof e), gvb_fmt_num(c->measured, m, sizeof m), c->unit,
                c->what, c->detail);
        counts[c->status]++;
    }
    fprintf(f, "\nvalidate: %d PASS, %d FAIL, %d SKIP  (wall %.1f s)\n", counts[GVB_CHECK_PASS],
            counts[GVB_CHECK_FAIL], counts[GVB_CHECK_SKIP], r->wall_s);
    return ferror(f) ? -1 : 0;
}


int gvb_validate_write_json(FILE *f, const gvb_validate_report *r)
{
    json_t *checks = json_array(), *runs = json_array(), *gpu = json_object();
    for (int i = 0; i < r->n_checks; i++) {
        const gvb_check *c = &r->checks[i];
        json_array_append_new(
            checks, json_pack("{s:s, s:s, s:s, s:s, s:o, s:o, s:o, s:s, s:s}", "id", c->id,
                              "what", c->what, "unit", c->unit, "op", c->op, "expected",
                              gvb_json_num(c->expected), "measured", gvb_json_num(c->measured), "tolerance",
                              gvb_json_num(c->tolerance), "status", gvb_check_status_name(c->status),
                              "detail", c->detail));
    }
    for (int i = 0; i < r->n_cases; i++) {
        const gvb_validate_case *vc = &r->cases[i];
        json_t *args = json_array();
        for (int k = 0; k < vc->n_args; k++)
            json_array_append_new(args, json_string(vc->args[k]));
        json_array_append_new(
            runs, json_pack("{s:s, s:o, s:b, s:s, s:o, s:s}", "case", vc->name, "args", args,
                            "skipped", vc->skip, "skip_reason", vc->skip_reason, "exit_code",
                            vc->skip ? json_null() : json_integer(r->exit_codes[i]), "results",
                            r->results[i] ? r->results[i] : ""));
    }
    for (size_t i = 0; r->gpu && i < r->gpu->n; i++) {
        const gvb_kv_item *it = &r->gpu->items[i];
        json_object_set_new(gpu, it->key, it->is_text ? json_string(it->text) : gvb_json_num(it->num));
    }
    int failed = 0;
    for (int i = 0; i < r->n_checks; i++)
        failed += r->checks[i].status == GVB_CHECK_FAIL;
    json_t *root = json_pack("{s:s, s:s, s:s, s:o, s:o, s:b, s:o, s:o}", "tool", "gpu-virt-bench",
                             "command", "validate", "started_at", r->started_at ? r->started_at : "",
                             "wall_s", gvb_json_num(r->wall_s), "gpu", gpu, "passed", failed == 0,
                             "checks", checks, "runs", runs);
    return gvb_json_dump(f, root);
}
