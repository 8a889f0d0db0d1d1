// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * `xfrmbpf unload IFACE | --all`: remove what a daemon that died without
 * detaching (kill -9, crash) left behind. A running daemon is not touched:
 * stop it instead (SIGTERM detaches). Only programs that are ours by name
 * (and, while the pins exist, by the maps they use) are removed.
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <net/if.h>
#include <bpf/bpf.h>
#include <jansson.h>
#include "loader/bpffs.h"
#include "loader/attach.h"
#include "cli/cli.h"
#include "lib/log.h"
#include "loader/maps.h"

struct unload_ctx {
	struct xb_maps maps;
	bool have_maps;
	json_t *done;		/* per interface: what was removed */
	int err;
};

static void report(struct unload_ctx *c, const struct xb_global *g, const char *name,
		   const struct xb_unload_result *r)
{
	if (g->json) {
		json_array_append_new(c->done, json_pack("{s:s, s:b, s:b, s:b}", "interface", name,
							 "xdp", r->xdp, "tc", r->tc,
							 "clsact", r->clsact));
		return;
	}
	if (r->xdp || r->tc || r->clsact)
		printf("%s:%s%s%s\n", name, r->xdp ? " xdp" : "", r->tc ? " tc" : "",
		       r->clsact ? " clsact" : "");
}

static int unload_one(struct unload_ctx *c, const struct xb_global *g, int ifindex,
		      const char *name)
{
	struct xb_unload_result r;
	int err;

	err = xb_dp_unload_iface(ifindex, c->have_maps ? &c->maps : NULL, &r);
	report(c, g, name, &r);
	if (err) {
		pr_warn("Couldn't unload everything from %s: %s\n", name, strerror(-err));
		c->err = err;
	}
	return err;
}

/* Every interface of this namespace: the programs may outlive xb_ifaces. */
static void unload_all_ifaces(struct unload_ctx *c, const struct xb_global *g)
{
	struct if_nameindex *ifs = if_nameindex(), *i;
	__u32 key, next;

	for (i = ifs; i && i->if_index; i++)
		unload_one(c, g, i->if_index, i->if_name);
	if (ifs)
		if_freenameindex(ifs);
	/* Entries of interfaces that are gone. */
	if (!c->have_maps)
		return;
	while (!bpf_map_get_next_key(c->maps.fd[XB_MAP_IFACES], NULL, &next)) {
		key = next;
		if (bpf_map_delete_elem(c->maps.fd[XB_MAP_IFACES], &key))
			break;
	}
}

/* Only what is ours: the names we pin, each checked to be our object;
 * anything else in the directory stays, and so does the directory. */
static int remove_pins(const struct xb_global *g)
{
	int kept, err = xb_pin_dir_remove_ours(g->pin_dir, &kept);

	if (err)
		return xb_error(g, XB_EXIT_FAIL, "couldn't remove the pins under %s: %s",
				g->pin_dir, strerror(-err));
	if (!access(g->pin_dir, F_OK))
		pr_warn("%s still holds files that are not ours: left in place\n", g->pin_dir);
	return XB_EXIT_OK;
}

struct unload_opts {
	bool all;
};

static int cmd_unload(void *opts, int argc, char **argv, struct xb_global *g)
{
	bool all = ((struct unload_opts *)opts)->all;
	const char *ifname = argc ? argv[0] : NULL;
	struct unload_ctx c = {};
	int ret, err, lock_fd, ifindex = 0;
	char why[1024];

	if (all == !!ifname)
		return xb_usage_error(g, "unload", "give one interface or --all");
	if (!xb_have_privileges(g))
		return XB_EXIT_ENV;
	if (ifname) {
		ifindex = if_nametoindex(ifname);
		if (!ifindex)
			return xb_error(g, XB_EXIT_USAGE, "no interface '%s'", ifname);
	}
	/* A pin dir another user may have made or swapped: its pins say
	 * nothing about what is ours, and removing them is not our call.
	 * Not on a bpffs: no pins, our programs are still found by name. */
	err = xb_pin_dir_where(g->pin_dir, false, why, sizeof(why));
	if (err && err != -ENOENT)
		return xb_error(g, XB_EXIT_ENV, "%s", why);
	/* No pin dir (already removed): nothing can hold it, go on. */
	lock_fd = xb_pin_dir_lock(g->pin_dir);
	if (lock_fd == -EBUSY)
		return xb_error(g, XB_EXIT_ENV, "a daemon is running on %s: stop it (SIGTERM "
				"detaches) instead of unloading", g->pin_dir);
	xb_libxdp_use_bpffs(g->pin_dir);
	/* Pins of another ABI are not read: our programs are then found by
	 * their names alone. */
	err = xb_maps_open(&c.maps, g->pin_dir, false);
	c.have_maps = !err;
	if (err == -EPROTO && xb_abi_check(g->pin_dir, why, sizeof(why)) == -EPROTO)
		pr_debug("%s; unloading our programs by name\n", why);
	c.done = json_array();
	if (all)
		unload_all_ifaces(&c, g);
	else
		unload_one(&c, g, ifindex, ifname);
	if (c.have_maps)
		xb_maps_close(&c.maps);
	ret = c.err ? XB_EXIT_FAIL : XB_EXIT_OK;
	if (all && !c.err)
		ret = remove_pins(g);
	if (g->json && ret == XB_EXIT_OK) {
		json_dumpf(c.done, stdout, JSON_INDENT(2));
		putchar('\n');
	} else if (c.err) {
		xb_error(g, ret, "couldn't unload everything: %s", strerror(-c.err));
	}
	json_decref(c.done);
	if (lock_fd >= 0)
		close(lock_fd);
	return ret;
}

static const struct xb_option unload_options[] = {
	XB_OPT_JSON,
	{ .name = "all", .kind = XB_OPT_FLAG, XB_OPT_AT(struct unload_opts, all),
	  .help = "instead of IFACE: from every interface, then remove\n"
		  "our pins (of any version) and the pin directory;\n"
		  "other files in it are left alone" },
	XB_OPT_HELP,
	{}
};

const struct xb_cmd xb_cmd_unload = {
	.name = "unload",
	.fn = cmd_unload,
	.summary = "remove what a crashed daemon left attached (and --all: the pins)",
	.options = unload_options,
	.opts_size = sizeof(struct unload_opts),
	.args = "[IFACE]",
	.max_args = 1,
	.notes = "IFACE: remove our XDP program and TC filter from IFACE.\n"
		 "Refuses while a daemon runs on the pin dir (stop it: it detaches).\n",
};
