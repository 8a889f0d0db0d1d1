// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * The mirror loads this object to create and pin every map, whether or
 * not a datapath program is attached, and to arm the heartbeat watchdog.
 */
#include "maps.bpf.h"
#include "watchdog.bpf.h"

char LICENSE[] SEC("license") = "Dual BSD/GPL";
