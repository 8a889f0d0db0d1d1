/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* A growable array of fixed-size elements (the mirror's change lists). */
#ifndef XFRMBPF_VEC_H
#define XFRMBPF_VEC_H

#include <stddef.h>

struct xb_vec {
	void *data;
	size_t n;
	size_t cap;
	size_t elem;
};

#define XB_VEC_INIT(type) { .elem = sizeof(type) }

int xb_vec_push(struct xb_vec *v, const void *elem);
void xb_vec_clear(struct xb_vec *v);
void xb_vec_free(struct xb_vec *v);

static inline void *xb_vec_at(const struct xb_vec *v, size_t i)
{
	return (char *)v->data + i * v->elem;
}

#endif
