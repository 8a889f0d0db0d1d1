/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * The mirror's in-memory copy of the kernel's SPD, SA identities, XFRM
 * interfaces and default policies. Events from user/netlink/xfrm_msg.c are applied
 * here; every change is also recorded in a change list that the publisher
 * (user/mirror/publish.c) hands to the classifier builder and turns into map
 * updates. The mirror itself knows nothing of the classifier.
 */
#ifndef XFRMBPF_MIRROR_H
#define XFRMBPF_MIRROR_H

#include <stdbool.h>
#include "lib/hashtab.h"
#include "lib/idchain.h"
#include "lib/vec.h"
#include "netlink/xfrm_msg.h"

struct xb_spread;

/* A policy as the kernel has it, templates included. */
struct xb_mirror_full {
	struct xb_policy pol;
	struct xb_tmpl tmpls[];		/* pol.n_tmpls entries */
};

/* Where published policies can be read back from: the pinned maps for the
 * daemon (mirror/publish.h). load() fills pol and its templates (tmpls has
 * room for XB_MAX_TMPLS) and returns 0 or -errno. */
struct xb_policy_store {
	int (*load)(void *ctx, __u32 id, struct xb_policy *pol, struct xb_tmpl *tmpls);
	void *ctx;
};

/* The end of a chain of the policies by index. */
#define XB_MIRROR_NO_ID		XB_IDCHAIN_END

/*
 * One slot of struct xb_mirror.slots, by policy id: what bookkeeping
 * needs, 12 bytes. The policy itself, its priority and position too, is
 * in struct xb_mirror.fulls only until it is published into a store it
 * can be read back from: with 100k policies the maps already hold every
 * byte, a second copy in the daemon would double the memory. Without a
 * store (`xfrmbpf check`) the copies stay.
 */
struct xb_mirror_policy {
	__u32 next;			/* next id of its chain by index */
	__u32 index;			/* the kernel's policy index */
	__u8 type;			/* XFRM_POLICY_TYPE_* */
	bool seen;			/* mark-and-sweep during a re-dump */
	bool used;
};

struct xb_mirror_sa {
	struct xb_hnode node;
	struct xb_sa_key key;
	bool seen;
	struct xb_sa sa;
};

struct xb_mirror_spi {
	struct xb_hnode node;
	struct xb_spi_key key;
	__u32 n_sas;
	__u32 cpu;		/* --spread-esp: its CPU, else XB_NO_CPU */
};

struct xb_mirror_link {
	struct xb_hnode node;
	__u32 ifindex;
	bool seen;
	struct xb_xfrm_link link;
};

struct xb_mirror {
	/* The policies by kernel index: chains of ids through the slots'
	 * next (lib/idchain.h); count is the policies the mirror holds. */
	struct xb_idchain policies;
	struct xb_htab sas;		/* by struct xb_sa_key */
	struct xb_htab spis;		/* by struct xb_spi_key */
	struct xb_htab links;		/* by ifindex */
	/* Policies the mirror can hold: ids are below it. */
	__u32 max_policies;
	/* max_policies slots, by id: one allocation whose pages the
	 * kernel provides only as ids get used. */
	struct xb_mirror_policy *slots;
	/* The copies of the policies not yet published to the store, by
	 * id (NULL: none), max_policies pointers reserved like the slots;
	 * n_fulls of them are set. Once none is, the pages of those that
	 * were go back to the kernel. */
	struct xb_mirror_full **fulls;
	__u32 n_fulls;
	__u32 *free_ids;	/* released ids, a min-heap (lowest first) */
	/* Template entries in xb_tmpls per policy id: what the publisher
	 * must delete when a slot's template count shrinks. */
	__u8 *published_tmpls;
	__u32 n_free_ids;
	__u32 next_id;
	__u32 next_pos;
	/* A dump lists policies newest first: during one, new policies get
	 * descending positions below dump_top (see new_pos()). */
	bool dumping;
	__u32 dump_top;
	__u32 dump_count;
	__u8 default_action[4];
	/* Where the copies live: one reserved range, bump-allocated, given
	 * back to the kernel when the last copy in it is released (copies
	 * are released in bulk, after each publication). */
	char *arena;
	size_t arena_size;
	size_t arena_used;
	size_t arena_live;
	/* load NULL: no store (`xfrmbpf check`), the copies stay. */
	struct xb_policy_store store;
	/* `run --spread-esp`: gives each SPI key its CPU (mirror/spread.h);
	 * NULL: none (XB_NO_CPU). Not the mirror's: it outlives a rebuild. */
	struct xb_spread *spread;

	/* Changes not yet published. Duplicates are harmless: the publisher
	 * gives the classifier builder and writes into the maps the current
	 * state of each key it is given. */
	struct xb_vec dirty_policies;	/* __u32 policy id */
	struct xb_vec stats_reset;	/* __u32 policy id, reused slots */
	struct xb_vec dirty_sas;	/* struct xb_sa_key */
	struct xb_vec dirty_spis;	/* struct xb_spi_key */
	struct xb_vec dirty_links;	/* __u32 xb_xfrm_links key */
	bool defaults_dirty;
	/* A policy did not fit (more than max_policies): the mirror is
	 * incomplete until a re-dump that fits (xb_mirror_mark_unseen()
	 * clears it). */
	bool overflow;
};

/* store: where the publisher puts the policies; NULL keeps every copy.
 * max_policies: the capacity (0: XB_MAX_POLICIES); a policy past it is
 * refused with -ENOSPC and sets overflow. */
int xb_mirror_init(struct xb_mirror *m, const struct xb_policy_store *store,
		   __u32 max_policies);
void xb_mirror_fini(struct xb_mirror *m);
/* Give SPI keys CPUs from spread (NULL: none), before the first event;
 * xb_mirror_fini() hands their CPUs back to it as hints. */
void xb_mirror_set_spread(struct xb_mirror *m, struct xb_spread *spread);

/* Apply one parsed event. */
int xb_mirror_apply(struct xb_mirror *m, const struct xb_event *ev);

/* A re-dump: mark everything unseen, apply the dump (which marks what it
 * sees), then sweep what the kernel no longer has. Policies the dump adds
 * are positioned as the kernel's dump order says (newest first). */
void xb_mirror_mark_unseen(struct xb_mirror *m);
void xb_mirror_sweep_unseen(struct xb_mirror *m);

bool xb_mirror_has_changes(const struct xb_mirror *m);
void xb_mirror_clear_changes(struct xb_mirror *m);

struct xb_mirror_policy *xb_mirror_policy_by_id(const struct xb_mirror *m, __u32 id);
/* The policy of kernel index `index`, or NULL. */
struct xb_mirror_policy *xb_mirror_policy_find(const struct xb_mirror *m, __u32 index);
/* The lowest id in use at or above id, m->next_id when there is none. */
__u32 xb_mirror_next_policy(const struct xb_mirror *m, __u32 id);
/* Each id in use, lowest first; the policy of the current id may be
 * removed on the way. */
#define xb_mirror_for_each_policy(m, id)				\
	for ((id) = xb_mirror_next_policy((m), 0); (id) < (m)->next_id;	\
	     (id) = xb_mirror_next_policy((m), (id) + 1))
static inline __u32 xb_mirror_policy_id(const struct xb_mirror *m,
				       const struct xb_mirror_policy *mp)
{
	return (__u32)(mp - m->slots);
}
/* The mirror's copy of the policy of slot id, NULL when it has none (the
 * policy is in the store, or the slot unused). */
static inline const struct xb_mirror_full *xb_mirror_policy_full(const struct xb_mirror *m,
								 __u32 id)
{
	return id < m->max_policies ? m->fulls[id] : NULL;
}
/* The policy of slot id, from the mirror's copy or read back from the
 * store. tmpls has room for XB_MAX_TMPLS. */
int xb_mirror_policy_get(const struct xb_mirror *m, __u32 id,
			 struct xb_policy *pol, struct xb_tmpl *tmpls);
/* The pending changes are in the store now: drop the copies of what was
 * published (with a store); later comparisons read the store. */
void xb_mirror_published(struct xb_mirror *m);
struct xb_mirror_sa *xb_mirror_sa_find(const struct xb_mirror *m, const struct xb_sa_key *key);
struct xb_mirror_spi *xb_mirror_spi_find(const struct xb_mirror *m, const struct xb_spi_key *key);
/* The interface published under xb_xfrm_links key link_key, or NULL. */
struct xb_mirror_link *xb_mirror_link_by_key(const struct xb_mirror *m, __u32 link_key);
__u32 xb_link_key(const struct xb_xfrm_link *link);

#endif
