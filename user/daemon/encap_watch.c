// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include <errno.h>
#include <string.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <linux/inet_diag.h>
#include <linux/sock_diag.h>
#include <bpf/bpf.h>
#include <libmnl/libmnl.h>
#include "daemon/encap_watch.h"
#include "netlink/nl_dump.h"
#include "loader/sync_record.h"
#include "xfrmbpf/datapath.h"

struct port_scan {
	__be16 port;
	bool bound;
};

static int on_socket(const struct nlmsghdr *nlh, void *data)
{
	const struct inet_diag_msg *m = mnl_nlmsg_get_payload(nlh);
	struct port_scan *scan = data;

	if (nlh->nlmsg_len >= mnl_nlmsg_size(sizeof(*m)) && m->id.idiag_sport == scan->port)
		scan->bound = true;
	return MNL_CB_OK;
}

/* Dumps the UDP sockets of one family, looking for scan->port. */
static int scan_family(__u8 family, struct port_scan *scan)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
	struct inet_diag_req_v2 *req;

	nlh->nlmsg_type = SOCK_DIAG_BY_FAMILY;
	req = mnl_nlmsg_put_extra_header(nlh, sizeof(*req));
	req->sdiag_family = family;
	req->sdiag_protocol = IPPROTO_UDP;
	req->idiag_states = ~0U;
	return xb_nl_dump_once(NETLINK_SOCK_DIAG, nlh, on_socket, scan);
}

int xb_udp_port_bound(__u16 port)
{
	struct port_scan scan = { .port = htons(port) };
	int err;

	err = scan_family(AF_INET, &scan);
	if (!err && !scan.bound)
		err = scan_family(AF_INET6, &scan);
	return err ? err : scan.bound;
}
int xb_encap_socket_write(const struct xb_maps *maps, __u16 port, bool bound)
{
	struct xb_bypass_key k = {
		.proto = IPPROTO_UDP, .kind = XB_BYPASS_ENCAP_SOCKET, .port = htons(port),
	};
	int fd = maps->fd[XB_MAP_BYPASS];
	__u8 one = 1;

	if (bound ? bpf_map_update_elem(fd, &k, &one, BPF_ANY) :
		    bpf_map_delete_elem(fd, &k) && errno != ENOENT)
		return -errno;
	xb_sync_flows_stale(maps);
	return 0;
}
