// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <bpf/bpf.h>
#include "mirror/spread.h"

/* A destination address and its keys per listed CPU. */
struct spread_dest_key {
	union xb_addr daddr;
	__u16 family;
	__u16 pad;
};

struct spread_dest {
	struct xb_hnode node;
	struct spread_dest_key key;
	__u32 keys;		/* in all: the entry goes with the last */
	__u32 load[];		/* by listed position */
};

struct spread_hint {
	struct xb_hnode node;
	struct xb_spi_key key;
	__u32 cpu;
};

int xb_spread_init(struct xb_spread *s, const struct xb_cpu_list *cpus)
{
	memset(s, 0, sizeof(*s));
	if (!cpus->n || cpus->n > XB_MAX_SPREAD_CPUS)
		return -EINVAL;
	s->n = cpus->n;
	memcpy(s->cpus, cpus->cpus, cpus->n * sizeof(cpus->cpus[0]));
	if (xb_htab_init(&s->dests, offsetof(struct spread_dest, key),
			 sizeof(struct spread_dest_key)) ||
	    xb_htab_init(&s->hints, offsetof(struct spread_hint, key),
			 sizeof(struct xb_spi_key))) {
		xb_spread_fini(s);
		return -ENOMEM;
	}
	return 0;
}

void xb_spread_fini(struct xb_spread *s)
{
	xb_htab_free_all(&s->dests, offsetof(struct spread_dest, node));
	xb_htab_free_all(&s->hints, offsetof(struct spread_hint, node));
	memset(s, 0, sizeof(*s));
}

/* Position of cpu in the list, or -1. */
static int listed_pos(const struct xb_spread *s, __u32 cpu)
{
	__u32 lo = 0, hi = s->n;

	while (lo < hi) {
		__u32 mid = lo + (hi - lo) / 2;

		if (s->cpus[mid] == cpu)
			return (int)mid;
		if (s->cpus[mid] < cpu)
			lo = mid + 1;
		else
			hi = mid;
	}
	return -1;
}

bool xb_spread_listed(const struct xb_spread *s, __u32 cpu)
{
	return listed_pos(s, cpu) >= 0;
}

static void dest_key(struct spread_dest_key *dk, const struct xb_spi_key *key)
{
	memset(dk, 0, sizeof(*dk));
	dk->daddr = key->daddr;
	dk->family = key->family;
}

static struct spread_dest *dest_find(const struct xb_spread *s, const struct xb_spi_key *key)
{
	struct spread_dest_key dk;
	struct xb_hnode *n;

	dest_key(&dk, key);
	n = xb_htab_find(&s->dests, &dk);
	return n ? xb_container_of(n, struct spread_dest, node) : NULL;
}

static struct spread_dest *dest_get(struct xb_spread *s, const struct xb_spi_key *key)
{
	struct spread_dest *d = dest_find(s, key);

	if (d)
		return d;
	d = calloc(1, sizeof(*d) + s->n * sizeof(d->load[0]));
	if (!d)
		return NULL;
	dest_key(&d->key, key);
	if (xb_htab_insert(&s->dests, &d->node)) {
		free(d);
		return NULL;
	}
	return d;
}

static struct spread_hint *hint_find(const struct xb_spread *s, const struct xb_spi_key *key)
{
	struct xb_hnode *n;

	if (!s->hints.buckets)
		return NULL;
	n = xb_htab_find(&s->hints, key);

	return n ? xb_container_of(n, struct spread_hint, node) : NULL;
}

/* The least loaded position for d: fewest keys of the destination, then
 * fewest in all, first from the round-robin cursor among equals. */
static __u32 least_loaded(struct xb_spread *s, const struct spread_dest *d)
{
	__u32 best = s->next % s->n, i;

	for (i = 1; i < s->n; i++) {
		__u32 p = (s->next + i) % s->n;

		if (d->load[p] < d->load[best] ||
		    (d->load[p] == d->load[best] && s->load[p] < s->load[best]))
			best = p;
	}
	s->next = best + 1;
	return best;
}

__u32 xb_spread_take(struct xb_spread *s, const struct xb_spi_key *key, __u32 pcpu)
{
	struct spread_dest *d = dest_get(s, key);
	struct spread_hint *h = hint_find(s, key);
	int pos = pcpu != XB_NO_CPU ? listed_pos(s, pcpu) : -1;

	if (pos < 0 && h)
		pos = listed_pos(s, h->cpu);
	if (h) {
		xb_htab_remove(&s->hints, &h->node);
		free(h);
	}
	if (!d)
		return XB_NO_CPU;
	if (pos < 0)
		pos = (int)least_loaded(s, d);
	d->load[pos]++;
	d->keys++;
	s->load[pos]++;
	return s->cpus[pos];
}

void xb_spread_release(struct xb_spread *s, const struct xb_spi_key *key, __u32 cpu,
		       bool remember)
{
	struct spread_dest *d = dest_find(s, key);
	int pos = listed_pos(s, cpu);

	if (pos < 0)
		return;
	if (remember)
		xb_spread_hint(s, key, cpu);
	if (s->load[pos])
		s->load[pos]--;
	if (!d)
		return;
	if (d->load[pos])
		d->load[pos]--;
	if (d->keys && !--d->keys) {
		xb_htab_remove(&s->dests, &d->node);
		free(d);
	}
}

int xb_spread_hint(struct xb_spread *s, const struct xb_spi_key *key, __u32 cpu)
{
	struct spread_hint *h = hint_find(s, key);

	if (!s->hints.buckets)
		return -ENOMEM;
	if (!h) {
		h = calloc(1, sizeof(*h));
		if (!h)
			return -ENOMEM;
		h->key = *key;
		if (xb_htab_insert(&s->hints, &h->node)) {
			free(h);
			return -ENOMEM;
		}
	}
	h->cpu = cpu;
	return 0;
}

void xb_spread_forget_hints(struct xb_spread *s)
{
	xb_htab_free_all(&s->hints, offsetof(struct spread_hint, node));
	xb_htab_init(&s->hints, offsetof(struct spread_hint, key), sizeof(struct xb_spi_key));
}

int xb_spread_hints_read(struct xb_spread *s, const struct xb_maps *maps)
{
	int fd = maps->fd[XB_MAP_SPIS], err;
	struct xb_spi_key key, next;
	struct xb_spi_val val;
	void *prev = NULL;

	while (!bpf_map_get_next_key(fd, prev, &next)) {
		key = next;
		prev = &key;
		if (bpf_map_lookup_elem(fd, &key, &val) || val.cpu == XB_NO_CPU ||
		    !xb_spread_listed(s, val.cpu))
			continue;
		err = xb_spread_hint(s, &key, val.cpu);
		if (err)
			return err;
	}
	return 0;
}
