/* Collective bandwidth formulas, as nccl-tests defines them (src/common.cu getBw and each
 * collective's GetBw): algBw = bytes / time; busBw = algBw x a factor that makes the number
 * comparable with the hardware's link bandwidth whatever the rank count. Pure C. */
#ifndef GVB_BUSBW_H
#define GVB_BUSBW_H

typedef enum {
    GVB_COLL_ALLREDUCE,     /* bytes = the buffer each rank reduces; factor 2(n-1)/n */
    GVB_COLL_ALLGATHER,     /* bytes = the gathered (receive) buffer, n x send; factor (n-1)/n */
    GVB_COLL_REDUCESCATTER, /* bytes = the send buffer, n x receive; factor (n-1)/n */
    GVB_COLL_BROADCAST,     /* bytes = the broadcast buffer; factor 1 */
    GVB_COLL_SENDRECV,      /* bytes = what one rank sends; factor 1 */
} gvb_collective;

/* bytes / seconds, in bytes per second; NAN when seconds <= 0. */
double gvb_alg_bw(double bytes, double seconds);
/* The busBw / algBw factor of collective c over nranks (>= 1); NAN for nranks < 1. */
double gvb_bus_bw_factor(gvb_collective c, int nranks);
/* algBw x the factor. */
double gvb_bus_bw(gvb_collective c, double alg_bw, int nranks);
/* "allreduce", "allgather", ... */
const char *gvb_collective_name(gvb_collective c);

#endif
