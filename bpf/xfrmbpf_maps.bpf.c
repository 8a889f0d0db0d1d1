// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * The mirror loads this object to create and pin every map, whether or
 * not a datapath program is attached, to arm the heartbeat watchdog and to
 * pin the watch on the daemon's exit.
 */
#include "maps.bpf.h"
#include "watchdog.bpf.h"
#include "exit_watch.bpf.h"

char LICENSE[] SEC("license") = "Dual BSD/GPL";
