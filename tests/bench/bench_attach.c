// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Attaches an XDP program for the early-drop benchmark and holds it until
 * SIGINT/SIGTERM, then detaches it:
 *
 *   bench_attach -i IFACE -P PIN_DIR        xb_xdp of build/bpf/xfrmbpf.bpf.o
 *                                           on the daemon's pinned maps, and
 *                                           the xb_ifaces entry `run -i`
 *                                           would publish
 *   bench_attach -i IFACE -o OBJ -p PROG    any program of an object (the
 *                                           bare XDP_DROP of bench.bpf.o)
 *
 * Native (driver) mode: veth has it. Prints "attached" once in place.
 */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <net/if.h>
#include <linux/if_link.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "xfrmbpf.skel.h"
#include "loader/attach.h"
#include "xfrmbpf/datapath.h"

struct attach_opts {
	const char *ifname;
	const char *pin_dir;
	const char *obj;
	const char *prog;
};

static int fail(const char *what, int err)
{
	fprintf(stderr, "bench_attach: %s: %s\n", what, strerror(err));
	return 1;
}

/* The datapath on the daemon's maps: libbpf reuses every pin under
 * pin_dir (LIBBPF_PIN_BY_NAME). */
static int load_datapath(const char *pin_dir, struct xfrmbpf **skel)
{
	LIBBPF_OPTS(bpf_object_open_opts, oo, .pin_root_path = pin_dir);

	*skel = xfrmbpf__open_opts(&oo);
	if (!*skel)
		return -errno;
	if (xb_dp_configure(*skel, pin_dir))
		return -EINVAL;
	bpf_program__set_autoload((*skel)->progs.xb_tc_steer, false);
	bpf_program__set_autoload((*skel)->progs.xb_tc_md_egress, false);
	if (xfrmbpf__load(*skel))
		return -errno;
	return bpf_program__fd((*skel)->progs.xb_xdp);
}

static int load_plain(const char *path, const char *name,
		      struct bpf_object **obj)
{
	struct bpf_program *p;

	*obj = bpf_object__open_file(path, NULL);
	if (!*obj)
		return -errno;
	if (bpf_object__load(*obj))
		return -errno;
	p = bpf_object__find_program_by_name(*obj, name);
	return p ? bpf_program__fd(p) : -ENOENT;
}

static int set_iface(struct xfrmbpf *skel, __u32 ifindex, bool on)
{
	struct xb_iface_cfg cfg = { .flags = XB_IF_XDP, .mtu = 1500 };
	int fd = bpf_map__fd(skel->maps.xb_ifaces);

	if (!on)
		return bpf_map_delete_elem(fd, &ifindex);
	return bpf_map_update_elem(fd, &ifindex, &cfg, BPF_ANY) ? -errno : 0;
}

static void wait_signal(void)
{
	sigset_t set;
	int sig;

	sigemptyset(&set);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	sigprocmask(SIG_BLOCK, &set, NULL);
	printf("attached\n");
	fflush(stdout);
	sigwait(&set, &sig);
}

int main(int argc, char **argv)
{
	struct attach_opts o = {};
	struct xfrmbpf *skel = NULL;
	struct bpf_object *obj = NULL;
	__u32 ifindex;
	int opt, fd, err;

	while ((opt = getopt(argc, argv, "i:P:o:p:")) != -1) {
		switch (opt) {
		case 'i':
			o.ifname = optarg;
			break;
		case 'P':
			o.pin_dir = optarg;
			break;
		case 'o':
			o.obj = optarg;
			break;
		case 'p':
			o.prog = optarg;
			break;
		default:
			goto usage;
		}
	}
	if (!o.ifname || !(o.pin_dir || (o.obj && o.prog)))
		goto usage;
	ifindex = if_nametoindex(o.ifname);
	if (!ifindex)
		return fail(o.ifname, errno);
	libbpf_set_print(NULL);
	fd = o.pin_dir ? load_datapath(o.pin_dir, &skel) :
			 load_plain(o.obj, o.prog, &obj);
	if (fd < 0)
		return fail("load", -fd);
	if (skel && (err = set_iface(skel, ifindex, true)))
		return fail("xb_ifaces", -err);
	err = bpf_xdp_attach((int)ifindex, fd, XDP_FLAGS_DRV_MODE, NULL);
	if (err)
		return fail("attach XDP", -err);
	wait_signal();
	bpf_xdp_detach((int)ifindex, XDP_FLAGS_DRV_MODE, NULL);
	if (skel)
		set_iface(skel, ifindex, false);
	xfrmbpf__destroy(skel);
	bpf_object__close(obj);
	return 0;
usage:
	fprintf(stderr, "Usage: %s -i IFACE (-P PIN_DIR | -o OBJ -p PROG)\n",
		argv[0]);
	return 2;
}
