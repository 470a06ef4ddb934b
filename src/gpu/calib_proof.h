/* `gpu-virt-bench __calib-proof`: the calib system's activation proof worker (see
 * systems/calib.c). Speaks the worker protocol on GVB_FD_OUT. */
#ifndef GVB_CALIB_PROOF_H
#define GVB_CALIB_PROOF_H

int gvb_calib_proof_main(void);

#endif
