/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * Publication of the mirror into the pinned maps. Every batch of changes is
 * written inside one sequence-count window of the sync record
 * (loader/sync_record.h), so the datapath never acts on half an update.
 */
#ifndef XFRMBPF_PUBLISH_H
#define XFRMBPF_PUBLISH_H

#include <stdbool.h>
#include "loader/maps.h"
#include "mirror/mirror.h"

/* Write the mirror's pending changes; clears them. */
int xb_publish(struct xb_maps *maps, struct xb_mirror *m);
/* Empty every state map (start-up: pins may hold a dead daemon's state). */
int xb_publish_clear(struct xb_maps *maps);

#endif
