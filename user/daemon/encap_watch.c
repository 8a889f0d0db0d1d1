// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include <errno.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <linux/inet_diag.h>
#include <linux/sock_diag.h>
#include <bpf/bpf.h>
#include <libmnl/libmnl.h>
#include "daemon/encap_watch.h"
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
static int scan_family(struct mnl_socket *nl, __u8 family, struct port_scan *scan)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct inet_diag_req_v2 *req;
	struct nlmsghdr *nlh;
	unsigned int seq = 1, portid = mnl_socket_get_portid(nl);
	ssize_t n;
	int ret;

	nlh = mnl_nlmsg_put_header(buf);
	nlh->nlmsg_type = SOCK_DIAG_BY_FAMILY;
	nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
	nlh->nlmsg_seq = seq;
	req = mnl_nlmsg_put_extra_header(nlh, sizeof(*req));
	req->sdiag_family = family;
	req->sdiag_protocol = IPPROTO_UDP;
	req->idiag_states = ~0U;
	if (mnl_socket_sendto(nl, nlh, nlh->nlmsg_len) < 0)
		return -errno;
	do {
		n = mnl_socket_recvfrom(nl, buf, sizeof(buf));
		if (n < 0)
			return -errno;
		ret = mnl_cb_run(buf, (size_t)n, seq, portid, on_socket, scan);
	} while (ret > MNL_CB_STOP);
	return ret < 0 ? -errno : 0;
}

int xb_udp_port_bound(__u16 port)
{
	struct port_scan scan = { .port = htons(port) };
	struct mnl_socket *nl = mnl_socket_open2(NETLINK_SOCK_DIAG, SOCK_CLOEXEC);
	int err;

	if (!nl)
		return -errno;
	err = mnl_socket_bind(nl, 0, MNL_SOCKET_AUTOPID) < 0 ? -errno : 0;
	if (!err)
		err = scan_family(nl, AF_INET, &scan);
	if (!err && !scan.bound)
		err = scan_family(nl, AF_INET6, &scan);
	mnl_socket_close(nl);
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
