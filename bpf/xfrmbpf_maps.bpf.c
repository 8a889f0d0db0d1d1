// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Maps only: the mirror loads this object to create and pin every map,
 * whether or not a datapath program is attached.
 */
#include "maps.bpf.h"

char LICENSE[] SEC("license") = "Dual BSD/GPL";
