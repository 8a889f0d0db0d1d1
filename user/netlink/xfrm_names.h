/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* Names of XFRM constants and addresses as `ip xfrm` prints them. */
#ifndef XFRMBPF_XFRM_NAMES_H
#define XFRMBPF_XFRM_NAMES_H

#include <stddef.h>
#include "xfrmbpf/spd.h"

#define XB_ADDR_STRLEN 48	/* an IPv6 address, '/', a prefix length */

const char *xb_dir_name(unsigned int dir);
const char *xb_ptype_name(unsigned int type);
const char *xb_action_name(unsigned int action);
const char *xb_mode_name(unsigned int mode);
const char *xb_family_name(unsigned int family);
const char *xb_default_name(unsigned int action);
/* Formats addr (network order) of family; with prefixlen >= 0 as "a/p". */
char *xb_addr_str(char *buf, size_t len, unsigned int family,
		  const union xb_addr *addr, int prefixlen);

#endif
