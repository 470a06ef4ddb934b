/* The fragmentation pattern and formulas (see frag.h). */
#include "stats/frag.h"

#include <math.h>
#include <stdlib.h>

#include "stats/stats.h"

static double draw_weight(gvb_rng *r) { return exp(gvb_rng_unit(r) * log(GVB_FRAG_SPAN)); }

static uint64_t block_bytes(double weight, double scale)
{
    uint64_t b = (uint64_t)(weight * scale);
    b -= b % GVB_FRAG_GRAIN;
    return b < GVB_FRAG_GRAIN ? GVB_FRAG_GRAIN : b;
}

typedef struct builder {
    gvb_frag_plan *p;
    uint64_t *size; /* per slot, 0 when free */
    uint64_t held;
} builder;

static void push(builder *b, uint32_t slot, int alloc, uint64_t bytes)
{
    b->p->ops[b->p->n_ops++] = (gvb_frag_op){.slot = slot, .alloc = (uint32_t)alloc, .bytes = bytes};
    if (alloc) {
        b->size[slot] = bytes;
        b->held += bytes;
        if (b->held > b->p->peak)
            b->p->peak = b->held;
    } else {
        b->held -= b->size[slot];
        b->size[slot] = 0;
    }
}

int gvb_frag_plan_make(gvb_frag_plan *p, uint64_t seed, uint64_t usable)
{
    *p = (gvb_frag_plan){0};
    double budget = GVB_FRAG_FILL * (double)usable;
    if (budget < (double)GVB_FRAG_BLOCKS * GVB_FRAG_GRAIN * GVB_FRAG_SPAN / 64)
        return -1; /* too small for the size range to mean anything */
    size_t max_slots = (size_t)GVB_FRAG_BLOCKS * GVB_FRAG_ROUNDS;
    p->ops = calloc(2 * max_slots, sizeof *p->ops);
    uint64_t *size = calloc(max_slots, sizeof *size);
    double *w = calloc(GVB_FRAG_BLOCKS, sizeof *w);
    if (!p->ops || !size || !w) {
        free(size);
        free(w);
        gvb_frag_plan_free(p);
        return -1;
    }
    gvb_rng r;
    gvb_rng_seed(&r, seed);
    double sum = 0;
    for (int i = 0; i < GVB_FRAG_BLOCKS; i++)
        sum += w[i] = draw_weight(&r);
    double scale = budget / sum; /* the first fill takes the whole budget (less rounding) */
    builder b = {.p = p, .size = size};
    for (int i = 0; i < GVB_FRAG_BLOCKS; i++)
        push(&b, (uint32_t)p->n_slots++, 1, block_bytes(w[i], scale));
    for (int round = 0; round < GVB_FRAG_ROUNDS; round++) {
        for (size_t s = 0; s < p->n_slots; s++)
            if (size[s] && gvb_rng_unit(&r) < 0.5)
                push(&b, (uint32_t)s, 0, 0);
        if (round == GVB_FRAG_ROUNDS - 1)
            break;
        for (int i = 0; i < GVB_FRAG_BLOCKS && p->n_slots < max_slots; i++) {
            uint64_t bytes = block_bytes(draw_weight(&r), scale);
            if ((double)(b.held + bytes) > budget)
                break;
            push(&b, (uint32_t)p->n_slots++, 1, bytes);
        }
    }
    p->held_end = b.held;
    for (size_t s = 0; s < p->n_slots; s++)
        p->live_end += size[s] != 0;
    free(size);
    free(w);
    return 0;
}

void gvb_frag_plan_free(gvb_frag_plan *p)
{
    free(p->ops);
    *p = (gvb_frag_plan){0};
}

uint64_t gvb_largest_search(uint64_t hi, uint64_t step, int (*probe)(void *ctx, uint64_t bytes),
                            void *ctx)
{
    uint64_t bad = (hi / step + 1) * step, good = 0, down = step;
    for (uint64_t at = bad - step; at > 0;) {
        int r = probe(ctx, at);
        if (r < 0)
            return 0;
        if (r > 0) {
            good = at;
            break;
        }
        bad = at;
        at = bad > down ? (bad - down) / step * step : 0;
        down *= 2;
    }
    while (bad - good > step) {
        uint64_t mid = (good + bad) / 2 / step * step;
        int r = probe(ctx, mid);
        if (r < 0)
            return good;
        if (r > 0)
            good = mid;
        else
            bad = mid;
    }
    return good;
}

double gvb_frag_index(double largest, double total_free)
{
    if (!(total_free > 0))
        return NAN;
    double v = (1.0 - largest / total_free) * 100.0;
    return v < 0 ? 0 : v > 100 ? 100 : v;
}

double gvb_percent(double part, double whole)
{
    if (!(whole > 0))
        return NAN;
    return 100.0 * part / whole;
}
