// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <linux/in.h>
#include <linux/ipsec.h>
#include <linux/xfrm.h>
#include "lib/log.h"
#include "mirror/mirror.h"
#include "mirror/spread.h"

/* Room for every policy at its largest: copies beyond it use malloc. */
#define ARENA_SIZE(max)	((size_t)(max) * \
			 (sizeof(struct xb_mirror_full) + XB_MAX_TMPLS * sizeof(struct xb_tmpl)))
/* Below this, an emptied arena keeps its pages for the next events. */
#define ARENA_KEEP	(256 * 1024)

static void arena_init(struct xb_mirror *m)
{
	void *p = mmap(NULL, ARENA_SIZE(m->max_policies), PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);

	/* Without it every copy is malloc'd: slower to give back, no less
	 * correct. */
	if (p != MAP_FAILED) {
		m->arena = p;
		m->arena_size = ARENA_SIZE(m->max_policies);
	}
}

static bool in_arena(const struct xb_mirror *m, const void *p)
{
	return m->arena && (const char *)p >= m->arena &&
	       (const char *)p < m->arena + m->arena_size;
}

static void *full_mem(struct xb_mirror *m, size_t size)
{
	void *p;

	size = (size + 7) & ~(size_t)7;
	if (!m->arena || m->arena_size - m->arena_used < size)
		return malloc(size);
	p = m->arena + m->arena_used;
	m->arena_used += size;
	m->arena_live++;
	return p;
}

static void full_free(struct xb_mirror *m, struct xb_mirror_full *f)
{
	if (!f)
		return;
	if (!in_arena(m, f)) {
		free(f);
		return;
	}
	if (--m->arena_live)
		return;
	if (m->arena_used > ARENA_KEEP)
		madvise(m->arena, m->arena_used, MADV_DONTNEED);
	m->arena_used = 0;
}

/* The copies' pointers, by id: reserved for max_policies, the kernel
 * provides the pages as ids get copies. */
static int fulls_init(struct xb_mirror *m)
{
	void *p = mmap(NULL, m->max_policies * sizeof(*m->fulls), PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);

	if (p == MAP_FAILED)
		return -ENOMEM;
	m->fulls = p;
	return 0;
}

/* Id's copy becomes f (NULL: none). When the last copy goes (a
 * publication released them all), the pages of the pointers go back to
 * the kernel: after the initial dump of 1M policies they are 8 MB. */
static void full_set(struct xb_mirror *m, __u32 id, struct xb_mirror_full *f)
{
	struct xb_mirror_full *old = m->fulls[id];

	full_free(m, old);
	m->fulls[id] = f;
	m->n_fulls = m->n_fulls + !!f - !!old;
	if (old && !m->n_fulls && m->next_id * sizeof(*m->fulls) > ARENA_KEEP)
		madvise(m->fulls, m->next_id * sizeof(*m->fulls), MADV_DONTNEED);
}

/* ---- the policies by kernel index ---- */

_Static_assert(sizeof(struct xb_mirror_policy) <= 12,
	       "struct xb_mirror_policy grew: one per policy id");

#define POLICY_HEADS_MIN_BITS	6

/* The slots as lib/idchain.h sees them: linked through next, hashed by
 * the kernel's index (which steps by 8, the direction in the low bits:
 * the chains' multiplicative hash spreads it). */
static __u32 *slot_link(void *ctx, __u32 id)
{
	return &((struct xb_mirror *)ctx)->slots[id].next;
}

static __u32 slot_hash(void *ctx, __u32 id)
{
	return ((struct xb_mirror *)ctx)->slots[id].index;
}

static struct xb_idchain_elems slot_elems(struct xb_mirror *m)
{
	return (struct xb_idchain_elems){ slot_link, slot_hash, m };
}

/* Id, whose slot has its index, into the chains. */
static int index_insert(struct xb_mirror *m, __u32 id)
{
	struct xb_idchain_elems e = slot_elems(m);
	int err = xb_idchain_grow(&m->policies, &e);

	if (err)
		return err;
	xb_idchain_link(&m->policies, &e, id);
	return 0;
}

static void index_remove(struct xb_mirror *m, __u32 id)
{
	struct xb_idchain_elems e = slot_elems(m);

	xb_idchain_unlink(&m->policies, &e, id);
}

int xb_mirror_init(struct xb_mirror *m, const struct xb_policy_store *store,
		   __u32 max_policies)
{
	memset(m, 0, sizeof(*m));
	m->max_policies = max_policies ? max_policies : XB_MAX_POLICIES;
	if (store)
		m->store = *store;
	m->dirty_policies = (struct xb_vec)XB_VEC_INIT(__u32);
	m->stats_reset = (struct xb_vec)XB_VEC_INIT(__u32);
	m->dirty_sas = (struct xb_vec)XB_VEC_INIT(struct xb_sa_key);
	m->dirty_spis = (struct xb_vec)XB_VEC_INIT(struct xb_spi_key);
	m->dirty_links = (struct xb_vec)XB_VEC_INIT(__u32);
	if (xb_idchain_init(&m->policies, POLICY_HEADS_MIN_BITS) ||
	    xb_htab_init(&m->sas, offsetof(struct xb_mirror_sa, key),
			 sizeof(struct xb_sa_key)) ||
	    xb_htab_init(&m->spis, offsetof(struct xb_mirror_spi, key),
			 sizeof(struct xb_spi_key)) ||
	    xb_htab_init(&m->links, offsetof(struct xb_mirror_link, ifindex),
			 sizeof(__u32)))
		goto err;
	m->slots = calloc(m->max_policies, sizeof(*m->slots));
	m->free_ids = calloc(m->max_policies, sizeof(*m->free_ids));
	m->published_tmpls = calloc(m->max_policies, sizeof(*m->published_tmpls));
	if (!m->slots || !m->free_ids || !m->published_tmpls || fulls_init(m))
		goto err;
	arena_init(m);
	return 0;
err:
	xb_mirror_fini(m);
	return -ENOMEM;
}

static void free_policies(struct xb_mirror *m)
{
	__u32 id;

	if (m->fulls) {
		for (id = 0; id < m->next_id; id++)
			full_free(m, m->fulls[id]);
		munmap(m->fulls, m->max_policies * sizeof(*m->fulls));
	}
	xb_idchain_fini(&m->policies);
}

void xb_mirror_set_spread(struct xb_mirror *m, struct xb_spread *spread)
{
	m->spread = spread;
}

/* The CPUs of every key back to the spread, kept as hints: a mirror
 * rebuilt on empty maps gives the keys that come back the same CPUs. */
static void release_spread(struct xb_mirror *m)
{
	struct xb_hnode *n, *tmp;
	size_t i;

	if (!m->spread || !m->spis.buckets)
		return;
	xb_htab_for_each(&m->spis, n, tmp, i) {
		struct xb_mirror_spi *s = xb_container_of(n, struct xb_mirror_spi, node);

		if (s->cpu != XB_NO_CPU)
			xb_spread_release(m->spread, &s->key, s->cpu, true);
	}
}

void xb_mirror_fini(struct xb_mirror *m)
{
	release_spread(m);
	free_policies(m);
	xb_htab_free_all(&m->sas, offsetof(struct xb_mirror_sa, node));
	xb_htab_free_all(&m->spis, offsetof(struct xb_mirror_spi, node));
	xb_htab_free_all(&m->links, offsetof(struct xb_mirror_link, node));
	free(m->slots);
	free(m->free_ids);
	free(m->published_tmpls);
	if (m->arena)
		munmap(m->arena, m->arena_size);
	xb_vec_free(&m->dirty_policies);
	xb_vec_free(&m->stats_reset);
	xb_vec_free(&m->dirty_sas);
	xb_vec_free(&m->dirty_spis);
	xb_vec_free(&m->dirty_links);
	memset(m, 0, sizeof(*m));
}

/* ---- policies ---- */

/*
 * Free ids are a min-heap: the lowest one is handed out first, so that
 * policies added after deletes fill the holes of the xb_policies pages
 * (include/xfrmbpf/spd.h) before ids above them are taken.
 */
static void free_id_push(struct xb_mirror *m, __u32 id)
{
	__u32 i = m->n_free_ids++, parent;

	while (i > 0) {
		parent = (i - 1) / 2;
		if (m->free_ids[parent] <= id)
			break;
		m->free_ids[i] = m->free_ids[parent];
		i = parent;
	}
	m->free_ids[i] = id;
}

static __u32 free_id_pop(struct xb_mirror *m)
{
	__u32 lowest = m->free_ids[0], last = m->free_ids[--m->n_free_ids];
	__u32 i = 0, child;

	for (;;) {
		child = 2 * i + 1;
		if (child >= m->n_free_ids)
			break;
		if (child + 1 < m->n_free_ids && m->free_ids[child + 1] < m->free_ids[child])
			child++;
		if (last <= m->free_ids[child])
			break;
		m->free_ids[i] = m->free_ids[child];
		i = child;
	}
	if (m->n_free_ids)
		m->free_ids[i] = last;
	return lowest;
}

static int alloc_policy_id(struct xb_mirror *m, __u32 *id)
{
	if (m->n_free_ids) {
		*id = free_id_pop(m);
	} else if (m->next_id < m->max_policies) {
		*id = m->next_id++;
	} else {
		return -ENOSPC;
	}
	/* A reused slot still holds the old policy's counters. */
	return xb_vec_push(&m->stats_reset, id);
}

/*
 * Insertion order, the kernel's tie-break among equal priorities. Events
 * come oldest first; a dump (xfrm_policy_walk) lists the newest first.
 */
static __u32 new_pos(struct xb_mirror *m)
{
	if (m->dumping)
		return m->dump_top - ++m->dump_count;
	return ++m->next_pos;
}

/* Equal as the kernel sees them: the mirror's id and pos do not count. */
static bool policy_same(const struct xb_policy *pol, const struct xb_tmpl *tmpls,
			const struct xb_policy_event *pe)
{
	struct xb_policy a = *pol, b = pe->pol;

	a.id = b.id = 0;
	a.pos = b.pos = 0;
	if (memcmp(&a, &b, sizeof(a)))
		return false;
	return !a.n_tmpls || !memcmp(tmpls, pe->tmpls, a.n_tmpls * sizeof(*tmpls));
}

int xb_mirror_policy_get(const struct xb_mirror *m, __u32 id,
			 struct xb_policy *pol, struct xb_tmpl *tmpls)
{
	const struct xb_mirror_policy *mp = xb_mirror_policy_by_id(m, id);

	if (!mp)
		return -ENOENT;
	if (m->fulls[id]) {
		*pol = m->fulls[id]->pol;
		memcpy(tmpls, m->fulls[id]->tmpls, pol->n_tmpls * sizeof(*tmpls));
		return 0;
	}
	return m->store.load ? m->store.load(m->store.ctx, id, pol, tmpls) : -ENOENT;
}

static struct xb_mirror_full *full_alloc(struct xb_mirror *m,
					 const struct xb_policy_event *pe,
					 __u32 id, __u32 pos)
{
	size_t tsize = pe->pol.n_tmpls * sizeof(struct xb_tmpl);
	struct xb_mirror_full *f = full_mem(m, sizeof(*f) + tsize);

	if (!f)
		return NULL;
	f->pol = pe->pol;
	f->pol.id = id;
	f->pol.pos = pos;
	memcpy(f->tmpls, pe->tmpls, tsize);
	return f;
}

static void slot_set(struct xb_mirror *m, struct xb_mirror_policy *mp,
		     struct xb_mirror_full *f)
{
	full_set(m, xb_mirror_policy_id(m, mp), f);
	mp->type = f->pol.type;
	mp->seen = true;
}

static int policy_insert(struct xb_mirror *m, const struct xb_policy_event *pe)
{
	struct xb_mirror_policy *mp;
	struct xb_mirror_full *f;
	__u32 id;
	int err;

	err = alloc_policy_id(m, &id);
	if (err) {
		/* The caller (the daemon) says so, once, and fails open. */
		if (err == -ENOSPC)
			m->overflow = true;
		return err;
	}
	f = full_alloc(m, pe, id, new_pos(m));
	if (!f) {
		free_id_push(m, id);
		return -ENOMEM;
	}
	mp = &m->slots[id];
	memset(mp, 0, sizeof(*mp));
	mp->index = pe->pol.index;
	slot_set(m, mp, f);
	err = index_insert(m, id);
	if (err) {
		full_set(m, id, NULL);
		free_id_push(m, id);
		return err;
	}
	mp->used = true;
	return xb_vec_push(&m->dirty_policies, &id);
}

static int policy_update(struct xb_mirror *m, struct xb_mirror_policy *mp,
			 const struct xb_policy_event *pe)
{
	__u32 id = xb_mirror_policy_id(m, mp), pos;
	struct xb_tmpl tmpls[XB_MAX_TMPLS];
	struct xb_mirror_full *f;
	struct xb_policy old;
	bool readable;

	mp->seen = true;
	/* The mirror's copy, or the store's once it was dropped: an
	 * unreadable one differs. */
	readable = !xb_mirror_policy_get(m, id, &old, tmpls);
	if (readable && policy_same(&old, tmpls, pe))
		return 0;
	/* The kernel keeps a replaced policy's place among equals when the
	 * priority stays; a new priority (or an unknown old one) puts it
	 * behind its new equals. */
	pos = readable && pe->pol.priority == old.priority ? old.pos : new_pos(m);
	f = full_alloc(m, pe, id, pos);
	if (!f)
		return -ENOMEM;
	slot_set(m, mp, f);
	return xb_vec_push(&m->dirty_policies, &id);
}

static void policy_remove(struct xb_mirror *m, struct xb_mirror_policy *mp)
{
	__u32 id = xb_mirror_policy_id(m, mp);

	index_remove(m, id);
	full_set(m, id, NULL);
	mp->used = false;
	free_id_push(m, id);
	xb_vec_push(&m->dirty_policies, &id);
}

void xb_mirror_published(struct xb_mirror *m)
{
	size_t i;

	if (!m->store.load)
		return;
	for (i = 0; i < m->dirty_policies.n; i++) {
		__u32 id = *(__u32 *)xb_vec_at(&m->dirty_policies, i);

		if (xb_mirror_policy_by_id(m, id))
			full_set(m, id, NULL);
	}
}

struct xb_mirror_policy *xb_mirror_policy_find(const struct xb_mirror *m, __u32 index)
{
	__u32 id;

	for (id = *xb_idchain_head(&m->policies, index); id != XB_MIRROR_NO_ID;
	     id = m->slots[id].next)
		if (m->slots[id].index == index)
			return &m->slots[id];
	return NULL;
}

static int policy_upsert(struct xb_mirror *m, const struct xb_policy_event *pe)
{
	struct xb_mirror_policy *mp = xb_mirror_policy_find(m, pe->pol.index);

	return mp ? policy_update(m, mp, pe) : policy_insert(m, pe);
}

static int policy_delete(struct xb_mirror *m, const struct xb_policy_event *pe)
{
	struct xb_mirror_policy *mp = xb_mirror_policy_find(m, pe->pol.index);

	if (mp)
		policy_remove(m, mp);
	return 0;
}

static void policy_flush(struct xb_mirror *m, __u8 type)
{
	__u32 id;

	xb_mirror_for_each_policy(m, id)
		if (m->slots[id].type == type)
			policy_remove(m, &m->slots[id]);
}

struct xb_mirror_policy *xb_mirror_policy_by_id(const struct xb_mirror *m, __u32 id)
{
	return id < m->max_policies && m->slots[id].used ? &m->slots[id] : NULL;
}

__u32 xb_mirror_next_policy(const struct xb_mirror *m, __u32 id)
{
	while (id < m->next_id && !m->slots[id].used)
		id++;
	return id;
}

/* ---- SAs ---- */

struct xb_mirror_sa *xb_mirror_sa_find(const struct xb_mirror *m,
				       const struct xb_sa_key *key)
{
	struct xb_hnode *n = xb_htab_find(&m->sas, key);

	return n ? xb_container_of(n, struct xb_mirror_sa, node) : NULL;
}

struct xb_mirror_spi *xb_mirror_spi_find(const struct xb_mirror *m,
					 const struct xb_spi_key *key)
{
	struct xb_hnode *n = xb_htab_find(&m->spis, key);

	return n ? xb_container_of(n, struct xb_mirror_spi, node) : NULL;
}

/* pcpu: the SA's XFRMA_SA_PCPU (XB_NO_CPU: none), for a new key. */
static int spi_ref(struct xb_mirror *m, const struct xb_spi_key *key, int delta,
		   __u32 pcpu)
{
	struct xb_mirror_spi *s = xb_mirror_spi_find(m, key);

	if (!s) {
		if (delta < 0)
			return 0;
		s = calloc(1, sizeof(*s));
		if (!s)
			return -ENOMEM;
		s->key = *key;
		s->cpu = XB_NO_CPU;
		if (xb_htab_insert(&m->spis, &s->node)) {
			free(s);
			return -ENOMEM;
		}
		if (m->spread)
			s->cpu = xb_spread_take(m->spread, key, pcpu);
	}
	s->n_sas += delta;
	if (!s->n_sas) {
		if (m->spread && s->cpu != XB_NO_CPU)
			xb_spread_release(m->spread, key, s->cpu, false);
		xb_htab_remove(&m->spis, &s->node);
		free(s);
	}
	return xb_vec_push(&m->dirty_spis, key);
}

/* A per-CPU SA's CPU changed (an update of the SA): its key follows it
 * when that CPU is listed. */
static int spi_repin(struct xb_mirror *m, const struct xb_spi_key *key, __u32 pcpu)
{
	struct xb_mirror_spi *s = xb_mirror_spi_find(m, key);

	if (!m->spread || !s || pcpu == XB_NO_CPU || s->cpu == pcpu ||
	    !xb_spread_listed(m->spread, pcpu))
		return 0;
	if (s->cpu != XB_NO_CPU)
		xb_spread_release(m->spread, key, s->cpu, false);
	s->cpu = xb_spread_take(m->spread, key, pcpu);
	return xb_vec_push(&m->dirty_spis, key);
}

static int sa_upsert(struct xb_mirror *m, const struct xb_sa_event *se)
{
	struct xb_mirror_sa *ms = xb_mirror_sa_find(m, &se->key);
	int err;

	if (ms) {
		ms->seen = true;
		if (!memcmp(&ms->sa, &se->sa, sizeof(ms->sa)))
			return 0;
		err = 0;
		if (ms->sa.pcpu_num != se->sa.pcpu_num)
			err = spi_repin(m, &se->key.spi, se->sa.pcpu_num);
		ms->sa = se->sa;
		return err ? err : xb_vec_push(&m->dirty_sas, &se->key);
	}
	ms = calloc(1, sizeof(*ms));
	if (!ms)
		return -ENOMEM;
	ms->key = se->key;
	ms->sa = se->sa;
	ms->seen = true;
	err = xb_htab_insert(&m->sas, &ms->node);
	if (err) {
		free(ms);
		return err;
	}
	err = spi_ref(m, &ms->key.spi, 1, ms->sa.pcpu_num);
	return err ? err : xb_vec_push(&m->dirty_sas, &se->key);
}

static void sa_remove(struct xb_mirror *m, struct xb_mirror_sa *ms)
{
	xb_htab_remove(&m->sas, &ms->node);
	spi_ref(m, &ms->key.spi, -1, XB_NO_CPU);
	xb_vec_push(&m->dirty_sas, &ms->key);
	free(ms);
}

static void sa_delete(struct xb_mirror *m, const struct xb_sa_event *se)
{
	struct xb_mirror_sa *ms = xb_mirror_sa_find(m, &se->key);

	if (ms)
		sa_remove(m, ms);
}

/* As the kernel's xfrm_id_proto_match(): 0 flushes every SA,
 * IPSEC_PROTO_ANY the IPsec ones. */
static bool sa_flush_matches(__u8 sa_proto, __u8 flush_proto)
{
	if (!flush_proto || sa_proto == flush_proto)
		return true;
	return flush_proto == IPSEC_PROTO_ANY &&
	       (sa_proto == IPPROTO_AH || sa_proto == IPPROTO_ESP ||
		sa_proto == IPPROTO_COMP);
}

static void sa_flush(struct xb_mirror *m, __u8 proto)
{
	struct xb_hnode *n, *tmp;
	size_t i;

	xb_htab_for_each(&m->sas, n, tmp, i) {
		struct xb_mirror_sa *ms = xb_container_of(n, struct xb_mirror_sa, node);

		if (sa_flush_matches(ms->key.spi.proto, proto))
			sa_remove(m, ms);
	}
}

/* ---- XFRM interfaces ---- */

__u32 xb_link_key(const struct xb_xfrm_link *link)
{
	return link->collect_md ? 0 : link->if_id;
}

struct xb_mirror_link *xb_mirror_link_by_key(const struct xb_mirror *m, __u32 link_key)
{
	struct xb_hnode *n, *tmp;
	size_t i;

	/* A handful of interfaces: a scan is simpler than a second index. */
	xb_htab_for_each(&m->links, n, tmp, i) {
		struct xb_mirror_link *ml = xb_container_of(n, struct xb_mirror_link, node);

		if (xb_link_key(&ml->link) == link_key)
			return ml;
	}
	return NULL;
}

static struct xb_mirror_link *link_find(const struct xb_mirror *m, __u32 ifindex)
{
	struct xb_hnode *n = xb_htab_find(&m->links, &ifindex);

	return n ? xb_container_of(n, struct xb_mirror_link, node) : NULL;
}

static int link_upsert(struct xb_mirror *m, const struct xb_xfrm_link *link)
{
	struct xb_mirror_link *ml = link_find(m, link->ifindex);
	__u32 key;
	int err;

	if (!ml) {
		ml = calloc(1, sizeof(*ml));
		if (!ml)
			return -ENOMEM;
		ml->ifindex = link->ifindex;
		err = xb_htab_insert(&m->links, &ml->node);
		if (err) {
			free(ml);
			return err;
		}
	} else if (!memcmp(&ml->link, link, sizeof(*link))) {
		ml->seen = true;
		return 0;
	} else {
		key = xb_link_key(&ml->link);
		xb_vec_push(&m->dirty_links, &key);
	}
	ml->link = *link;
	ml->seen = true;
	key = xb_link_key(link);
	return xb_vec_push(&m->dirty_links, &key);
}

static void link_remove(struct xb_mirror *m, struct xb_mirror_link *ml)
{
	__u32 key = xb_link_key(&ml->link);

	xb_htab_remove(&m->links, &ml->node);
	xb_vec_push(&m->dirty_links, &key);
	free(ml);
}

static void link_delete(struct xb_mirror *m, __u32 ifindex)
{
	struct xb_mirror_link *ml = link_find(m, ifindex);

	if (ml)
		link_remove(m, ml);
}

/* ---- events ---- */

static void set_defaults(struct xb_mirror *m, const __u8 *actions)
{
	if (memcmp(m->default_action, actions, sizeof(m->default_action))) {
		memcpy(m->default_action, actions, sizeof(m->default_action));
		m->defaults_dirty = true;
	}
}

int xb_mirror_apply(struct xb_mirror *m, const struct xb_event *ev)
{
	switch (ev->kind) {
	case XB_EV_POLICY_UPSERT:
		return policy_upsert(m, &ev->policy);
	case XB_EV_POLICY_DEL:
		return policy_delete(m, &ev->policy);
	case XB_EV_SA_UPSERT:
		return sa_upsert(m, &ev->sa);
	case XB_EV_LINK_UPSERT:
		return link_upsert(m, &ev->link);
	/* The rest only remove or overwrite what the mirror holds: they
	 * cannot fail. */
	case XB_EV_POLICY_FLUSH:
		policy_flush(m, ev->flush_policy_type);
		return 0;
	case XB_EV_SA_DEL:
		sa_delete(m, &ev->sa);
		return 0;
	case XB_EV_SA_FLUSH:
		sa_flush(m, ev->flush_sa_proto);
		return 0;
	case XB_EV_DEFAULTS:
		set_defaults(m, ev->default_action);
		return 0;
	case XB_EV_LINK_DEL:
		link_delete(m, ev->link.ifindex);
		return 0;
	case XB_EV_IGNORED:
		return 0;
	}
	return -EINVAL;
}

void xb_mirror_mark_unseen(struct xb_mirror *m)
{
	struct xb_hnode *n, *tmp;
	size_t i;
	__u32 id;

	m->dumping = true;
	m->dump_top = m->next_pos + m->max_policies + 1;
	m->dump_count = 0;
	/* A re-dump tells anew whether the kernel's SPD fits. */
	m->overflow = false;

	for (id = 0; id < m->next_id; id++)
		m->slots[id].seen = false;
	xb_htab_for_each(&m->sas, n, tmp, i)
		xb_container_of(n, struct xb_mirror_sa, node)->seen = false;
	xb_htab_for_each(&m->links, n, tmp, i)
		xb_container_of(n, struct xb_mirror_link, node)->seen = false;
}

void xb_mirror_sweep_unseen(struct xb_mirror *m)
{
	struct xb_hnode *n, *tmp;
	size_t i;
	__u32 id;

	xb_mirror_for_each_policy(m, id)
		if (!m->slots[id].seen)
			policy_remove(m, &m->slots[id]);
	xb_htab_for_each(&m->sas, n, tmp, i) {
		struct xb_mirror_sa *ms = xb_container_of(n, struct xb_mirror_sa, node);

		if (!ms->seen)
			sa_remove(m, ms);
	}
	xb_htab_for_each(&m->links, n, tmp, i) {
		struct xb_mirror_link *ml = xb_container_of(n, struct xb_mirror_link, node);

		if (!ml->seen)
			link_remove(m, ml);
	}
	if (m->dumping)
		m->next_pos = m->dump_top;
	m->dumping = false;
}

bool xb_mirror_has_changes(const struct xb_mirror *m)
{
	return m->dirty_policies.n || m->stats_reset.n || m->dirty_sas.n ||
	       m->dirty_spis.n || m->dirty_links.n || m->defaults_dirty;
}

void xb_mirror_clear_changes(struct xb_mirror *m)
{
	xb_vec_clear(&m->dirty_policies);
	xb_vec_clear(&m->stats_reset);
	xb_vec_clear(&m->dirty_sas);
	xb_vec_clear(&m->dirty_spis);
	xb_vec_clear(&m->dirty_links);
	m->defaults_dirty = false;
}
