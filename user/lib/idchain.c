// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* Chains of u32 indices over elements in an array (idchain.h). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include "lib/idchain.h"

static __u32 *heads_new(__u32 bits)
{
	size_t bytes = sizeof(__u32) << bits;
	__u32 *heads = malloc(bytes);

	if (heads)
		memset(heads, 0xff, bytes);	/* XB_IDCHAIN_END */
	return heads;
}

int xb_idchain_init(struct xb_idchain *c, __u32 bits)
{
	c->heads = heads_new(bits);
	c->bits = bits;
	c->count = 0;
	return c->heads ? 0 : -ENOMEM;
}

void xb_idchain_fini(struct xb_idchain *c)
{
	free(c->heads);
	c->heads = NULL;
}

static void link_at(__u32 *head, const struct xb_idchain_elems *e, __u32 idx)
{
	*e->link(e->ctx, idx) = *head;
	*head = idx;
}

int xb_idchain_grow(struct xb_idchain *c, const struct xb_idchain_elems *e)
{
	__u32 *old = c->heads, *heads, n_old = 1U << c->bits, i, idx, next;

	if (c->count < 2UL << c->bits)
		return 0;
	heads = heads_new(c->bits + 1);
	if (!heads)
		return -ENOMEM;
	c->heads = heads;
	c->bits++;
	for (i = 0; i < n_old; i++)
		for (idx = old[i]; idx != XB_IDCHAIN_END; idx = next) {
			next = *e->link(e->ctx, idx);
			link_at(xb_idchain_head(c, e->hash(e->ctx, idx)), e, idx);
		}
	free(old);
	return 0;
}

void xb_idchain_link(struct xb_idchain *c, const struct xb_idchain_elems *e, __u32 idx)
{
	link_at(xb_idchain_head(c, e->hash(e->ctx, idx)), e, idx);
	c->count++;
}

void xb_idchain_unlink(struct xb_idchain *c, const struct xb_idchain_elems *e, __u32 idx)
{
	__u32 *at = xb_idchain_head(c, e->hash(e->ctx, idx));

	while (*at != XB_IDCHAIN_END && *at != idx)
		at = e->link(e->ctx, *at);
	if (*at == idx) {
		*at = *e->link(e->ctx, idx);
		c->count--;
	}
}
