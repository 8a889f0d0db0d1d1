// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * libFuzzer target of the netlink parsers: one datagram as the kernel
 * would hand it to the daemon, dispatched as XFRM (policies, SAs,
 * defaults, SPD info) and as rtnetlink (links), every event handed to a
 * callback that reads it. Built with clang -fsanitize=fuzzer,address,
 * undefined; `make test` runs it for a bounded time, `make fuzz` longer.
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include "netlink/nl.h"

static int take_event(const struct xb_event *ev, void *data)
{
	/* touch the event, as the mirror would */
	*(unsigned int *)data += (unsigned int)ev->kind;
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	/* aligned like a receive buffer; the dispatcher wipes it */
	static uint64_t buf[65536 / sizeof(uint64_t)];
	struct xb_nl nl;
	unsigned int sum = 0;

	if (size > sizeof(buf))
		return 0;
	memset(&nl, 0, sizeof(nl));
	memcpy(buf, data, size);
	xb_nl_dispatch(&nl, buf, size, false, 0, take_event, &sum);
	memcpy(buf, data, size);
	xb_nl_dispatch(&nl, buf, size, true, 0, take_event, &sum);
	return 0;
}
