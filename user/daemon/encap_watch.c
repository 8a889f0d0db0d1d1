// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/udp.h>
#include <sys/socket.h>
#include <linux/inet_diag.h>
#include <linux/sock_diag.h>
#include <bpf/bpf.h>
#include <libmnl/libmnl.h>
#include "daemon/encap_watch.h"
#include "daemon/sock_owner.h"
#include "netlink/nl_dump.h"
#include "loader/sync_record.h"
#include "lib/clock.h"
#include "lib/log.h"
#include "xfrmbpf/datapath.h"

/* More sockets on the port than this is no IKE daemon's set: undecided. */
#define NATT_MAX_SOCKS		32
/* A socket whose holder was not found is looked for again after this. */
#define OWNER_RETRY_NS		(10 * 1000000000ull)

/* One UDP socket on the port, as sock_diag describes it. */
struct natt_sock {
	__u32 inode;
	__u8 family;
	__u8 addr[16];		/* bound local address (IPv4 in the first 4) */
	__u32 ifindex;		/* SO_BINDTODEVICE */
	bool connected;
	int v6only;		/* IPV6_V6ONLY, -1 when not reported */
	/* matches every datagram of the family in the lookup */
	bool all4, all6;
};

struct port_scan {
	__be16 port;
	size_t n;
	bool overflow;
	struct natt_sock s[NATT_MAX_SOCKS];
};

/* What is remembered about a socket between beats: where it is held. */
struct natt_seen {
	__u32 inode;
	struct xb_sock_owner owner;
	__u64 retry_ns;		/* next search for an owner not found */
	int err;		/* why its encapsulation is unknown */
	int encap;		/* UDP_ENCAP read this beat, -1 unknown */
};

static struct natt_seen seen[NATT_MAX_SOCKS];
static size_t n_seen;
static char last_cause[192];

static bool zero(const __u8 *p, size_t len)
{
	while (len--)
		if (*p++)
			return false;
	return true;
}

static bool v4_mapped(const __u8 *a)
{
	return zero(a, 10) && a[10] == 0xff && a[11] == 0xff;
}

static int on_attr(const struct nlattr *attr, void *data)
{
	struct natt_sock *s = data;

	if (mnl_attr_get_type(attr) == INET_DIAG_SKV6ONLY &&
	    mnl_attr_get_payload_len(attr) >= 1)
		s->v6only = mnl_attr_get_u8(attr);
	return MNL_CB_OK;
}

/*
 * The lookup (__udp4_lib_lookup, __udp6_lib_lookup): sockets bound to the
 * datagram's address first, then those on the wildcard; among them the
 * best score, where a connected peer and a bound device only narrow what
 * a socket matches. A socket on the wildcard with neither matches every
 * datagram of its family (on a device in no VRF; a VRF's ports are a
 * stacked device, undecidable to the datapath anyway).
 */
static int on_socket(const struct nlmsghdr *nlh, void *data)
{
	const struct inet_diag_msg *m = mnl_nlmsg_get_payload(nlh);
	struct port_scan *scan = data;
	struct natt_sock *s;
	bool free;

	if (nlh->nlmsg_len < mnl_nlmsg_size(sizeof(*m)) || m->id.idiag_sport != scan->port)
		return MNL_CB_OK;
	if (scan->n == NATT_MAX_SOCKS) {
		scan->overflow = true;
		return MNL_CB_OK;
	}
	s = &scan->s[scan->n++];
	memset(s, 0, sizeof(*s));
	s->inode = m->idiag_inode;
	s->family = m->idiag_family;
	memcpy(s->addr, m->id.idiag_src, sizeof(s->addr));
	s->ifindex = m->id.idiag_if;
	s->connected = m->id.idiag_dport || !zero((const __u8 *)m->id.idiag_dst,
						  sizeof(m->id.idiag_dst));
	s->v6only = -1;
	mnl_attr_parse(nlh, sizeof(*m), on_attr, s);
	free = !s->connected && !s->ifindex;
	if (s->family == AF_INET) {
		s->all4 = free && zero(s->addr, 4);
	} else if (v4_mapped(s->addr)) {
		/* bound to ::ffff:a.b.c.d: an IPv4 socket for a.b.c.d */
		s->all4 = free && zero(s->addr + 12, 4);
	} else if (zero(s->addr, 16)) {
		s->all6 = free;
		s->all4 = free && s->v6only == 0;
	}
	return MNL_CB_OK;
}

/* Dumps the UDP sockets of one family, keeping those on scan->port. */
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

static void sock_name(const struct natt_sock *s, char *buf, size_t len)
{
	char addr[INET6_ADDRSTRLEN] = "?";
	size_t l;

	inet_ntop(s->family, s->addr, addr, sizeof(addr));
	snprintf(buf, len, s->family == AF_INET6 ? "[%s]" : "%s", addr);
	l = strlen(buf);
	if (s->ifindex)
		snprintf(buf + l, len - l, "%%if%u", s->ifindex);
	l = strlen(buf);
	snprintf(buf + l, len - l, " (inode %u%s)", s->inode, s->connected ? ", connected" : "");
}

/* Forget the sockets that are gone, remember the new ones. */
static void sync_seen(const struct port_scan *scan)
{
	size_t i, j;

	for (i = 0; i < n_seen;) {
		for (j = 0; j < scan->n && scan->s[j].inode != seen[i].inode; j++)
			;
		if (j < scan->n) {
			i++;
			continue;
		}
		xb_sock_owner_forget(&seen[i].owner);
		seen[i] = seen[--n_seen];
	}
	for (j = 0; j < scan->n; j++) {
		for (i = 0; i < n_seen && seen[i].inode != scan->s[j].inode; i++)
			;
		if (i < n_seen)
			continue;
		seen[n_seen++] = (struct natt_seen){
			.inode = scan->s[j].inode,
			.owner = { .pidfd = -1 },
			.err = -ENOENT,
			.encap = -1,
		};
	}
}

static void read_encap(struct natt_seen *e)
{
	int val, err;

	e->encap = -1;
	err = xb_sock_owner_getsockopt(&e->owner, e->inode, IPPROTO_UDP, UDP_ENCAP, &val);
	if (!err) {
		e->encap = val;
		e->err = 0;
		return;
	}
	e->err = err;
	/* the holder closed it, exited, or passed it on: look again */
	if (err == -ESRCH || err == -EBADF || err == -ESTALE) {
		xb_sock_owner_forget(&e->owner);
		e->retry_ns = 0;
	}
}

/* UDP_ENCAP of every socket on the port: through the owners known, then a
 * search of /proc for those without one (new, or whose holder let go). */
static void read_all(void)
{
	__u32 inodes[NATT_MAX_SOCKS];
	struct xb_sock_owner owners[NATT_MAX_SOCKS];
	size_t i, n = 0, idx[NATT_MAX_SOCKS];
	__u64 now = xb_monotonic_ns();
	int found;

	for (i = 0; i < n_seen; i++)
		if (seen[i].owner.pidfd >= 0)
			read_encap(&seen[i]);
	for (i = 0; i < n_seen; i++) {
		if (seen[i].owner.pidfd >= 0 || seen[i].retry_ns > now)
			continue;
		inodes[n] = seen[i].inode;
		owners[n] = seen[i].owner;
		idx[n++] = i;
	}
	if (!n)
		return;
	found = xb_sock_owners_find(inodes, owners, n);
	for (i = 0; i < n; i++) {
		struct natt_seen *e = &seen[idx[i]];

		e->owner = owners[i];
		if (e->owner.pidfd >= 0) {
			read_encap(e);
		} else {
			e->err = found < 0 ? found : -ENOENT;
			e->encap = -1;
		}
		if (e->owner.pidfd < 0)
			e->retry_ns = now + OWNER_RETRY_NS;
	}
}

static const struct natt_seen *seen_of(__u32 inode)
{
	size_t i;

	for (i = 0; i < n_seen; i++)
		if (seen[i].inode == inode)
			return &seen[i];
	return NULL;
}

/* A BPF sk_lookup program in the netns picks sockets its own way. */
static int sk_lookup_progs(void)
{
	static int netns_fd = -1;
	__u32 cnt = 0;

	if (netns_fd < 0)
		netns_fd = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
	if (netns_fd < 0)
		return -errno;
	if (bpf_prog_query(netns_fd, BPF_SK_LOOKUP, 0, NULL, NULL, &cnt))
		return -errno;
	return cnt;
}

/* 1 or 0 as the header says; cause says why, in a few words. undecided:
 * the answer 0 comes from what could not be known, not from a plain
 * socket or a missing one. */
static int decide(struct port_scan *scan, char *cause, size_t len,
		  bool *undecided)
{
	bool all4 = false, all6 = false;
	char name[96];
	size_t i;
	int n;

	*undecided = false;
	if (!scan->n) {
		snprintf(cause, len, "no socket on it: plain UDP");
		return 0;
	}
	if (scan->overflow) {
		*undecided = true;
		snprintf(cause, len, "more than %d sockets on it: taken as plain UDP",
			 NATT_MAX_SOCKS);
		return 0;
	}
	for (i = 0; i < scan->n; i++) {
		all4 |= scan->s[i].all4;
		all6 |= scan->s[i].all6;
	}
	if (!all4 || !all6) {
		snprintf(cause, len, "no socket on it receives every %s datagram (unbound "
			 "address and device, not connected): plain UDP to some of them",
			 !all4 ? "IPv4" : "IPv6");
		return 0;
	}
	n = sk_lookup_progs();
	if (n) {
		*undecided = true;
		if (n < 0)
			snprintf(cause, len, "couldn't query the netns' sk_lookup programs (%s): "
				 "taken as plain UDP", strerror(-n));
		else
			snprintf(cause, len, "a BPF sk_lookup program in the netns may pick any "
				 "socket: taken as plain UDP");
		return 0;
	}
	read_all();
	for (i = 0; i < scan->n; i++) {
		const struct natt_seen *e = seen_of(scan->s[i].inode);

		sock_name(&scan->s[i], name, sizeof(name));
		if (!e || e->encap < 0) {
			int err = e ? e->err : -ENOENT;

			*undecided = true;
			if (err == -ENOENT)
				snprintf(cause, len, "socket %s: no process here holds it, its "
					 "UDP_ENCAP is unknown: taken as plain UDP", name);
			else
				snprintf(cause, len, "socket %s: couldn't read its UDP_ENCAP (%s): "
					 "taken as plain UDP", name, strerror(-err));
			return 0;
		}
		if (e->encap != UDP_ENCAP_ESPINUDP) {
			snprintf(cause, len, "socket %s has UDP_ENCAP %d, not ESPINUDP: plain "
				 "UDP to it", name, e->encap);
			return 0;
		}
	}
	snprintf(cause, len, "every socket on it has UDP_ENCAP_ESPINUDP: ESP in UDP");
	return 1;
}

int xb_udp_port_decapsulated(__u16 port)
{
	static struct port_scan scan;
	char cause[sizeof(last_cause)];
	bool undecided;
	int err, ret;

	memset(&scan, 0, sizeof(scan));
	scan.port = htons(port);
	err = scan_family(AF_INET, &scan);
	if (!err)
		err = scan_family(AF_INET6, &scan);
	if (err)
		return err;
	sync_seen(&scan);
	ret = decide(&scan, cause, sizeof(cause), &undecided);
	if (strcmp(cause, last_cause)) {
		if (undecided)
			pr_info("udp/%u: %s\n", port, cause);
		else
			pr_debug("udp/%u: %s\n", port, cause);
		memcpy(last_cause, cause, sizeof(last_cause));
	}
	return ret;
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
