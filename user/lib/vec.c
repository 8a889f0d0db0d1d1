// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include "lib/vec.h"

int xb_vec_push(struct xb_vec *v, const void *elem)
{
	if (v->n == v->cap) {
		size_t cap = v->cap ? v->cap * 2 : 16;
		void *d = realloc(v->data, cap * v->elem);

		if (!d)
			return -ENOMEM;
		v->data = d;
		v->cap = cap;
	}
	memcpy(xb_vec_at(v, v->n), elem, v->elem);
	v->n++;
	return 0;
}

/* Keeps a small buffer for the next changes; gives back the large one a
 * full dump needed (100k policies: hundreds of kB per list). */
#define XB_VEC_KEEP_BYTES	65536

void xb_vec_clear(struct xb_vec *v)
{
	v->n = 0;
	if (v->cap * v->elem > XB_VEC_KEEP_BYTES)
		xb_vec_free(v);
}

void xb_vec_free(struct xb_vec *v)
{
	free(v->data);
	v->data = NULL;
	v->n = v->cap = 0;
}
