/* What the report's section files share (sections.c, sections_back.c): number and key-value
 * formatting, and the back sections gvb_report_doc calls last. Pure C. */
#ifndef GVB_REPORT_SECTIONS_H
#define GVB_REPORT_SECTIONS_H

#include <stddef.h>

#include "core/result.h"
#include "report/doc.h"
#include "report/model.h"

typedef char gvb_nbuf[48];
/* v with gvb_fmt_num into buf (a gvb_nbuf). */
const char *gvb_sec_num(double v, char *buf);
/* The text of key, or dflt when absent or numeric. */
const char *gvb_sec_kv_text_or(const gvb_kv *kv, const char *key, const char *dflt);
/* "k=v, k=v" of a key-value list without skip and skip2 (numbers with up to 10 significant
 * digits). */
void gvb_sec_kv_join(const gvb_kv *kv, const char *skip, const char *skip2, char *buf, size_t len);

void gvb_sec_workload(gvb_doc *d, const gvb_model *m); /* section_workload.c */
void gvb_sec_baseline(gvb_doc *d, const gvb_model *m);
void gvb_sec_validity(gvb_doc *d, const gvb_model *m);
void gvb_sec_charts(gvb_doc *d, const gvb_model *m);
void gvb_sec_methodology(gvb_doc *d, const gvb_model *m);

#endif
