/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * Publication of the mirror into the pinned maps. The publisher owns the
 * classifier builder (classifier/tss.h): each publication first hands it
 * the policies the mirror changed, then writes the mirror's changes and the
 * builder's inside one sequence-count window of the sync record
 * (loader/sync_record.h), so the datapath never acts on half an update.
 */
#ifndef XFRMBPF_PUBLISH_H
#define XFRMBPF_PUBLISH_H

#include <stdbool.h>
#include "xfrmbpf/tss.h"
#include "loader/maps.h"
#include "mirror/mirror.h"

struct xb_tss;

struct xb_publisher {
	struct xb_maps *maps;
	struct xb_tss *tss;		/* the classifier builder */
	/* What was last warned about per shape list, so that the log says
	 * when a part of the SPD becomes undecidable, once. */
	__u32 warned_why[XB_SHAPE_LISTS];
	bool warned_full[XB_SHAPE_LISTS];
	bool warned_unindexed[XB_SHAPE_LISTS];
	/* The map (XB_MAP_*) that refused a new entry because it was full
	 * in the last publication, or -1. */
	int full_map;
};

int xb_publisher_init(struct xb_publisher *pub, struct xb_maps *maps);
void xb_publisher_fini(struct xb_publisher *pub);
/* The maps as the mirror's policy store (xb_mirror_init): what
 * xb_publish() wrote, read back. */
struct xb_policy_store xb_publisher_store(const struct xb_publisher *pub);

/* Hand the mirror's changed policies to the builder, then write the
 * pending changes into the maps; clears them. A failure marks the maps
 * unsynced: the datapath then passes everything. When a map was full
 * (pub->full_map), what that publication did not write is lost for good:
 * only a rebuild on empty maps (xb_publish_clear(), a new publisher and
 * mirror, a dump) makes them complete again. */
int xb_publish(struct xb_publisher *pub, struct xb_mirror *m);
/*
 * The classifier laid out anew, as at start: every policy the mirror uses
 * into a new builder in the kernel's order of precedence, published on
 * emptied classifier maps inside one window (the datapath passes what it
 * meets meanwhile, and never sees the two layouts mixed). Live adds are
 * placed first come and never moved, and a layout built so passes more
 * tables a packet (xb_tss_raised_tables()). Call with no changes pending
 * (after xb_publish()). published: whether the window was opened, the
 * maps written; a failure then is as xb_publish()'s (unsynced), one
 * before (-ENOMEM, a map that cannot be walked) leaves everything as it
 * was. window_ns: how long the window was open.
 */
int xb_publish_relayout(struct xb_publisher *pub, const struct xb_mirror *m,
			__u64 *window_ns, bool *published);
/* Whether the layout drifted enough since it was built in order for
 * xb_publish_relayout() to be worth its window. */
bool xb_publish_relayout_due(const struct xb_publisher *pub, const struct xb_mirror *m);
/* Empty every state map (start-up: pins may hold a dead daemon's state). */
int xb_publish_clear(struct xb_maps *maps);

#endif
