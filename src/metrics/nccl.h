/* The NCCL metrics' rank processes: `gpu-virt-bench __nccl_rank ...`, exec'd by the tenant
 * (rank 0) for ranks 1..G-1. Hidden subcommand; see src/metrics/nccl.c. */
#ifndef GVB_METRICS_NCCL_H
#define GVB_METRICS_NCCL_H

int gvb_nccl_rank_main(int argc, char **argv, double t_main);

#endif
