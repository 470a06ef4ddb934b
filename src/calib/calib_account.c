/* The calibration layer's configuration, memory accounting and duty bucket (see
 * calib_account.h). */
#include "calib/calib_account.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/size.h"

/* ---- spec ------------------------------------------------------------------------------- */

static int spec_fail(char *err, size_t len, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static int spec_fail(char *err, size_t len, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    if (err && len)
        vsnprintf(err, len, fmt, ap);
    va_end(ap);
    return -1;
}

static int parse_us(const char *v, double *out)
{
    char *end;
    errno = 0;
    double x = strtod(v, &end);
    if (errno || end == v || *end || !isfinite(x) || x < 0 || x > GVB_CALIB_MAX_DELAY_US ||
        v[0] == '+' || v[0] == '-')
        return -1;
    *out = x;
    return 0;
}

static int parse_pct(const char *v, int *out)
{
    char *end;
    errno = 0;
    long x = strtol(v, &end, 10);
    if (errno || end == v || *end || x < 1 || x > 100 || v[0] == '+')
        return -1;
    *out = (int)x;
    return 0;
}

int gvb_calib_spec_parse(const char *s, gvb_calib_spec *out, char *err, size_t errlen)
{
    gvb_calib_spec spec = {0};
    if (!s)
        s = "";
    char buf[512];
    if (strlen(s) >= sizeof buf)
        return spec_fail(err, errlen, "calibration spec too long");
    snprintf(buf, sizeof buf, "%s", s);
    unsigned seen = 0;
    char *save = NULL;
    for (char *item = strtok_r(buf, ",", &save); item; item = strtok_r(NULL, ",", &save)) {
        char *eq = strchr(item, '=');
        if (!eq || eq == item || !eq[1])
            return spec_fail(err, errlen,
                             "calibration spec: '%s' is not KEY=VALUE (keys: launch_us, "
                             "alloc_us, mem, duty)",
                             item);
        *eq = '\0';
        const char *key = item, *val = eq + 1;
        static const char *const keys[] = {"launch_us", "alloc_us", "mem", "duty"};
        unsigned bit = 0;
        for (unsigned k = 0; k < 4; k++)
            if (strcmp(key, keys[k]) == 0)
                bit = 1u << k;
        if (!bit)
            return spec_fail(err, errlen,
                             "calibration spec: unknown key '%s' (keys: launch_us, alloc_us, "
                             "mem, duty)",
                             key);
        if (seen & bit)
            return spec_fail(err, errlen, "calibration spec: '%s' given twice", key);
        seen |= bit;
        int bad = 0;
        if (bit == 1u)
            bad = parse_us(val, &spec.launch_us);
        else if (bit == 2u)
            bad = parse_us(val, &spec.alloc_us);
        else if (bit == 4u)
            bad = gvb_parse_size(val, &spec.mem);
        else
            bad = parse_pct(val, &spec.duty);
        if (bad)
            return spec_fail(err, errlen, "calibration spec: bad value '%s' for %s (%s)", val,
                             key,
                             bit <= 2u  ? "microseconds 0..1000000"
                             : bit == 4 ? "a size: 3g, 3072m; a bare number is MiB"
                                        : "percent 1..100");
    }
    *out = spec;
    return 0;
}

/* ---- memory accounting ------------------------------------------------------------------ */

void gvb_calib_acct_init(gvb_calib_acct *a, uint64_t cap)
{
    memset(a, 0, sizeof *a);
    a->cap = cap;
}

void gvb_calib_acct_free(gvb_calib_acct *a)
{
    free(a->keys);
    free(a->sizes);
    uint64_t cap = a->cap;
    gvb_calib_acct_init(a, cap);
}

void gvb_calib_acct_set_charge(gvb_calib_acct *a, uint64_t total, uint64_t free_bytes)
{
    a->charge = total > free_bytes ? total - free_bytes : 0;
    a->charge_known = 1;
}

static uint64_t usage(const gvb_calib_acct *a) { return a->charge + a->live; }

int gvb_calib_acct_reserve(gvb_calib_acct *a, uint64_t size)
{
    if (a->cap && (size > a->cap || usage(a) > a->cap - size))
        return -1;
    a->live += size;
    return 0;
}

void gvb_calib_acct_unreserve(gvb_calib_acct *a, uint64_t size)
{
    a->live = a->live > size ? a->live - size : 0;
}

static size_t slot_of(uint64_t key, size_t slots)
{
    key ^= key >> 33; /* murmur3 finalizer: device pointers share their low bits */
    key *= 0xff51afd7ed558ccdull;
    key ^= key >> 33;
    return (size_t)key & (slots - 1);
}

static void put(uint64_t *keys, uint64_t *sizes, size_t slots, uint64_t k, uint64_t v)
{
    size_t i = slot_of(k, slots);
    while (keys[i] && keys[i] != k)
        i = (i + 1) & (slots - 1);
    keys[i] = k;
    sizes[i] = v;
}

static int grow(gvb_calib_acct *a)
{
    size_t slots = a->slots ? a->slots * 2 : 1024;
    uint64_t *keys = calloc(slots, sizeof *keys), *sizes = calloc(slots, sizeof *sizes);
    if (!keys || !sizes) {
        free(keys);
        free(sizes);
        return -1;
    }
    for (size_t i = 0; i < a->slots; i++)
        if (a->keys[i])
            put(keys, sizes, slots, a->keys[i], a->sizes[i]);
    free(a->keys);
    free(a->sizes);
    a->keys = keys;
    a->sizes = sizes;
    a->slots = slots;
    return 0;
}

int gvb_calib_acct_track(gvb_calib_acct *a, uint64_t ptr, uint64_t size)
{
    if (ptr == 0 || ((a->n_live + 1) * 4 > (uint64_t)a->slots * 3 && grow(a) != 0)) {
        gvb_calib_acct_unreserve(a, size);
        return -1;
    }
    size_t i = slot_of(ptr, a->slots);
    while (a->keys[i] && a->keys[i] != ptr)
        i = (i + 1) & (a->slots - 1);
    if (a->keys[i] == ptr) /* the driver reused a pointer we missed the free of */
        gvb_calib_acct_unreserve(a, a->sizes[i]);
    else
        a->n_live++;
    a->keys[i] = ptr;
    a->sizes[i] = size;
    return 0;
}

uint64_t gvb_calib_acct_release(gvb_calib_acct *a, uint64_t ptr)
{
    if (!a->slots || ptr == 0)
        return 0;
    size_t i = slot_of(ptr, a->slots);
    while (a->keys[i] && a->keys[i] != ptr)
        i = (i + 1) & (a->slots - 1);
    if (!a->keys[i])
        return 0;
    uint64_t size = a->sizes[i];
    a->keys[i] = 0;
    a->n_live--;
    gvb_calib_acct_unreserve(a, size);
    /* backward-shift deletion keeps every probe chain unbroken without tombstones */
    size_t hole = i;
    for (size_t j = (i + 1) & (a->slots - 1); a->keys[j]; j = (j + 1) & (a->slots - 1)) {
        size_t home = slot_of(a->keys[j], a->slots);
        /* move j into the hole unless its home lies cyclically in (hole, j] */
        int stays = hole <= j ? (home > hole && home <= j) : (home > hole || home <= j);
        if (stays)
            continue;
        a->keys[hole] = a->keys[j];
        a->sizes[hole] = a->sizes[j];
        a->keys[j] = 0;
        hole = j;
    }
    return size;
}

void gvb_calib_acct_meminfo(const gvb_calib_acct *a, uint64_t *free_bytes, uint64_t *total)
{
    uint64_t u = usage(a);
    *total = a->cap;
    *free_bytes = u >= a->cap ? 0 : a->cap - u;
}

/* ---- duty cycle -------------------------------------------------------------------------- */

void gvb_calib_duty_init(gvb_calib_duty *d, int duty_pct, double window_s)
{
    d->frac = duty_pct > 0 && duty_pct <= 100 ? duty_pct / 100.0 : 1.0;
    d->burst_s = window_s * d->frac;
    d->tokens = 0;
    d->last = -1;
}

double gvb_calib_duty_spend(gvb_calib_duty *d, double now, double busy_s)
{
    if (d->frac >= 1.0)
        return 0;
    if (d->last < 0)
        d->last = now - busy_s; /* the first launch began busy_s ago */
    if (now > d->last)
        d->tokens = fmin(d->burst_s, d->tokens + (now - d->last) * d->frac);
    d->last = now;
    d->tokens -= busy_s;
    return d->tokens < 0 ? -d->tokens / d->frac : 0;
}
