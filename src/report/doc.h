/* A small document model for the comparison report: headings, paragraphs, bullet lists,
 * tables, code and chart placeholders. sections.c words the comparison model into one document;
 * the Markdown, text and HTML writers render the same document, so every format says the same
 * thing. Text is plain (no markup); each renderer escapes it for its format. Pure C. */
#ifndef GVB_REPORT_DOC_H
#define GVB_REPORT_DOC_H

#include <stddef.h>
#include <stdio.h>

struct gvb_model;

typedef enum {
    GVB_DOC_HEADING,
    GVB_DOC_PARA,
    GVB_DOC_BULLETS,
    GVB_DOC_TABLE,
    GVB_DOC_CODE,
    GVB_DOC_CHART,
} gvb_doc_kind;

typedef enum {
    GVB_CHART_CATEGORY,     /* arg: category index; ratio to native with CI whiskers */
    GVB_CHART_DISTRIBUTION, /* arg: metric index; samples per system (box + strip) */
    GVB_CHART_VALUE_BARS,   /* arg: metric index; value with CI per system, 100 % line */
    GVB_CHART_SERIES,       /* arg: metric index; a named series per system over time */
} gvb_chart_kind;

enum { GVB_CELL_STRONG = 1, GVB_CELL_NUM = 2 };

typedef struct gvb_doc_tcell {
    char *text;
    int flags;
} gvb_doc_tcell;

typedef struct gvb_doc_block {
    gvb_doc_kind kind;
    int level;       /* heading: 1..3 */
    int html_only;   /* charts and their headings */
    char anchor[48]; /* heading: id for links */
    char *text;      /* heading, paragraph, code; chart: what it shows when absent */
    char **items;    /* bullets */
    size_t n_items;
    gvb_doc_tcell *cells; /* table, row-major, first row = header */
    size_t cols, n_cells;
    gvb_chart_kind chart;
    int arg;
} gvb_doc_block;

typedef struct gvb_doc {
    gvb_doc_block *b;
    size_t n, cap;
    int oom;
    int html_only; /* blocks added now are for HTML only */
} gvb_doc;

void gvb_doc_heading(gvb_doc *d, int level, const char *anchor, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
void gvb_doc_para(gvb_doc *d, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Appends an item to the bullet list that ends the document, or starts one. */
void gvb_doc_bullet(gvb_doc *d, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Starts a table of `cols` columns; cells follow in row-major order, the header first. */
void gvb_doc_table(gvb_doc *d, size_t cols);
void gvb_doc_cell(gvb_doc *d, int flags, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
void gvb_doc_code(gvb_doc *d, const char *text);
void gvb_doc_chart(gvb_doc *d, gvb_chart_kind kind, int arg);
void gvb_doc_free(gvb_doc *d);

/* The report's document, worded from the model (sections.c). Returns 0 or -1 (memory). */
int gvb_report_doc(gvb_doc *d, const struct gvb_model *m);

/* Renderers. The HTML one draws chart blocks from the model (charts.c). */
int gvb_doc_write_md(FILE *f, const gvb_doc *d);
int gvb_doc_write_txt(FILE *f, const gvb_doc *d);
int gvb_doc_write_html(FILE *f, const gvb_doc *d, const struct gvb_model *m);

/* HTML-escapes s (& < > " ') to f. */
void gvb_html_escape(FILE *f, const char *s);
/* Draws a chart block as inline SVG; returns 0, or 1 when there is nothing to draw (the caller
 * says so in words). */
int gvb_chart_svg(FILE *f, const struct gvb_model *m, gvb_chart_kind kind, int arg);

#endif
