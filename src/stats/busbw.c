/* Collective bandwidth formulas (see busbw.h). */
#include "stats/busbw.h"

#include <math.h>

double gvb_alg_bw(double bytes, double seconds)
{
    if (!(seconds > 0) || !(bytes >= 0))
        return NAN;
    return bytes / seconds;
}

double gvb_bus_bw_factor(gvb_collective c, int nranks)
{
    if (nranks < 1)
        return NAN;
    double n = nranks;
    switch (c) {
    case GVB_COLL_ALLREDUCE: return 2.0 * (n - 1) / n;
    case GVB_COLL_ALLGATHER:
    case GVB_COLL_REDUCESCATTER: return (n - 1) / n;
    case GVB_COLL_BROADCAST:
    case GVB_COLL_SENDRECV: return 1.0;
    }
    return NAN;
}

double gvb_bus_bw(gvb_collective c, double alg_bw, int nranks)
{
    return alg_bw * gvb_bus_bw_factor(c, nranks);
}

const char *gvb_collective_name(gvb_collective c)
{
    switch (c) {
    case GVB_COLL_ALLREDUCE: return "allreduce";
    case GVB_COLL_ALLGATHER: return "allgather";
    case GVB_COLL_REDUCESCATTER: return "reducescatter";
    case GVB_COLL_BROADCAST: return "broadcast";
    case GVB_COLL_SENDRECV: return "sendrecv";
    }
    return "?";
}
