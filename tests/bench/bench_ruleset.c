// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Loads a realistic rule set (tests/lib/ruleset_gen.h) into the kernel SPD
 * of the current network namespace over XFRM netlink, in batches of
 * XFRM_MSG_NEWPOLICY messages (one send for many, every one acknowledged),
 * and prints how long the kernel took:
 *
 *	bench_ruleset -p acl|fw|ipc -f 4|6 -n N [-s SEED] [-d] [-i] [-r]
 *		      [-w FROM:COUNT] [-F FLOWS -k COUNT]
 *
 * -d keeps every IPv4 address in the documentation ranges (rule sets whose
 * flows go on a wire), -i makes the policies dir in instead of fwd, -r
 * loads the last rule first (a running daemon then sees the worst policy
 * first, one live event after another), -w only rules FROM to
 * FROM + COUNT - 1 of the set (a test loads it in parts). Port
 * ranges are loaded as the (port, mask) pieces they expand into, which
 * `ip xfrm` cannot express.
 *
 * -F writes COUNT flows of the rule set that a block policy decides (as
 * the classifier's tested reader says, with every policy in the SPD) to
 * FLOWS, one "SADDR DADDR PROTO SPORT DPORT" line each, for the drop
 * benchmark's generator (bench_txgen -F): TCP and UDP over IPv4, between
 * documentation addresses the drop bench's receiver forwards (its own
 * addresses, network and broadcast addresses left out). Drawn inside the
 * rule set, a flow may fall under a wildcard anywhere: only those inside
 * the documentation ranges are kept.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/socket.h>
#include <libmnl/libmnl.h>
#include <arpa/inet.h>
#include "nlbuild.h"
#include "ruleset_gen.h"
#include "tss_mem.h"
#include "xfrmbpf/reasons.h"

/* Messages per send: about 20 KiB of requests, acks well within the
 * socket's receive buffer. */
#define BATCH		100

static void to_nb_policy(const struct xb_policy *p, struct nb_policy *nb)
{
	struct xfrm_selector *s = &nb->info.sel;

	nb_policy_init(nb, p->sel.family, p->dir);
	memcpy(&s->daddr, p->sel.daddr.b, sizeof(s->daddr));
	memcpy(&s->saddr, p->sel.saddr.b, sizeof(s->saddr));
	s->dport = p->sel.dport;
	s->dport_mask = p->sel.dport_mask;
	s->sport = p->sel.sport;
	s->sport_mask = p->sel.sport_mask;
	s->prefixlen_d = p->sel.prefixlen_d;
	s->prefixlen_s = p->sel.prefixlen_s;
	s->proto = p->sel.proto;
	nb->info.priority = p->priority;
	nb->info.action = p->action;
}

/* Reads the acks of seq first..last; returns how many were errors. */
static unsigned int read_acks(struct mnl_socket *nl, unsigned int first,
			      unsigned int last, int *first_err)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	unsigned int got = 0, errors = 0;
	struct nlmsghdr *nlh;
	ssize_t len;

	while (got < last - first + 1) {
		len = mnl_socket_recvfrom(nl, buf, sizeof(buf));
		if (len < 0) {
			perror("bench_ruleset: recv");
			exit(1);
		}
		for (nlh = (struct nlmsghdr *)buf; mnl_nlmsg_ok(nlh, (int)len);
		     nlh = mnl_nlmsg_next(nlh, (int *)&len)) {
			const struct nlmsgerr *e = mnl_nlmsg_get_payload(nlh);

			if (nlh->nlmsg_type != NLMSG_ERROR)
				continue;
			got++;
			if (e->error) {
				if (!errors++)
					*first_err = -e->error;
			}
		}
	}
	return errors;
}

/* May a generated frame carry this address? Only the documentation
 * ranges go on a wire, and not the drop bench receiver's own addresses
 * (scripts/bench.sh drop_setup) nor network and broadcast addresses, which
 * it would not forward. */
static bool frame_address(__be32 a)
{
	__u32 h = ntohl(a), net = h >> 8, host = h & 0xff;

	if (net != 0xc00002 && net != 0xc63364 && net != 0xcb0071)
		return false;
	if (h == 0xc6336401 || h == 0xc0000201)	/* 198.51.100.1, 192.0.2.1 */
		return false;
	return host != 0 && host != 255;
}

/* Up to count distinct-enough flows that a block policy decides, from
 * flows drawn inside the rule set (xb_rs_flow); returns how many. */
static size_t write_block_flows(struct xb_rng *rng, const struct xb_policy *pols,
				size_t n, size_t count, FILE *out)
{
	static const __u8 dflt[4];
	struct xb_tss *tss = xb_tss_new((__u32)n);
	struct xb_tss_mem *mem = xb_tss_mem_new();
	struct xb_tss_source src;
	struct xb_tss_sink sink;
	size_t i, got = 0, tries = 0;

	if (!tss || !mem) {
		fprintf(stderr, "bench_ruleset: out of memory\n");
		exit(1);
	}
	for (i = 0; i < n; i++)
		if (xb_tss_add(tss, &pols[i])) {
			fprintf(stderr, "bench_ruleset: the classifier refused policy %zu\n", i);
			exit(1);
		}
	xb_tss_mem_sink(mem, &sink);
	xb_tss_mem_source(mem, &src);
	if (xb_tss_flush(tss, &sink)) {
		fprintf(stderr, "bench_ruleset: building the classifier failed\n");
		exit(1);
	}
	while (got < count && tries++ < 50 * count) {
		struct xb_ref_decision d;
		struct xb_flow fl;
		char s[INET_ADDRSTRLEN], t[INET_ADDRSTRLEN];

		xb_rs_flow(rng, pols, n, &fl);
		if (fl.family != AF_INET ||
		    (fl.proto != IPPROTO_TCP && fl.proto != IPPROTO_UDP) ||
		    !frame_address(fl.saddr.a[0]) || !frame_address(fl.daddr.a[0]))
			continue;
		if (xb_tss_lookup(&src, XFRM_POLICY_FWD, &fl, dflt, &d) ||
		    d.reason != XB_R_DROP_POLICY_BLOCK)
			continue;
		fprintf(out, "%s %s %u %u %u\n",
			inet_ntop(AF_INET, &fl.saddr, s, sizeof(s)),
			inet_ntop(AF_INET, &fl.daddr, t, sizeof(t)), fl.proto,
			ntohs(fl.sport), ntohs(fl.dport));
		got++;
	}
	xb_tss_mem_free(mem);
	xb_tss_free(tss);
	return got;
}

static double now_s(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return t.tv_sec + t.tv_nsec / 1e9;
}

static void usage(const char *prog)
{
	fprintf(stderr, "Usage: %s -p acl|fw|ipc -f 4|6 -n N [-s SEED] [-d] [-i] [-r] "
		"[-w FROM:COUNT] [-F FLOWS -k COUNT]\n", prog);
	exit(2);
}

int main(int argc, char **argv)
{
	struct xb_rs_cfg cfg = { XB_RS_ACL, AF_INET, 0, XFRM_POLICY_FWD, false };
	static char batch[BATCH * NB_BUF_SIZE / 4];
	unsigned int errors = 0, seq = 1, in_batch = 0, first_seq = 1;
	struct xb_policy *pols;
	struct mnl_socket *nl;
	unsigned long long seed = 1;
	struct xb_rng rng;
	int opt, first_err = 0, profile;
	size_t n, i, off = 0, n_flows = 0;
	const char *flows_path = NULL;
	bool last_first = false;
	size_t from = 0, count = SIZE_MAX, n_load;
	double t0, t1;

	while ((opt = getopt(argc, argv, "p:f:n:s:dirw:F:k:h")) != -1) {
		switch (opt) {
		case 'p':
			profile = xb_rs_profile_parse(optarg);
			if (profile < 0)
				usage(argv[0]);
			cfg.profile = profile;
			break;
		case 'f':
			cfg.family = atoi(optarg) == 6 ? AF_INET6 : AF_INET;
			break;
		case 'n':
			cfg.n_policies = (unsigned int)strtoul(optarg, NULL, 0);
			break;
		case 's':
			seed = strtoull(optarg, NULL, 0);
			break;
		case 'd':
			cfg.doc_only = true;
			break;
		case 'i':
			cfg.dir = XFRM_POLICY_IN;
			break;
		case 'r':
			last_first = true;
			break;
		case 'w':
			if (sscanf(optarg, "%zu:%zu", &from, &count) != 2)
				usage(argv[0]);
			break;
		case 'F':
			flows_path = optarg;
			break;
		case 'k':
			n_flows = strtoul(optarg, NULL, 0);
			break;
		default:
			usage(argv[0]);
		}
	}
	if (!cfg.n_policies || !flows_path != !n_flows ||
	    (flows_path && (cfg.family != AF_INET || cfg.dir != XFRM_POLICY_FWD)))
		usage(argv[0]);
	pols = calloc(cfg.n_policies, sizeof(*pols));
	if (!pols) {
		perror("bench_ruleset: calloc");
		return 1;
	}
	xb_rng_seed(&rng, seed);
	n = xb_rs_gen(&rng, &cfg, pols, cfg.n_policies);
	printf("# %s inet%s: %zu policies, %zu shapes\n",
	       xb_rs_profile_name(cfg.profile), cfg.family == AF_INET6 ? "6" : "",
	       n, xb_rs_shapes(pols, n));
	nl = mnl_socket_open(NETLINK_XFRM);
	if (!nl || mnl_socket_bind(nl, 0, MNL_SOCKET_AUTOPID) < 0) {
		perror("bench_ruleset: netlink");
		return 1;
	}
	from = from < n ? from : n;
	n_load = count < n - from ? count : n - from;
	t0 = now_s();
	for (i = 0; i < n_load; i++) {
		struct nb_policy nb;
		struct nlmsghdr *nlh;

		to_nb_policy(&pols[from + (last_first ? n_load - 1 - i : i)], &nb);
		nlh = nb_policy_msg(batch + off, XFRM_MSG_NEWPOLICY, &nb);
		nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK | NLM_F_CREATE |
				   NLM_F_EXCL;
		nlh->nlmsg_seq = seq++;
		off += NLMSG_ALIGN(nlh->nlmsg_len);
		if (++in_batch < BATCH && i + 1 < n_load &&
		    off + NB_BUF_SIZE / 4 <= sizeof(batch))
			continue;
		if (mnl_socket_sendto(nl, batch, off) < 0) {
			perror("bench_ruleset: send");
			return 1;
		}
		errors += read_acks(nl, first_seq, seq - 1, &first_err);
		first_seq = seq;
		in_batch = 0;
		off = 0;
	}
	t1 = now_s();
	printf("loaded %zu policies in %.2f s (%.0f/s), %u refused%s%s\n",
	       n_load - errors, t1 - t0, (n_load - errors) / (t1 - t0), errors,
	       errors ? ": " : "", errors ? strerror(first_err) : "");
	mnl_socket_close(nl);
	if (flows_path && !errors) {
		FILE *f = fopen(flows_path, "w");
		size_t got;

		if (!f) {
			perror(flows_path);
			return 1;
		}
		got = write_block_flows(&rng, pols, n, n_flows, f);
		if (fclose(f)) {
			perror(flows_path);
			return 1;
		}
		printf("wrote %zu flows decided by block policies to %s\n", got, flows_path);
	}
	free(pols);
	return errors ? 1 : 0;
}
