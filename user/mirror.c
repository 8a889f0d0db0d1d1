// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <linux/in.h>
#include <linux/ipsec.h>
#include <linux/xfrm.h>
#include "log.h"
#include "mirror.h"
#include "tss.h"

int xb_mirror_init(struct xb_mirror *m, bool with_classifier)
{
	memset(m, 0, sizeof(*m));
	m->dirty_policies = (struct xb_vec)XB_VEC_INIT(__u32);
	m->stats_reset = (struct xb_vec)XB_VEC_INIT(__u32);
	m->dirty_sas = (struct xb_vec)XB_VEC_INIT(struct xb_sa_key);
	m->dirty_spis = (struct xb_vec)XB_VEC_INIT(struct xb_spi_key);
	m->dirty_links = (struct xb_vec)XB_VEC_INIT(__u32);
	if (xb_htab_init(&m->policies, offsetof(struct xb_mirror_policy, index),
			 sizeof(__u32)) ||
	    xb_htab_init(&m->sas, offsetof(struct xb_mirror_sa, key),
			 sizeof(struct xb_sa_key)) ||
	    xb_htab_init(&m->spis, offsetof(struct xb_mirror_spi, key),
			 sizeof(struct xb_spi_key)) ||
	    xb_htab_init(&m->links, offsetof(struct xb_mirror_link, ifindex),
			 sizeof(__u32)))
		goto err;
	m->by_id = calloc(XB_MAX_POLICIES, sizeof(*m->by_id));
	m->free_ids = calloc(XB_MAX_POLICIES, sizeof(*m->free_ids));
	if (!m->by_id || !m->free_ids)
		goto err;
	if (with_classifier) {
		m->tss = xb_tss_new();
		if (!m->tss)
			goto err;
	}
	return 0;
err:
	xb_mirror_fini(m);
	return -ENOMEM;
}

static void free_table(struct xb_htab *h, size_t node_off, bool policies)
{
	struct xb_hnode *n, *tmp;
	size_t i;

	if (!h->buckets)
		return;
	xb_htab_for_each(h, n, tmp, i) {
		void *obj = (char *)n - node_off;

		if (policies)
			free(((struct xb_mirror_policy *)obj)->tmpls);
		free(obj);
	}
	xb_htab_fini(h);
}

void xb_mirror_fini(struct xb_mirror *m)
{
	free_table(&m->policies, offsetof(struct xb_mirror_policy, node), true);
	free_table(&m->sas, offsetof(struct xb_mirror_sa, node), false);
	free_table(&m->spis, offsetof(struct xb_mirror_spi, node), false);
	free_table(&m->links, offsetof(struct xb_mirror_link, node), false);
	free(m->by_id);
	free(m->free_ids);
	xb_vec_free(&m->dirty_policies);
	xb_vec_free(&m->stats_reset);
	xb_vec_free(&m->dirty_sas);
	xb_vec_free(&m->dirty_spis);
	xb_vec_free(&m->dirty_links);
	if (m->tss)
		xb_tss_free(m->tss);
	memset(m, 0, sizeof(*m));
}

/* ---- policies ---- */

static int alloc_policy_id(struct xb_mirror *m, __u32 *id)
{
	if (m->n_free_ids) {
		*id = m->free_ids[--m->n_free_ids];
	} else if (m->next_id < XB_MAX_POLICIES) {
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

static void tss_add(struct xb_mirror *m, const struct xb_policy *pol)
{
	if (m->tss && xb_tss_add(m->tss, pol))
		pr_warn("Couldn't add policy index %u to the classifier\n", pol->index);
	m->tss_dirty = true;
}

static void tss_del(struct xb_mirror *m, __u32 id)
{
	if (m->tss)
		xb_tss_del(m->tss, id);
	m->tss_dirty = true;
}

/* Equal as the kernel sees them: the mirror's id and pos do not count. */
static bool policy_same(const struct xb_mirror_policy *mp,
			const struct xb_policy_event *pe)
{
	struct xb_policy a = mp->pol, b = pe->pol;

	a.id = b.id = 0;
	a.pos = b.pos = 0;
	if (memcmp(&a, &b, sizeof(a)))
		return false;
	return !a.n_tmpls || !memcmp(mp->tmpls, pe->tmpls, a.n_tmpls * sizeof(*mp->tmpls));
}

static int set_tmpls(struct xb_mirror_policy *mp, const struct xb_policy_event *pe)
{
	struct xb_tmpl *t = NULL;

	if (pe->pol.n_tmpls) {
		t = malloc(pe->pol.n_tmpls * sizeof(*t));
		if (!t)
			return -ENOMEM;
		memcpy(t, pe->tmpls, pe->pol.n_tmpls * sizeof(*t));
	}
	free(mp->tmpls);
	mp->tmpls = t;
	return 0;
}

static int policy_insert(struct xb_mirror *m, const struct xb_policy_event *pe)
{
	struct xb_mirror_policy *mp = calloc(1, sizeof(*mp));
	__u32 id;
	int err;

	if (!mp)
		return -ENOMEM;
	err = alloc_policy_id(m, &id);
	if (err) {
		free(mp);
		if (err == -ENOSPC && !m->overflow) {
			pr_warn("More than %u policies: the mirror is incomplete\n",
				XB_MAX_POLICIES);
			m->overflow = true;
		}
		return err;
	}
	mp->pol = pe->pol;
	mp->pol.id = id;
	mp->pol.pos = new_pos(m);
	mp->index = pe->pol.index;
	mp->seen = true;
	err = set_tmpls(mp, pe);
	if (!err)
		err = xb_htab_insert(&m->policies, &mp->node);
	if (err) {
		free(mp->tmpls);
		free(mp);
		m->free_ids[m->n_free_ids++] = id;
		return err;
	}
	m->by_id[id] = mp;
	tss_add(m, &mp->pol);
	return xb_vec_push(&m->dirty_policies, &id);
}

static int policy_update(struct xb_mirror *m, struct xb_mirror_policy *mp,
			 const struct xb_policy_event *pe)
{
	__u32 id = mp->pol.id, pos = mp->pol.pos;
	int err;

	mp->seen = true;
	if (policy_same(mp, pe))
		return 0;
	/* The kernel keeps a replaced policy's place among equals when the
	 * priority stays; a new priority puts it behind its new equals. */
	if (pe->pol.priority != mp->pol.priority)
		pos = new_pos(m);
	err = set_tmpls(mp, pe);
	if (err)
		return err;
	tss_del(m, id);
	mp->pol = pe->pol;
	mp->pol.id = id;
	mp->pol.pos = pos;
	tss_add(m, &mp->pol);
	return xb_vec_push(&m->dirty_policies, &id);
}

static void policy_remove(struct xb_mirror *m, struct xb_mirror_policy *mp)
{
	__u32 id = mp->pol.id;

	tss_del(m, id);
	xb_htab_remove(&m->policies, &mp->node);
	m->by_id[id] = NULL;
	m->free_ids[m->n_free_ids++] = id;
	xb_vec_push(&m->dirty_policies, &id);
	free(mp->tmpls);
	free(mp);
}

static struct xb_mirror_policy *policy_find(const struct xb_mirror *m, __u32 index)
{
	struct xb_hnode *n = xb_htab_find(&m->policies, &index);

	return n ? xb_container_of(n, struct xb_mirror_policy, node) : NULL;
}

static int policy_upsert(struct xb_mirror *m, const struct xb_policy_event *pe)
{
	struct xb_mirror_policy *mp = policy_find(m, pe->pol.index);

	return mp ? policy_update(m, mp, pe) : policy_insert(m, pe);
}

static int policy_delete(struct xb_mirror *m, const struct xb_policy_event *pe)
{
	struct xb_mirror_policy *mp = policy_find(m, pe->pol.index);

	if (mp)
		policy_remove(m, mp);
	return 0;
}

static void policy_flush(struct xb_mirror *m, __u8 type)
{
	struct xb_hnode *n, *tmp;
	size_t i;

	xb_htab_for_each(&m->policies, n, tmp, i) {
		struct xb_mirror_policy *mp =
			xb_container_of(n, struct xb_mirror_policy, node);

		if (mp->pol.type == type)
			policy_remove(m, mp);
	}
}

struct xb_mirror_policy *xb_mirror_policy_by_id(const struct xb_mirror *m, __u32 id)
{
	return id < XB_MAX_POLICIES ? m->by_id[id] : NULL;
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

static int spi_ref(struct xb_mirror *m, const struct xb_spi_key *key, int delta)
{
	struct xb_mirror_spi *s = xb_mirror_spi_find(m, key);

	if (!s) {
		if (delta < 0)
			return 0;
		s = calloc(1, sizeof(*s));
		if (!s)
			return -ENOMEM;
		s->key = *key;
		if (xb_htab_insert(&m->spis, &s->node)) {
			free(s);
			return -ENOMEM;
		}
	}
	s->n_sas += delta;
	if (!s->n_sas) {
		xb_htab_remove(&m->spis, &s->node);
		free(s);
	}
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
		ms->sa = se->sa;
		return xb_vec_push(&m->dirty_sas, &se->key);
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
	err = spi_ref(m, &ms->key.spi, 1);
	return err ? err : xb_vec_push(&m->dirty_sas, &se->key);
}

static void sa_remove(struct xb_mirror *m, struct xb_mirror_sa *ms)
{
	xb_htab_remove(&m->sas, &ms->node);
	spi_ref(m, &ms->key.spi, -1);
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
	case XB_EV_POLICY_FLUSH:
		policy_flush(m, ev->flush_policy_type);
		return 0;
	case XB_EV_SA_UPSERT:
		return sa_upsert(m, &ev->sa);
	case XB_EV_SA_DEL:
		sa_delete(m, &ev->sa);
		return 0;
	case XB_EV_SA_FLUSH:
		sa_flush(m, ev->flush_sa_proto);
		return 0;
	case XB_EV_DEFAULTS:
		set_defaults(m, ev->default_action);
		return 0;
	case XB_EV_LINK_UPSERT:
		return link_upsert(m, &ev->link);
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

	m->dumping = true;
	m->dump_top = m->next_pos + XB_MAX_POLICIES + 1;
	m->dump_count = 0;

	xb_htab_for_each(&m->policies, n, tmp, i)
		xb_container_of(n, struct xb_mirror_policy, node)->seen = false;
	xb_htab_for_each(&m->sas, n, tmp, i)
		xb_container_of(n, struct xb_mirror_sa, node)->seen = false;
	xb_htab_for_each(&m->links, n, tmp, i)
		xb_container_of(n, struct xb_mirror_link, node)->seen = false;
}

void xb_mirror_sweep_unseen(struct xb_mirror *m)
{
	struct xb_hnode *n, *tmp;
	size_t i;

	xb_htab_for_each(&m->policies, n, tmp, i) {
		struct xb_mirror_policy *mp = xb_container_of(n, struct xb_mirror_policy, node);

		if (!mp->seen)
			policy_remove(m, mp);
	}
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
	       m->dirty_spis.n || m->dirty_links.n || m->defaults_dirty ||
	       m->tss_dirty;
}

void xb_mirror_clear_changes(struct xb_mirror *m)
{
	xb_vec_clear(&m->dirty_policies);
	xb_vec_clear(&m->stats_reset);
	xb_vec_clear(&m->dirty_sas);
	xb_vec_clear(&m->dirty_spis);
	xb_vec_clear(&m->dirty_links);
	m->defaults_dirty = false;
	m->tss_dirty = false;
}
