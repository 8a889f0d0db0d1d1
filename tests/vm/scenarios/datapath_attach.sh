#!/bin/bash
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
# The attach/coexistence integration test on the lab's stock kernel. The
# host kernel refuses libxdp's dispatcher (freplace), so only here does
# xfrmbpf really share a NIC with another XDP program.
set -u
. "$(dirname "$0")/_lib.sh"
vm_enter "$0" "$@"
require_root "datapath attach"
vm_banner "datapath_attach"
exec bash "$TOP/tests/integration/test_datapath_attach.sh"
