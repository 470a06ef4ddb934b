/* Helper processes the runner starts: the activation proof worker (`__proof`, proof.c) and
 * the ground-truth NVML monitor (`__monitor`, monitor_proc.c). */
#ifndef GVB_PROOF_H
#define GVB_PROOF_H

int gvb_proof_main(int argc, char **argv);
int gvb_monitor_main(int argc, char **argv);

#endif
