/* H100 80GB MIG profiles (see mig_profiles.h). */
#include "systems/mig_profiles.h"

#include <string.h>

const gvb_mig_profile gvb_mig_profiles[] = {
    {"1g.10gb", 16, 1, 1, 9.75, 7},
    {"1g.20gb", 26, 2, 1, 19.62, 4},
    {"2g.20gb", 32, 2, 2, 19.62, 3},
    {"3g.40gb", 60, 4, 3, 39.50, 2},
    {"4g.40gb", 64, 4, 4, 39.50, 1},
    {"7g.80gb", 132, 8, 7, 79.25, 1},
};
const size_t gvb_mig_profile_count = sizeof gvb_mig_profiles / sizeof gvb_mig_profiles[0];

const gvb_mig_profile *gvb_mig_profile_find(const char *name)
{
    for (size_t i = 0; i < gvb_mig_profile_count; i++)
        if (strcmp(gvb_mig_profiles[i].name, name) == 0)
            return &gvb_mig_profiles[i];
    return NULL;
}

const gvb_mig_profile *gvb_mig_profile_for_tenants(int tenants)
{
    static const char *const by_tenants[] = {NULL, "7g.80gb", "3g.40gb", "2g.20gb"};
    if (tenants < 1 || tenants > 7)
        return NULL;
    return gvb_mig_profile_find(tenants <= 3 ? by_tenants[tenants] : "1g.10gb");
}
