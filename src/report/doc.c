/* The report document (see doc.h): building it, and its Markdown and plain-text renderers. */
#include "report/doc.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- building ------------------------------------------------------------------------------ */

static gvb_doc_block *add_block(gvb_doc *d, gvb_doc_kind kind)
{
    if (d->oom)
        return NULL;
    if (d->n == d->cap) {
        size_t cap = d->cap ? d->cap * 2 : 64;
        gvb_doc_block *b = realloc(d->b, cap * sizeof *b);
        if (!b) {
            d->oom = 1;
            return NULL;
        }
        d->b = b;
        d->cap = cap;
    }
    gvb_doc_block *b = &d->b[d->n++];
    memset(b, 0, sizeof *b);
    b->kind = kind;
    b->html_only = d->html_only;
    return b;
}

static char *vfmt(gvb_doc *d, const char *fmt, va_list ap)
{
    char *s = NULL;
    if (vasprintf(&s, fmt, ap) < 0) {
        d->oom = 1;
        return NULL;
    }
    return s;
}

void gvb_doc_heading(gvb_doc *d, int level, const char *anchor, const char *fmt, ...)
{
    gvb_doc_block *b = add_block(d, GVB_DOC_HEADING);
    if (!b)
        return;
    b->level = level;
    snprintf(b->anchor, sizeof b->anchor, "%s", anchor ? anchor : "");
    va_list ap;
    va_start(ap, fmt);
    b->text = vfmt(d, fmt, ap);
    va_end(ap);
}

void gvb_doc_para(gvb_doc *d, const char *fmt, ...)
{
    gvb_doc_block *b = add_block(d, GVB_DOC_PARA);
    if (!b)
        return;
    va_list ap;
    va_start(ap, fmt);
    b->text = vfmt(d, fmt, ap);
    va_end(ap);
}

void gvb_doc_bullet(gvb_doc *d, const char *fmt, ...)
{
    gvb_doc_block *b = d->n && d->b[d->n - 1].kind == GVB_DOC_BULLETS ? &d->b[d->n - 1]
                                                                      : add_block(d, GVB_DOC_BULLETS);
    if (!b)
        return;
    char **items = realloc(b->items, (b->n_items + 1) * sizeof *items);
    if (!items) {
        d->oom = 1;
        return;
    }
    b->items = items;
    va_list ap;
    va_start(ap, fmt);
    char *s = vfmt(d, fmt, ap);
    va_end(ap);
    if (s)
        b->items[b->n_items++] = s;
}

void gvb_doc_table(gvb_doc *d, size_t cols)
{
    gvb_doc_block *b = add_block(d, GVB_DOC_TABLE);
    if (b)
        b->cols = cols;
}

void gvb_doc_cell(gvb_doc *d, int flags, const char *fmt, ...)
{
    if (d->oom || d->n == 0 || d->b[d->n - 1].kind != GVB_DOC_TABLE)
        return;
    gvb_doc_block *b = &d->b[d->n - 1];
    gvb_doc_tcell *c = realloc(b->cells, (b->n_cells + 1) * sizeof *c);
    if (!c) {
        d->oom = 1;
        return;
    }
    b->cells = c;
    va_list ap;
    va_start(ap, fmt);
    char *s = vfmt(d, fmt, ap);
    va_end(ap);
    if (!s)
        return;
    b->cells[b->n_cells].text = s;
    b->cells[b->n_cells].flags = flags;
    b->n_cells++;
}

void gvb_doc_code(gvb_doc *d, const char *text)
{
    gvb_doc_block *b = add_block(d, GVB_DOC_CODE);
    if (b && !(b->text = strdup(text)))
        d->oom = 1;
}

void gvb_doc_chart(gvb_doc *d, gvb_chart_kind kind, int arg)
{
    gvb_doc_block *b = add_block(d, GVB_DOC_CHART);
    if (!b)
        return;
    b->html_only = 1;
    b->chart = kind;
    b->arg = arg;
}

void gvb_doc_free(gvb_doc *d)
{
    for (size_t i = 0; i < d->n; i++) {
        gvb_doc_block *b = &d->b[i];
        free(b->text);
        for (size_t j = 0; j < b->n_items; j++)
            free(b->items[j]);
        free(b->items);
        for (size_t j = 0; j < b->n_cells; j++)
            free(b->cells[j].text);
        free(b->cells);
    }
    free(d->b);
    memset(d, 0, sizeof *d);
}

/* ---- Markdown ------------------------------------------------------------------------------ */

/* Escapes what GitHub-flavoured Markdown would otherwise interpret; newlines become spaces. */
static void md_text(FILE *f, const char *s)
{
    for (; *s; s++) {
        if (strchr("\\|<>*[]`", *s))
            fputc('\\', f);
        fputc(*s == '\n' || *s == '\r' ? ' ' : *s, f);
    }
}

static void md_table(FILE *f, const gvb_doc_block *b)
{
    size_t rows = b->n_cells / b->cols;
    for (size_t r = 0; r < rows; r++) {
        for (size_t c = 0; c < b->cols; c++) {
            const gvb_doc_tcell *cell = &b->cells[r * b->cols + c];
            int strong = r > 0 && (cell->flags & GVB_CELL_STRONG);
            fputs(c ? " | " : "| ", f);
            fputs(strong ? "**" : "", f);
            md_text(f, cell->text);
            fputs(strong ? "**" : "", f);
        }
        fputs(" |\n", f);
        if (r == 0) {
            for (size_t c = 0; c < b->cols; c++)
                fputs(b->cells[c].flags & GVB_CELL_NUM ? "|---:" : "|---", f);
            fputs("|\n", f);
        }
    }
}

static void md_heading(FILE *f, const gvb_doc_block *b)
{
    for (int l = 0; l < b->level; l++)
        fputc('#', f);
    fputc(' ', f);
    md_text(f, b->text);
    fputc('\n', f);
}

static void md_para(FILE *f, const gvb_doc_block *b)
{
    md_text(f, b->text);
    fputc('\n', f);
}

static void md_bullets(FILE *f, const gvb_doc_block *b)
{
    for (size_t j = 0; j < b->n_items; j++) {
        fputs("- ", f);
        md_text(f, b->items[j]);
        fputc('\n', f);
    }
}

/* A fenced block ends at a line of as many backticks as its fence or more (CommonMark), so
 * the fence is longer than any run of backticks in the text: an argument holding "```"
 * cannot close it and let raw HTML follow. */
static void md_code(FILE *f, const gvb_doc_block *b)
{
    size_t longest = 0, run = 0;
    for (const char *s = b->text; *s; s++) {
        run = *s == '`' ? run + 1 : 0;
        longest = run > longest ? run : longest;
    }
    size_t fence = longest >= 3 ? longest + 1 : 3;
    for (size_t i = 0; i < fence; i++)
        fputc('`', f);
    fprintf(f, "\n%s\n", b->text);
    for (size_t i = 0; i < fence; i++)
        fputc('`', f);
    fputc('\n', f);
}

/* The text formats print every block but charts and HTML-only ones, a blank line between. */
typedef struct text_printer {
    void (*block[GVB_DOC_CHART])(FILE *f, const gvb_doc_block *b); /* by gvb_doc_kind */
} text_printer;

static int print_text(FILE *f, const gvb_doc *d, const text_printer *p)
{
    int first = 1;
    for (size_t i = 0; i < d->n; i++) {
        const gvb_doc_block *b = &d->b[i];
        if (b->html_only || b->kind == GVB_DOC_CHART)
            continue;
        if (!first)
            fputc('\n', f);
        first = 0;
        p->block[b->kind](f, b);
    }
    return ferror(f) ? -1 : 0;
}

int gvb_doc_write_md(FILE *f, const gvb_doc *d)
{
    static const text_printer md = {{md_heading, md_para, md_bullets, md_table, md_code}};
    return print_text(f, d, &md);
}

/* ---- plain text ----------------------------------------------------------------------------- */

#define TXT_WIDTH 100

/* Display width of UTF-8 text: code points, not bytes. */
static size_t u8width(const char *s)
{
    size_t w = 0;
    for (; *s; s++)
        w += ((unsigned char)*s & 0xC0) != 0x80;
    return w;
}

static void pad(FILE *f, size_t n)
{
    while (n--)
        fputc(' ', f);
}

/* Word-wraps s at TXT_WIDTH; the first line after `first`, the others after `indent` spaces. */
static void txt_wrap(FILE *f, const char *s, const char *first, size_t indent)
{
    fputs(first, f);
    size_t col = u8width(first);
    int line_start = 1;
    while (*s) {
        while (*s == ' ')
            s++;
        size_t len = strcspn(s, " "), w = 0;
        if (len == 0)
            break;
        for (size_t i = 0; i < len; i++)
            w += ((unsigned char)s[i] & 0xC0) != 0x80;
        if (!line_start && col + 1 + w > TXT_WIDTH) {
            fputc('\n', f);
            pad(f, indent);
            col = indent;
            line_start = 1;
        }
        if (!line_start) {
            fputc(' ', f);
            col++;
        }
        fwrite(s, 1, len, f);
        col += w;
        s += len;
        line_start = 0;
    }
    fputc('\n', f);
}

static void txt_table(FILE *f, const gvb_doc_block *b)
{
    size_t rows = b->n_cells / b->cols, width[64] = {0};
    size_t cols = b->cols < 64 ? b->cols : 64;
    for (size_t r = 0; r < rows; r++)
        for (size_t c = 0; c < cols; c++) {
            size_t w = u8width(b->cells[r * b->cols + c].text);
            if (w > width[c])
                width[c] = w;
        }
    for (size_t r = 0; r < rows; r++) {
        for (size_t c = 0; c < cols; c++) {
            const gvb_doc_tcell *cell = &b->cells[r * b->cols + c];
            size_t gap = width[c] - u8width(cell->text);
            int right = b->cells[c].flags & GVB_CELL_NUM;
            if (c)
                fputs("  ", f);
            if (right)
                pad(f, gap);
            fputs(cell->text, f);
            if (!right && c + 1 < cols)
                pad(f, gap);
        }
        fputc('\n', f);
        if (r == 0) {
            for (size_t c = 0; c < cols; c++) {
                if (c)
                    fputs("  ", f);
                for (size_t k = 0; k < width[c]; k++)
                    fputc('-', f);
            }
            fputc('\n', f);
        }
    }
}

static void txt_heading(FILE *f, const gvb_doc_block *b)
{
    fprintf(f, "%s\n", b->text);
    size_t w = u8width(b->text);
    char u = b->level == 1 ? '=' : b->level == 2 ? '-' : '~';
    for (size_t k = 0; k < w; k++)
        fputc(u, f);
    fputc('\n', f);
}

static void txt_para(FILE *f, const gvb_doc_block *b) { txt_wrap(f, b->text, "", 0); }

static void txt_bullets(FILE *f, const gvb_doc_block *b)
{
    for (size_t j = 0; j < b->n_items; j++)
        txt_wrap(f, b->items[j], "  - ", 4);
}

static void txt_code(FILE *f, const gvb_doc_block *b)
{
    const char *s = b->text;
    while (*s) {
        size_t len = strcspn(s, "\n");
        fputs("    ", f);
        fwrite(s, 1, len, f);
        fputc('\n', f);
        s += len + (s[len] == '\n');
    }
}

int gvb_doc_write_txt(FILE *f, const gvb_doc *d)
{
    static const text_printer txt = {{txt_heading, txt_para, txt_bullets, txt_table, txt_code}};
    return print_text(f, d, &txt);
}
