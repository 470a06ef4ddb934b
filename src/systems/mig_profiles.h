/* The H100 80GB MIG profile table (systems.md; memory as `nvidia-smi mig -lgip` lists it on
 * an H100 80GB HBM3). Used by mig-ideal's model; the real `mig` system never creates
 * instances and needs no table. Pure C. */
#ifndef GVB_MIG_PROFILES_H
#define GVB_MIG_PROFILES_H

#include <stddef.h>

typedef struct gvb_mig_profile {
    const char *name;
    int sms;            /* streaming multiprocessors of one instance */
    int memory_slices;  /* of 8: memory, memory bandwidth and L2 are partitioned by these */
    int compute_slices; /* of 7 */
    double memory_gib;  /* memory of one instance */
    int max_instances;  /* on one GPU */
} gvb_mig_profile;

#define GVB_MIG_FULL_SMS 132 /* H100 SXM5 80GB */
#define GVB_MIG_MEMORY_SLICES 8

extern const gvb_mig_profile gvb_mig_profiles[];
extern const size_t gvb_mig_profile_count;

const gvb_mig_profile *gvb_mig_profile_find(const char *name);
/* The largest profile of which `tenants` instances fit on one GPU (1 -> 7g.80gb, 2 -> 3g.40gb,
 * 3 -> 2g.20gb, 4..7 -> 1g.10gb); NULL for more than 7 tenants. */
const gvb_mig_profile *gvb_mig_profile_for_tenants(int tenants);

#endif
