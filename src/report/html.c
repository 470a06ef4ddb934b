/* The report document as one self-contained HTML page: inline CSS and inline SVG charts, no
 * scripts, fonts, images or links outside the page, so it opens offline and can be mailed. */
#include <stdio.h>
#include <string.h>

#include "report/doc.h"
#include "report/model.h"

void gvb_html_escape(FILE *f, const char *s)
{
    for (; *s; s++) {
        switch (*s) {
        case '&': fputs("&amp;", f); break;
        case '<': fputs("&lt;", f); break;
        case '>': fputs("&gt;", f); break;
        case '"': fputs("&quot;", f); break;
        case '\'': fputs("&#39;", f); break;
        default: fputc(*s, f);
        }
    }
}

static const char css[] =
    "body{font:14px/1.45 system-ui,-apple-system,'Segoe UI',Roboto,sans-serif;margin:0;"
    "color:#1f2937;background:#f3f4f6}\n"
    "main{max-width:1280px;margin:0 auto;padding:24px 32px 48px;background:#fff}\n"
    "h1{font-size:26px;margin:0 0 8px}\n"
    "h2{font-size:20px;margin:36px 0 8px;border-bottom:2px solid #e5e7eb;padding-bottom:4px}\n"
    "h3{font-size:16px;margin:22px 0 6px}\n"
    "nav{background:#f9fafb;border:1px solid #e5e7eb;padding:6px 12px;margin:12px 0}\n"
    "nav a{margin-right:14px;color:#1d4ed8;text-decoration:none}\n"
    "table{border-collapse:collapse;margin:8px 0 14px;font-size:13px}\n"
    "th,td{border:1px solid #e5e7eb;padding:4px 8px;vertical-align:top;text-align:left}\n"
    "th{background:#f3f4f6}\n"
    "td.num,th.num{text-align:right;font-variant-numeric:tabular-nums}\n"
    "td.num{white-space:nowrap}\n"
    "tbody tr:nth-child(even){background:#fafafa}\n"
    "pre{background:#f3f4f6;padding:8px 12px;overflow-x:auto;white-space:pre-wrap}\n"
    "figure{margin:8px 0 22px}\n"
    "figcaption,.note{color:#6b7280;font-size:12px}\n"
    "svg text{font-family:system-ui,sans-serif;font-size:11px;fill:#374151}\n"
    "svg .axis{stroke:#9ca3af;stroke-width:1}\n"
    "svg .grid{stroke:#e5e7eb;stroke-width:1}\n"
    "svg .ref{stroke:#111827;stroke-width:1.2;stroke-dasharray:4 3}\n";

static void table(FILE *f, const gvb_doc_block *b)
{
    size_t rows = b->n_cells / b->cols;
    fputs("<table>\n<thead><tr>", f);
    for (size_t c = 0; c < b->cols && c < b->n_cells; c++) {
        fputs(b->cells[c].flags & GVB_CELL_NUM ? "<th class=\"num\">" : "<th>", f);
        gvb_html_escape(f, b->cells[c].text);
        fputs("</th>", f);
    }
    fputs("</tr></thead>\n<tbody>\n", f);
    for (size_t r = 1; r < rows; r++) {
        fputs("<tr>", f);
        for (size_t c = 0; c < b->cols; c++) {
            const gvb_doc_tcell *cell = &b->cells[r * b->cols + c];
            int strong = cell->flags & GVB_CELL_STRONG;
            fputs(b->cells[c].flags & GVB_CELL_NUM ? "<td class=\"num\">" : "<td>", f);
            fputs(strong ? "<strong>" : "", f);
            gvb_html_escape(f, cell->text);
            fputs(strong ? "</strong>" : "", f);
            fputs("</td>", f);
        }
        fputs("</tr>\n", f);
    }
    fputs("</tbody>\n</table>\n", f);
}

static const char *no_chart(gvb_chart_kind k)
{
    switch (k) {
    case GVB_CHART_CATEGORY:
        return "No chart: no system could be compared with native as a ratio in this category.";
    case GVB_CHART_DISTRIBUTION:
        return "Not measured: no system has samples of this metric.";
    case GVB_CHART_VALUE_BARS:
        return "Not measured: no system has a value for this metric.";
    case GVB_CHART_SERIES:
        return "Not measured: no time series was recorded with this metric.";
    }
    return "";
}

static void nav(FILE *f, const gvb_doc *d)
{
    fputs("<nav>", f);
    for (size_t i = 0; i < d->n; i++) {
        const gvb_doc_block *b = &d->b[i];
        if (b->kind != GVB_DOC_HEADING || b->level != 2 || !b->anchor[0])
            continue;
        fputs("<a href=\"#", f);
        gvb_html_escape(f, b->anchor);
        fputs("\">", f);
        gvb_html_escape(f, b->text);
        fputs("</a>", f);
    }
    fputs("</nav>\n", f);
}

int gvb_doc_write_html(FILE *f, const gvb_doc *d, const gvb_model *m)
{
    const char *gpu = m->n_inputs ? gvb_kv_text(&m->inputs[0].run->gpu, "name") : NULL;
    fputs("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
          "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n<title>",
          f);
    fputs("GPU sharing comparison report", f);
    if (gpu) {
        fputs(": ", f);
        gvb_html_escape(f, gpu);
    }
    fprintf(f, "</title>\n<style>\n%s</style>\n</head>\n<body>\n<main>\n", css);
    for (size_t i = 0; i < d->n; i++) {
        const gvb_doc_block *b = &d->b[i];
        switch (b->kind) {
        case GVB_DOC_HEADING:
            fprintf(f, "<h%d", b->level);
            if (b->anchor[0]) {
                fputs(" id=\"", f);
                gvb_html_escape(f, b->anchor);
                fputc('"', f);
            }
            fputc('>', f);
            gvb_html_escape(f, b->text);
            fprintf(f, "</h%d>\n", b->level);
            if (b->level == 1)
                nav(f, d);
            break;
        case GVB_DOC_PARA:
            fputs("<p>", f);
            gvb_html_escape(f, b->text);
            fputs("</p>\n", f);
            break;
        case GVB_DOC_BULLETS:
            fputs("<ul>\n", f);
            for (size_t j = 0; j < b->n_items; j++) {
                fputs("<li>", f);
                gvb_html_escape(f, b->items[j]);
                fputs("</li>\n", f);
            }
            fputs("</ul>\n", f);
            break;
        case GVB_DOC_TABLE:
            table(f, b);
            break;
        case GVB_DOC_CODE:
            fputs("<pre>", f);
            gvb_html_escape(f, b->text);
            fputs("</pre>\n", f);
            break;
        case GVB_DOC_CHART:
            fputs("<figure>\n", f);
            if (gvb_chart_svg(f, m, b->chart, b->arg) != 0) {
                fputs("<p class=\"note\">", f);
                gvb_html_escape(f, no_chart(b->chart));
                fputs("</p>\n", f);
            }
            fputs("</figure>\n", f);
            break;
        }
    }
    fputs("</main>\n</body>\n</html>\n", f);
    return ferror(f) ? -1 : 0;
}
