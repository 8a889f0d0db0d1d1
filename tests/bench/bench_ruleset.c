// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Loads a realistic rule set (tests/lib/ruleset_gen.h) into the kernel SPD
 * of the current network namespace over XFRM netlink, in batches of
 * XFRM_MSG_NEWPOLICY messages (one send for many, every one acknowledged),
 * and prints how long the kernel took:
 *
 *	bench_ruleset -p acl|fw|ipc -f 4|6 -n N [-s SEED] [-d] [-i]
 *
 * -d keeps every IPv4 address in the documentation ranges (rule sets whose
 * flows go on a wire), -i makes the policies dir in instead of fwd. Port
 * ranges are loaded as the (port, mask) pieces they expand into, which
 * `ip xfrm` cannot express.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/socket.h>
#include <libmnl/libmnl.h>
#include "nlbuild.h"
#include "ruleset_gen.h"

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

static double now_s(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return t.tv_sec + t.tv_nsec / 1e9;
}

static void usage(const char *prog)
{
	fprintf(stderr, "Usage: %s -p acl|fw|ipc -f 4|6 -n N [-s SEED] [-d] [-i]\n",
		prog);
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
	size_t n, i, off = 0;
	double t0, t1;

	while ((opt = getopt(argc, argv, "p:f:n:s:dih")) != -1) {
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
		default:
			usage(argv[0]);
		}
	}
	if (!cfg.n_policies)
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
	t0 = now_s();
	for (i = 0; i < n; i++) {
		struct nb_policy nb;
		struct nlmsghdr *nlh;

		to_nb_policy(&pols[i], &nb);
		nlh = nb_policy_msg(batch + off, XFRM_MSG_NEWPOLICY, &nb);
		nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK | NLM_F_CREATE |
				   NLM_F_EXCL;
		nlh->nlmsg_seq = seq++;
		off += NLMSG_ALIGN(nlh->nlmsg_len);
		if (++in_batch < BATCH && i + 1 < n &&
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
	       n - errors, t1 - t0, (n - errors) / (t1 - t0), errors,
	       errors ? ": " : "", errors ? strerror(first_err) : "");
	mnl_socket_close(nl);
	free(pols);
	return errors ? 1 : 0;
}
