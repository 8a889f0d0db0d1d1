// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * The flow cache of the XDP program: the first packet of a flow stores
 * its verdict (reason, policy, device row) for the SPD generation and
 * flow epoch it was decided under, in its key's slot on the CPU it ran
 * on; a later packet of the flow is answered from there (a hit) while
 * the entry is whole, of its own flow, generation and epoch, even while a
 * publication runs. Anything else is decided again (a miss), and two
 * flows of one slot replace each other. Runs through BPF_PROG_TEST_RUN;
 * the namespace and the shared setup: tests/lib/fixture.h.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <sched.h>
#include <string.h>
#include <arpa/inet.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "xfrmbpf.skel.h"
#include "bpf_harness.h"
#include "fixture.h"
#include "loader/stats.h"

/* The key the datapath builds for a TCP/IPv4 packet from V4_SRC port
 * 40000 on the input device. */
static void flow_key_tcp4(struct xb_flow_key *k, const char *dst, uint16_t dport)
{
	memset(k, 0, sizeof(*k));
	k->family = AF_INET;
	inet_pton(AF_INET, V4_SRC, k->saddr.b);
	inet_pton(AF_INET, dst, k->daddr.b);
	k->sport = htons(40000);
	k->dport = htons(dport);
	k->proto = IPPROTO_TCP;
	k->kind = XB_PK_PLAIN;
	k->ifindex = (uint32_t)xbt_fx.if_in;
}

/* The flow cache slot of k, in the cache as the program was loaded. */
static __u32 flow_slot(const struct xb_flow_key *k)
{
	return xb_flow_slot(xb_flow_hash(k),
			    xbt_fx.skel->rodata->xb_flow_cache_bits);
}

/* Every CPU's block of a slot and its tags, as the maps hold them. */
static struct xb_flow_block blocks[MAX_CPUS];
static struct xb_flow_tags block_tags[MAX_CPUS];

/* Every CPU's block of the slot into blocks[], its tags into
 * block_tags[]. */
static void flow_blocks_read(int fd, __u32 slot, int n)
{
	int tags_fd = bpf_map__fd(xbt_fx.skel->maps.xb_flow_tags);
	__u32 block = slot / XB_FLOW_BLOCK;

	assert_true(n <= MAX_CPUS);
	assert_int_equal(bpf_map_lookup_elem(fd, &block, blocks), 0);
	assert_int_equal(bpf_map_lookup_elem(tags_fd, &block, block_tags), 0);
}

static void flow_blocks_write(int fd, __u32 slot)
{
	int tags_fd = bpf_map__fd(xbt_fx.skel->maps.xb_flow_tags);
	__u32 block = slot / XB_FLOW_BLOCK;

	assert_int_equal(bpf_map_update_elem(fd, &block, blocks, BPF_ANY), 0);
	assert_int_equal(bpf_map_update_elem(tags_fd, &block, block_tags, BPF_ANY), 0);
}

/* Every CPU's entry of the slot (ents[cpu]); the tags into tags[cpu]
 * unless NULL. */
static void flow_slot_read(int fd, __u32 slot, struct xb_flow_entry *ents,
			   __u16 *tags, int n)
{
	int i;

	flow_blocks_read(fd, slot, n);
	for (i = 0; i < n; i++) {
		ents[i] = blocks[i].slot[slot % XB_FLOW_BLOCK];
		if (tags)
			tags[i] = block_tags[i].tag[slot % XB_FLOW_BLOCK];
	}
}

/* Every CPU's entry of the slot becomes ents[cpu], under the tag of key
 * tag_of. */
static void flow_slot_write(int fd, __u32 slot, const struct xb_flow_entry *ents,
			    const struct xb_flow_key *tag_of, int n)
{
	int i;

	flow_blocks_read(fd, slot, n);
	for (i = 0; i < n; i++) {
		blocks[i].slot[slot % XB_FLOW_BLOCK] = ents[i];
		block_tags[i].tag[slot % XB_FLOW_BLOCK] = xb_flow_tag(xb_flow_hash(tag_of));
	}
	flow_blocks_write(fd, slot);
}

/* Every CPU's tag of the slot says key k is there, whatever the slot
 * holds. */
static void flow_tags_put(int fd, __u32 slot, const struct xb_flow_key *k, int n)
{
	int i;

	flow_blocks_read(fd, slot, n);
	for (i = 0; i < n; i++)
		block_tags[i].tag[slot % XB_FLOW_BLOCK] = xb_flow_tag(xb_flow_hash(k));
	flow_blocks_write(fd, slot);
}

/* Every CPU's entry of the flow cache slot, and its tag, as the datapath
 * would write them (a matching check). */
static void flow_cache_put(int fd, __u32 slot, struct xb_flow_entry *ents,
			   int n)
{
	int i;

	for (i = 0; i < n; i++)
		ents[i].check = xb_flow_check(xb_flow_hash(&ents[i].key),
					      ents[i].val.generation,
					      ents[i].val.flow_epoch,
					      ents[i].val.policy_id,
					      ents[i].val.reason,
					      ents[i].val.cause,
					      ents[i].val.stats_slot);
	flow_slot_write(fd, slot, ents, &ents[0].key, n);
}

/* Every CPU's entry of the slot says: key k, allowed by policy 1, under
 * that generation and flow epoch. */
static void flow_cache_put_allow(int fd, __u32 slot, struct xb_flow_entry *ents,
				 int n, const struct xb_flow_key *k,
				 uint64_t generation, uint32_t flow_epoch)
{
	int i;

	for (i = 0; i < n; i++) {
		ents[i].key = *k;
		ents[i].val.generation = generation;
		ents[i].val.flow_epoch = flow_epoch;
		ents[i].val.reason = XB_R_PASS_POLICY_ALLOW;
		ents[i].val.policy_id = 1;
		ents[i].val.stats_slot = IF_IN_SLOT;
	}
	flow_cache_put(fd, slot, ents, n);
}

/* How many CPUs hold key k, of the current generation, in its slot;
 * ents gets every CPU's entry. */
static int flow_cache_holds(int fd, const struct xb_flow_key *k,
			    struct xb_flow_entry *ents, int n)
{
	__u32 slot = flow_slot(k);
	int i, found = 0;

	flow_slot_read(fd, slot, ents, NULL, n);
	for (i = 0; i < n; i++)
		if (!memcmp(&ents[i].key, k, sizeof(*k)) &&
		    ents[i].val.generation == xbt_fx.generation)
			found++;
	return found;
}

/* xb_flow_stats summed over CPUs, read as `xfrmbpf stats` reads them. */
static struct xb_flow_stats flow_stats(void)
{
	struct xb_maps maps = { .n_cpus = xbt_fx_num_cpus() };
	struct xb_flow_stats sum;

	assert_true(maps.n_cpus > 0);
	maps.fd[XB_MAP_FLOW_STATS] =
		bpf_map__fd(xbt_fx.skel->maps.xb_flow_stats);
	assert_int_equal(xb_flow_stats_read(&maps, &sum), 0);
	return sum;
}

/* One run of f, which the flow cache answers (hit) or not. */
static void run_expect_cache(const struct xbt_frame *f, uint32_t verdict,
			     int reason, bool hit)
{
	struct xb_flow_stats before = flow_stats(), after;

	assert_int_equal(xbt_fx_expect(f, verdict, reason, NO_POL), 0);
	after = flow_stats();
	assert_int_equal(after.hits - before.hits, hit);
	assert_int_equal(after.misses - before.misses, !hit);
}

/* The flow cache answers only with an intact entry of its own flow,
 * generation and flow epoch; a publication under way does not stop it. */
static void test_flow_cache_answers_only_its_flow_generation_and_epoch(void **state)
{
	struct xbt_pkt_spec spec = { TCP4(V4_LOCAL, 23) };
	int fd = bpf_map__fd(xbt_fx.skel->maps.xb_flow_cache);
	static struct xb_flow_entry ents[MAX_CPUS];
	struct xb_flow_key k, other;
	struct xbt_frame f;
	uint32_t retval;
	static __u16 tags[MAX_CPUS];
	int n = xbt_fx_num_cpus(), i, tagged = 0;
	__u32 slot;

	(void)state;
	assert_true(n > 0);
	assert_int_equal(xbt_fx_set_state(gw_spd, gw_sas, 0, 0), 0);
	assert_true(xbt_build(&spec, &f) > 0);
	assert_int_equal(xbt_fx_run_xdp(&f, &retval), 0);
	assert_int_equal(retval, XDP_DROP);

	/* the first packet stored its result for this generation, in the
	 * slot of its key on the CPU it ran on */
	flow_key_tcp4(&k, V4_LOCAL, 23);
	slot = flow_slot(&k);
	assert_int_equal(flow_cache_holds(fd, &k, ents, n), 1);
	flow_slot_read(fd, slot, ents, tags, n);
	for (i = 0; i < n; i++) {
		if (ents[i].val.generation != xbt_fx.generation)
			continue;
		assert_int_equal(ents[i].val.reason, XB_R_DROP_REQUIRES_IPSEC);
		assert_int_equal(ents[i].val.policy_id, 2);
		assert_int_equal(ents[i].val.flow_epoch, 0);
		assert_int_equal(ents[i].val.stats_slot, IF_IN_SLOT);
		assert_true(ents[i].check ==
			    xb_flow_check(xb_flow_hash(&k), xbt_fx.generation,
					  0, 2, XB_R_DROP_REQUIRES_IPSEC, 0,
					  IF_IN_SLOT));
		/* and its tag */
		assert_int_equal(tags[i], xb_flow_tag(xb_flow_hash(&k)));
		tagged++;
	}
	assert_int_equal(tagged, 1);

	/* a current entry is believed: make it say "allow" */
	flow_cache_put_allow(fd, slot, ents, n, &k, xbt_fx.generation, 0);
	run_expect_cache(&f, XDP_PASS, XB_R_PASS_POLICY_ALLOW, true);

	/* also while a publication runs: it is the verdict of the whole
	 * SPD of its generation (the packet sees the old SPD) */
	assert_int_equal(xbt_fx_set_sync(ST_ODD_SEQ), 0);
	run_expect_cache(&f, XDP_PASS, XB_R_PASS_POLICY_ALLOW, true);
	/* a flow without a cached verdict waits for the publication */
	spec.dport = 24;
	assert_true(xbt_build(&spec, &f) > 0);
	run_expect_cache(&f, XDP_PASS, XB_R_PASS_PUBLISHING, false);
	spec.dport = 23;
	assert_true(xbt_build(&spec, &f) > 0);
	assert_int_equal(xbt_fx_set_sync(0), 0);

	/* not an entry whose check does not match its contents: a store
	 * interrupted by another on the same CPU */
	for (i = 0; i < n; i++)
		ents[i].val.policy_id = 3;
	flow_slot_write(fd, slot, ents, &k, n);
	run_expect_cache(&f, XDP_DROP, XB_R_DROP_REQUIRES_IPSEC, false);

	/* nor the verdict of another flow in the slot */
	flow_key_tcp4(&other, V4_LOCAL, 24);
	flow_cache_put_allow(fd, slot, ents, n, &other, xbt_fx.generation, 0);
	assert_int_equal(xbt_fx_expect(&f, XDP_DROP, XB_R_DROP_REQUIRES_IPSEC,
				       NO_POL), 0);
	/* also under this flow's tag (tags of 16 bits collide): the tag
	 * only says where not to look, the entry is still compared */
	flow_cache_put_allow(fd, slot, ents, n, &other, xbt_fx.generation, 0);
	flow_tags_put(fd, slot, &k, n);
	run_expect_cache(&f, XDP_DROP, XB_R_DROP_REQUIRES_IPSEC, false);
	/* and an intact entry of this flow under another flow's tag is not
	 * read: a miss, decided again */
	flow_cache_put_allow(fd, slot, ents, n, &k, xbt_fx.generation, 0);
	flow_tags_put(fd, slot, &other, n);
	run_expect_cache(&f, XDP_DROP, XB_R_DROP_REQUIRES_IPSEC, false);

	/* nor an entry of another flow epoch (routes or settings changed
	 * since) */
	flow_cache_put_allow(fd, slot, ents, n, &k, xbt_fx.generation, 1);
	assert_int_equal(xbt_fx_expect(&f, XDP_DROP, XB_R_DROP_REQUIRES_IPSEC,
				       NO_POL), 0);

	/* nor one of an older generation */
	flow_cache_put_allow(fd, slot, ents, n, &k, xbt_fx.generation - 1, 0);
	assert_int_equal(xbt_fx_expect(&f, XDP_DROP, XB_R_DROP_REQUIRES_IPSEC,
				       NO_POL), 0);
}

/* Two flows of one slot: the newer replaces the older, which is then
 * classified again, not answered with the other's verdict. The runs stay
 * on one CPU, so that they meet one CPU's cache. */
static void test_flow_cache_slot_keeps_the_newest_flow(void **state)
{
	struct xbt_pkt_spec spec = { TCP4(V4_LOCAL, 23) };
	int fd = bpf_map__fd(xbt_fx.skel->maps.xb_flow_cache);
	static struct xb_flow_entry ents[MAX_CPUS];
	struct xbt_frame blocked, allowed;
	struct xb_flow_key kb, ka;
	char src[INET_ADDRSTRLEN];
	cpu_set_t all, one;
	__u32 slot, port;
	int n = xbt_fx_num_cpus();

	(void)state;
	assert_true(n > 0);
	assert_int_equal(sched_getaffinity(0, sizeof(all), &all), 0);
	CPU_ZERO(&one);
	CPU_SET(sched_getcpu(), &one);
	assert_int_equal(sched_setaffinity(0, sizeof(one), &one), 0);
	assert_int_equal(xbt_fx_set_state(gw_spd, gw_sas, 0, 0), 0);
	/* V4_LOCAL port 22 is allowed (policy 1), 23 blocked: find an
	 * allowed flow (other source ports) in the blocked one's slot */
	flow_key_tcp4(&kb, V4_LOCAL, 23);
	slot = flow_slot(&kb);
	flow_key_tcp4(&ka, V4_LOCAL, 22);
	for (port = 1; port <= 0xffff * 16; port++) {
		ka.sport = htons((uint16_t)port);
		ka.saddr.b[3] = (uint8_t)(100 + (port >> 16));
		if (flow_slot(&ka) == slot)
			break;
	}
	assert_true(port <= 0xffff * 16);
	assert_true(xbt_build(&spec, &blocked) > 0);
	spec.dport = 22;
	spec.sport = ntohs(ka.sport);
	spec.src = inet_ntop(AF_INET, ka.saddr.b, src, sizeof(src));
	assert_true(xbt_build(&spec, &allowed) > 0);

	run_expect_cache(&blocked, XDP_DROP, XB_R_DROP_REQUIRES_IPSEC, false);
	assert_int_equal(flow_cache_holds(fd, &kb, ents, n), 1);
	run_expect_cache(&allowed, XDP_PASS, XB_R_PASS_POLICY_ALLOW, false);
	assert_int_equal(flow_cache_holds(fd, &ka, ents, n), 1);
	assert_int_equal(flow_cache_holds(fd, &kb, ents, n), 0);
	run_expect_cache(&blocked, XDP_DROP, XB_R_DROP_REQUIRES_IPSEC, false);
	assert_int_equal(flow_cache_holds(fd, &kb, ents, n), 1);
	run_expect_cache(&allowed, XDP_PASS, XB_R_PASS_POLICY_ALLOW, false);
	run_expect_cache(&allowed, XDP_PASS, XB_R_PASS_POLICY_ALLOW, true);
	assert_int_equal(sched_setaffinity(0, sizeof(all), &all), 0);
}

/*
 * An ip rule by tos (tos_setup) makes the forwarded 203.0.113.0/24 and
 * 2001:db8:3::/64 local for packets of DSCP 4 (DS field 0x10). One flow's
 * packets of two DS fields may then take two directions, IN and FWD, so
 * they are two entries of the cache; its ECN bits route nothing, so they
 * make no new entry.
 */
static const char *const tos_setup[] = {
	"ip rule add tos 0x10 lookup 112 pref 100",
	"ip -6 rule add tos 0x10 lookup 112 pref 100",
	"ip route add local 203.0.113.0/24 dev lo table 112",
	"ip -6 route add local 2001:db8:3::/64 dev lo table 112",
};

/* One flow, run with each DS field of ds in turn on one CPU, expecting
 * the verdicts, reasons and cache outcomes given beside it. */
struct ds_run {
	uint8_t ds;
	uint32_t verdict;
	int reason;
	bool hit;
};

static void run_ds_sequence(struct xbt_pkt_spec spec, const struct ds_run *runs,
			    int n_runs)
{
	struct xbt_frame f;
	cpu_set_t all, one;
	int i;

	assert_int_equal(sched_getaffinity(0, sizeof(all), &all), 0);
	CPU_ZERO(&one);
	CPU_SET(sched_getcpu(), &one);
	assert_int_equal(sched_setaffinity(0, sizeof(one), &one), 0);
	for (i = 0; i < n_runs; i++) {
		spec.tos = runs[i].ds;
		assert_true(xbt_build(&spec, &f) > 0);
		run_expect_cache(&f, runs[i].verdict, runs[i].reason,
				 runs[i].hit);
	}
	assert_int_equal(sched_setaffinity(0, sizeof(all), &all), 0);
}

static void test_flow_cache_keys_the_ds_field_that_routes(void **state)
{
	/* forwarded: blocked by policy 6 (v4) or 13 (v6); local by the
	 * rule: no IN policy */
	static const struct ds_run v4[] = {
		{ 0x00, XDP_DROP, XB_R_DROP_POLICY_BLOCK, false },
		{ 0x30, XDP_PASS, XB_R_PASS_NO_POLICY, false },
		{ 0x31, XDP_PASS, XB_R_PASS_NO_POLICY, true },	/* ECT(1) */
		{ 0x00, XDP_DROP, XB_R_DROP_POLICY_BLOCK, true },
		{ 0x03, XDP_DROP, XB_R_DROP_POLICY_BLOCK, true },	/* CE */
	};
	/* IPv6 rules compare the whole DSCP: 0x30 is not 0x10 */
	static const struct ds_run v6[] = {
		{ 0x00, XDP_DROP, XB_R_DROP_POLICY_BLOCK, false },
		{ 0x10, XDP_PASS, XB_R_PASS_NO_POLICY, false },
		{ 0x12, XDP_PASS, XB_R_PASS_NO_POLICY, true },	/* ECT(0) */
		{ 0x30, XDP_DROP, XB_R_DROP_POLICY_BLOCK, false },
		{ 0x00, XDP_DROP, XB_R_DROP_POLICY_BLOCK, true },
	};

	(void)state;
	assert_int_equal(xbt_fx_set_state(gw_spd, gw_sas, 0, 0), 0);
	run_ds_sequence((struct xbt_pkt_spec){ TCP4("203.0.113.7", 80) }, v4,
			sizeof(v4) / sizeof(v4[0]));
	run_ds_sequence((struct xbt_pkt_spec){ TCP6(V6_FWD, 80) }, v6,
			sizeof(v6) / sizeof(v6[0]));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_flow_cache_answers_only_its_flow_generation_and_epoch),
		cmocka_unit_test(test_flow_cache_slot_keeps_the_newest_flow),
		cmocka_unit_test(test_flow_cache_keys_the_ds_field_that_routes),
	};
	unsigned int i;
	int status;

	if (xbt_fx_start("bpf flow cache", &status))
		return status;
	for (i = 0; i < sizeof(tos_setup) / sizeof(tos_setup[0]); i++)
		if (xbt_sh(tos_setup[i]))
			return 1;
	return cmocka_run_group_tests_name("bpf_flow_cache", tests, NULL,
					   xbt_fx_teardown);
}
