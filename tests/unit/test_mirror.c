// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * The mirror (user/mirror/mirror.c) and its publication (user/mirror/publish.c): event
 * semantics, id/pos bookkeeping, and — with root and a bpffs — that what is
 * published reads back equal, and that no key byte reaches a map, the JSON
 * output or the log.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <arpa/inet.h>
#include <linux/rtnetlink.h>
#include <cmocka.h>
#include <bpf/bpf.h>
#include <jansson.h>
#include "lib/log.h"
#include "loader/maps.h"
#include "loader/sync_record.h"
#include "mirror/mirror.h"
#include "mirror/policy_rec.h"
#include "netlink/nl.h"
#include "nlbuild.h"
#include "spd_gen.h"
#include "ruleset_gen.h"
#include "mirror/publish.h"
#include "cli/show.h"
#include "mirror/snapshot.h"
#include "classify_ref.h"
#include "tss_sink_maps.h"

static const unsigned char key_pattern[] = {
	0xde, 0xad, 0xbe, 0xef, 0x5a, 0xa5, 0x3c, 0xc3, 0x0f, 0xf0, 0x69, 0x96,
	0x13, 0x37, 0xc0, 0xde, 0xfa, 0xce, 0xb0, 0x0c,
};

static unsigned char buf[NB_BUF_SIZE] __attribute__((aligned(8)));

static void apply_msg(struct xb_mirror *m, const struct nlmsghdr *nlh, bool rtnl)
{
	struct xb_event ev;

	assert_int_equal(rtnl ? xb_parse_link_msg(nlh, &ev) : xb_parse_xfrm_msg(nlh, &ev), 0);
	assert_int_equal(xb_mirror_apply(m, &ev), 0);
}

/* The mirror's copy of the policy of kernel index `index`: NULL when it
 * has no such policy, or no copy of it (published to a store). */
static const struct xb_mirror_full *find_index(struct xb_mirror *m, __u32 index)
{
	struct xb_mirror_policy *mp = xb_mirror_policy_find(m, index);

	return mp ? xb_mirror_policy_full(m, xb_mirror_policy_id(m, mp)) : NULL;
}

static void test_policy_lifecycle(void **state)
{
	struct xb_mirror m;
	struct nb_policy p;
	const struct xb_mirror_full *mp;
	__u32 pos;

	(void)state;
	assert_int_equal(xb_mirror_init(&m, NULL, 0), 0);
	nb_policy_init(&p, AF_INET, XFRM_POLICY_FWD);
	nb_policy_add_tmpl(&p, false);
	apply_msg(&m, nb_policy_msg(buf, XFRM_MSG_NEWPOLICY, &p), false);
	mp = find_index(&m, p.info.index);
	assert_non_null(mp);
	assert_int_equal(mp->pol.id, 0);
	assert_int_equal(mp->pol.n_tmpls, 1);
	assert_true(mp->pol.xb_flags & XB_POL_REQUIRES_IPSEC);
	assert_int_equal(m.dirty_policies.n, 1);
	assert_int_equal(m.stats_reset.n, 1);
	pos = mp->pol.pos;

	/* Same priority: the kernel keeps its place among equals. */
	xb_mirror_clear_changes(&m);
	p.info.action = XFRM_POLICY_BLOCK;
	apply_msg(&m, nb_policy_msg(buf, XFRM_MSG_UPDPOLICY, &p), false);
	mp = find_index(&m, p.info.index);
	assert_int_equal(mp->pol.action, XFRM_POLICY_BLOCK);
	assert_int_equal(mp->pol.pos, pos);
	assert_int_equal(m.dirty_policies.n, 1);

	/* An identical update changes nothing. */
	xb_mirror_clear_changes(&m);
	apply_msg(&m, nb_policy_msg(buf, XFRM_MSG_UPDPOLICY, &p), false);
	assert_false(xb_mirror_has_changes(&m));

	/* New priority: behind its new equals. */
	p.info.priority = 5;
	apply_msg(&m, nb_policy_msg(buf, XFRM_MSG_UPDPOLICY, &p), false);
	assert_true(find_index(&m, p.info.index)->pol.pos > pos);

	apply_msg(&m, nb_delpolicy_msg(buf, &p, true, true), false);
	assert_null(find_index(&m, p.info.index));
	assert_int_equal(m.policies.count, 0);

	/* The freed slot is reused, and its counters are reset. */
	xb_mirror_clear_changes(&m);
	p.info.index += 8;
	apply_msg(&m, nb_policy_msg(buf, XFRM_MSG_NEWPOLICY, &p), false);
	assert_int_equal(find_index(&m, p.info.index)->pol.id, 0);
	assert_int_equal(m.stats_reset.n, 1);
	xb_mirror_fini(&m);
}

static void test_policy_flush_by_type(void **state)
{
	struct xb_mirror m;
	struct nb_policy p;
	int i;

	(void)state;
	assert_int_equal(xb_mirror_init(&m, NULL, 0), 0);
	nb_policy_init(&p, AF_INET6, XFRM_POLICY_IN);
	for (i = 0; i < 6; i++) {
		p.info.index = 0x200 + 8 * i;
		p.type = i % 2 ? XFRM_POLICY_TYPE_SUB : XFRM_POLICY_TYPE_MAIN;
		p.info.sel.prefixlen_d = 64 + i;
		apply_msg(&m, nb_policy_msg(buf, XFRM_MSG_NEWPOLICY, &p), false);
	}
	assert_int_equal(m.policies.count, 6);
	apply_msg(&m, nb_flushpolicy_msg(buf, true, XFRM_POLICY_TYPE_SUB), false);
	assert_int_equal(m.policies.count, 3);
	apply_msg(&m, nb_flushpolicy_msg(buf, false, 0), false);
	assert_int_equal(m.policies.count, 0);
	xb_mirror_fini(&m);
}

/* A capacity of 4: the fifth policy is refused (-ENOSPC) and marks the
 * mirror incomplete; a re-dump clears the mark and sets it again only if
 * the kernel's SPD still does not fit. */
static void test_policy_capacity(void **state)
{
	struct xb_event ev;
	struct xb_mirror m;
	struct nb_policy p;
	int i;

	(void)state;
	assert_int_equal(xb_mirror_init(&m, NULL, 4), 0);
	assert_int_equal(m.max_policies, 4);
	nb_policy_init(&p, AF_INET, XFRM_POLICY_OUT);
	for (i = 0; i < 4; i++) {
		p.info.index = 0x100 + 8 * i;
		p.info.sel.prefixlen_d = 20 + i;
		apply_msg(&m, nb_policy_msg(buf, XFRM_MSG_NEWPOLICY, &p), false);
	}
	assert_false(m.overflow);
	p.info.index = 0x100 + 8 * 4;
	assert_int_equal(xb_parse_xfrm_msg(nb_policy_msg(buf, XFRM_MSG_NEWPOLICY, &p), &ev), 0);
	assert_int_equal(xb_mirror_apply(&m, &ev), -ENOSPC);
	assert_true(m.overflow);
	assert_int_equal(m.policies.count, 4);
	assert_null(xb_mirror_policy_by_id(&m, 4));
	/* A deletion frees an id, but only a re-dump says the SPD fits. */
	p.info.index = 0x100;
	apply_msg(&m, nb_delpolicy_msg(buf, &p, true, true), false);
	assert_true(m.overflow);
	xb_mirror_mark_unseen(&m);
	assert_false(m.overflow);
	for (i = 1; i < 4; i++) {
		p.info.index = 0x100 + 8 * i;
		p.info.sel.prefixlen_d = 20 + i;
		apply_msg(&m, nb_policy_msg(buf, XFRM_MSG_NEWPOLICY, &p), false);
	}
	xb_mirror_sweep_unseen(&m);
	assert_false(m.overflow);
	assert_int_equal(m.policies.count, 3);
	xb_mirror_fini(&m);
}

/* Freed ids come back lowest first, whatever order they were freed in:
 * new policies fill the holes of the low pages of xb_policies. */
static void test_policy_ids_lowest_first(void **state)
{
	const unsigned int n = 300, n_del = 80;
	bool freed[300] = { false };
	struct xb_mirror_policy *mp;
	struct xb_mirror m;
	struct nb_policy p;
	struct xb_rng rng;
	unsigned int i, k, id, want;

	(void)state;
	xb_rng_seed(&rng, xb_test_seed("policy_ids_lowest_first"));
	assert_int_equal(xb_mirror_init(&m, NULL, n), 0);
	nb_policy_init(&p, AF_INET, XFRM_POLICY_OUT);
	for (i = 0; i < n; i++) {
		p.info.index = 8 * (i + 1) + XFRM_POLICY_OUT;
		apply_msg(&m, nb_policy_msg(buf, XFRM_MSG_NEWPOLICY, &p), false);
	}
	for (k = 0; k < n_del; ) {
		i = xb_rng_below(&rng, n);
		if (freed[i])
			continue;
		p.info.index = 8 * (i + 1) + XFRM_POLICY_OUT;
		mp = xb_mirror_policy_find(&m, p.info.index);
		assert_non_null(mp);
		freed[xb_mirror_policy_id(&m, mp)] = true;
		apply_msg(&m, nb_delpolicy_msg(buf, &p, true, true), false);
		k++;
	}
	for (k = 0, want = 0; k < n_del; k++, want++) {
		while (!freed[want])
			want++;
		p.info.index = 8 * (n + k + 1) + XFRM_POLICY_OUT;
		apply_msg(&m, nb_policy_msg(buf, XFRM_MSG_NEWPOLICY, &p), false);
		mp = xb_mirror_policy_find(&m, p.info.index);
		assert_non_null(mp);
		id = xb_mirror_policy_id(&m, mp);
		assert_int_equal(id, want);
	}
	assert_int_equal(m.policies.count, n);
	xb_mirror_fini(&m);
}

static void test_sa_spi_refcount_and_flush(void **state)
{
	struct xb_spi_key spi;
	struct xb_mirror m;
	struct nb_sa s;

	(void)state;
	assert_int_equal(xb_mirror_init(&m, NULL, 0), 0);
	nb_sa_init(&s, AF_INET, 0x1000);
	apply_msg(&m, nb_sa_msg(buf, XFRM_MSG_NEWSA, &s), false);
	/* Same (daddr, spi, proto), another mark: a second SA. */
	s.mark.v = 5;
	s.mark.m = 0xff;
	apply_msg(&m, nb_sa_msg(buf, XFRM_MSG_NEWSA, &s), false);
	assert_int_equal(m.sas.count, 2);
	assert_int_equal(m.spis.count, 1);
	memset(&spi, 0, sizeof(spi));
	spi.daddr.a[0] = s.info.id.daddr.a4;
	spi.spi = s.info.id.spi;
	spi.family = AF_INET;
	spi.proto = IPPROTO_ESP;
	assert_non_null(xb_mirror_spi_find(&m, &spi));
	assert_int_equal(xb_mirror_spi_find(&m, &spi)->n_sas, 2);

	apply_msg(&m, nb_delsa_msg(buf, &s, true), false);
	assert_int_equal(m.sas.count, 1);
	assert_int_equal(xb_mirror_spi_find(&m, &spi)->n_sas, 1);

	/* Flushing AH leaves ESP alone; IPSEC_PROTO_ANY takes it. */
	apply_msg(&m, nb_flushsa_msg(buf, IPPROTO_AH), false);
	assert_int_equal(m.sas.count, 1);
	apply_msg(&m, nb_flushsa_msg(buf, 255), false);
	assert_int_equal(m.sas.count, 0);
	assert_null(xb_mirror_spi_find(&m, &spi));
	xb_mirror_fini(&m);
}

static void test_mark_and_sweep(void **state)
{
	struct xb_mirror m;
	struct nb_policy p;
	struct nb_sa s;

	(void)state;
	assert_int_equal(xb_mirror_init(&m, NULL, 0), 0);
	nb_policy_init(&p, AF_INET, XFRM_POLICY_IN);
	apply_msg(&m, nb_policy_msg(buf, XFRM_MSG_NEWPOLICY, &p), false);
	p.info.index += 8;
	apply_msg(&m, nb_policy_msg(buf, XFRM_MSG_NEWPOLICY, &p), false);
	nb_sa_init(&s, AF_INET6, 0x2000);
	apply_msg(&m, nb_sa_msg(buf, XFRM_MSG_NEWSA, &s), false);

	/* A re-dump that sees only the second policy. */
	xb_mirror_mark_unseen(&m);
	apply_msg(&m, nb_policy_msg(buf, XFRM_MSG_NEWPOLICY, &p), false);
	xb_mirror_sweep_unseen(&m);
	assert_int_equal(m.policies.count, 1);
	assert_non_null(find_index(&m, p.info.index));
	assert_int_equal(m.sas.count, 0);
	assert_int_equal(m.spis.count, 0);

	/* A dump lists the newest policy first: C (newest), then B. Both are
	 * new to the mirror, so C must get the later position; an event
	 * after the dump is later still. */
	{
		__u32 b = p.info.index + 8, c = p.info.index + 16, e = p.info.index + 24;

		xb_mirror_mark_unseen(&m);
		p.info.index = c;
		apply_msg(&m, nb_policy_msg(buf, XFRM_MSG_NEWPOLICY, &p), false);
		p.info.index = b;
		apply_msg(&m, nb_policy_msg(buf, XFRM_MSG_NEWPOLICY, &p), false);
		xb_mirror_sweep_unseen(&m);
		p.info.index = e;
		apply_msg(&m, nb_policy_msg(buf, XFRM_MSG_NEWPOLICY, &p), false);
		assert_true(find_index(&m, c)->pol.pos > find_index(&m, b)->pol.pos);
		assert_true(find_index(&m, e)->pol.pos > find_index(&m, c)->pol.pos);
	}
	xb_mirror_fini(&m);
}

static void test_xfrm_links_follow_newlink_and_dellink(void **state)
{
	struct nb_link l = { .ifindex = 7, .name = "xfrm7", .kind = "xfrm",
			     .has_data = true, .link = 2, .if_id = 42 };
	struct xb_mirror m;

	(void)state;
	assert_int_equal(xb_mirror_init(&m, NULL, 0), 0);
	apply_msg(&m, nb_link_msg(buf, RTM_NEWLINK, &l), true);
	assert_non_null(xb_mirror_link_by_key(&m, 42));
	/* A new if_id moves the published key. */
	l.if_id = 43;
	apply_msg(&m, nb_link_msg(buf, RTM_NEWLINK, &l), true);
	assert_null(xb_mirror_link_by_key(&m, 42));
	assert_non_null(xb_mirror_link_by_key(&m, 43));
	/* collect_md devices are published under key 0. */
	l.ifindex = 8;
	l.collect_md = true;
	l.if_id = 0;
	apply_msg(&m, nb_link_msg(buf, RTM_NEWLINK, &l), true);
	assert_int_equal(xb_mirror_link_by_key(&m, 0)->ifindex, 8);
	apply_msg(&m, nb_link_msg(buf, RTM_DELLINK, &l), true);
	assert_null(xb_mirror_link_by_key(&m, 0));
	assert_int_equal(m.links.count, 1);
	xb_mirror_fini(&m);
}

/* ---- publication into real maps ---- */

static char pin_root[128];
static char pin_dir[160];

static int maps_setup(void **state)
{
	(void)state;
	if (geteuid() != 0)
		return 0;
	snprintf(pin_root, sizeof(pin_root), "/run/xbt-unit-%d", getpid());
	mkdir(pin_root, 0700);
	if (mount("bpf", pin_root, "bpf", 0, "mode=0700")) {
		rmdir(pin_root);
		pin_root[0] = '\0';
		return 0;
	}
	snprintf(pin_dir, sizeof(pin_dir), "%s/xfrmbpf", pin_root);
	return 0;
}

static int maps_teardown(void **state)
{
	(void)state;
	if (pin_root[0]) {
		xb_pin_dir_remove(pin_dir);
		umount(pin_root);
		rmdir(pin_root);
	}
	return 0;
}

static bool has_key_run(const void *hay, size_t len)
{
	/* Any 4 consecutive key bytes, anywhere. */
	size_t i;

	for (i = 0; i + 4 <= sizeof(key_pattern); i++)
		if (memmem(hay, len, key_pattern + i, 4))
			return true;
	return false;
}

static bool has_key_hex(const char *text)
{
	char hex[16];
	size_t i;

	for (i = 0; i + 4 <= sizeof(key_pattern); i++) {
		snprintf(hex, sizeof(hex), "%02x%02x%02x%02x", key_pattern[i],
			 key_pattern[i + 1], key_pattern[i + 2], key_pattern[i + 3]);
		if (strcasestr(text, hex))
			return true;
		snprintf(hex, sizeof(hex), "%02x %02x %02x", key_pattern[i],
			 key_pattern[i + 1], key_pattern[i + 2]);
		if (strcasestr(text, hex))
			return true;
	}
	return false;
}

/* Every key and value of every map, raw. */
static void assert_no_key_in_maps(const struct xb_maps *maps)
{
	unsigned char key[256], next[256], *val;
	struct bpf_map_info info;
	__u32 ilen;
	int i;

	for (i = 0; i < XB_MAP_COUNT; i++) {
		void *prev = NULL;

		memset(&info, 0, sizeof(info));
		ilen = sizeof(info);
		assert_int_equal(bpf_obj_get_info_by_fd(maps->fd[i], &info, &ilen), 0);
		val = calloc(maps->n_cpus, info.value_size + 8);
		assert_non_null(val);
		while (!bpf_map_get_next_key(maps->fd[i], prev, next)) {
			memcpy(key, next, info.key_size);
			prev = key;
			assert_false(has_key_run(key, info.key_size));
			if (!bpf_map_lookup_elem(maps->fd[i], key, val))
				assert_false(has_key_run(val, (size_t)maps->n_cpus *
							 (info.value_size + 8)));
		}
		free(val);
	}
}

static int apply_cb(const struct xb_event *ev, void *m)
{
	return xb_mirror_apply(m, ev);
}

static void publish_sas_with_keys(struct xb_mirror *m, struct xb_nl *nl)
{
	static unsigned char dgram[4 * NB_BUF_SIZE] __attribute__((aligned(8)));
	struct nlmsghdr *nlh;
	struct nb_sa s;
	size_t off = 0;
	int fam, i;

	for (i = 0; i < 4; i++) {
		fam = i % 2 ? AF_INET6 : AF_INET;
		nb_sa_init(&s, fam, 0x3000 + i);
		s.key = key_pattern;
		s.key_len = sizeof(key_pattern);
		s.crypt = i != 3;
		s.auth = i == 1;
		s.aead = i == 3;
		s.encap = i == 2;
		s.encap_tmpl.encap_type = 2;
		s.encap_tmpl.encap_sport = htons(4500);
		s.encap_tmpl.encap_dport = htons(4500);
		nlh = nb_sa_msg(buf, XFRM_MSG_NEWSA, &s);
		memcpy(dgram + off, nlh, nlh->nlmsg_len);
		off += NLMSG_ALIGN(nlh->nlmsg_len);
	}
	assert_int_equal(xb_nl_dispatch(nl, dgram, off, false, 0,
					apply_cb, m), 0);
}

/* Fresh pinned maps under pin_dir, opened writable; skips the test
 * without a bpffs (no root). */
static void open_pinned_maps(struct xb_maps *maps)
{
	if (!pin_root[0])
		skip();
	assert_int_equal(xb_maps_create(pin_dir, XB_MAX_POLICIES), 0);
	assert_int_equal(xb_maps_open(maps, pin_dir, true), 0);
}

/* As the daemon sets them up: a publisher into maps, and a mirror whose
 * policy store is what the publisher wrote. */
static void open_publisher(struct xb_publisher *pub, struct xb_maps *maps,
			   struct xb_mirror *m)
{
	struct xb_policy_store store;

	assert_int_equal(xb_publisher_init(pub, maps), 0);
	store = xb_publisher_store(pub);
	assert_int_equal(xb_mirror_init(m, &store, maps->max_policies), 0);
}

static void test_publish_roundtrip_no_keys(void **state)
{
	struct xb_publisher pub;
	struct xb_snapshot snap;
	struct xb_maps maps;
	struct xb_mirror m;
	struct xb_nl nl = {};
	struct nb_policy p;
	char *logbuf = NULL, *out;
	size_t loglen = 0, i;
	FILE *logf;
	int saved_stderr;

	(void)state;
	open_pinned_maps(&maps);
	open_publisher(&pub, &maps, &m);

	/* Everything the daemon logs at debug level goes to logbuf. */
	logf = open_memstream(&logbuf, &loglen);
	saved_stderr = dup(STDERR_FILENO);
	fflush(stderr);
	dup2(fileno(tmpfile()), STDERR_FILENO);
	xb_log_set_level(XB_LOG_DEBUG);

	nb_policy_init(&p, AF_INET, XFRM_POLICY_FWD);
	nb_policy_add_tmpl(&p, true);
	nb_policy_add_tmpl(&p, false);
	p.mark.v = 1;
	p.mark.m = 0xf;
	p.if_id = 9;
	apply_msg(&m, nb_policy_msg(buf, XFRM_MSG_NEWPOLICY, &p), false);
	publish_sas_with_keys(&m, &nl);
	assert_int_equal(xb_publish(&pub, &m), 0);
	assert_int_equal(maps.sync->seq % 2, 0);
	assert_true(maps.sync->generation >= 1);

	assert_int_equal(xb_snapshot_read(&maps, &snap), 0);
	assert_true(snap.consistent);
	assert_int_equal(snap.n_policies, 1);
	assert_int_equal(snap.policies[0].pol.index, p.info.index);
	assert_int_equal(snap.policies[0].pol.n_tmpls, 2);
	assert_int_equal(snap.policies[0].tmpls[0].optional, 1);
	assert_int_equal(snap.policies[0].pol.if_id, 9);
	assert_int_equal(snap.n_sas, 4);
	assert_int_equal(snap.sync.n_sas, 4);

	assert_no_key_in_maps(&maps);
	for (i = 0; i < snap.n_sas; i++) {
		json_t *o = xb_sa_json(&snap.sas[i].key, &snap.sas[i].sa);

		out = json_dumps(o, 0);
		assert_false(has_key_hex(out));
		free(out);
		json_decref(o);
	}

	/* Deleting one SA removes it from the maps too. */
	{
		struct nb_sa s;

		nb_sa_init(&s, AF_INET, 0x3000);
		apply_msg(&m, nb_delsa_msg(buf, &s, true), false);
		assert_int_equal(xb_publish(&pub, &m), 0);
		xb_snapshot_free(&snap);
		assert_int_equal(xb_snapshot_read(&maps, &snap), 0);
		assert_int_equal(snap.n_sas, 3);
	}

	/* The log, read back raw and as text. */
	fflush(stderr);
	{
		FILE *f = fdopen(dup(STDERR_FILENO), "r");
		char chunk[4096];
		size_t n;

		rewind(f);
		while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0)
			fwrite(chunk, 1, n, logf);
		fclose(f);
	}
	fclose(logf);
	dup2(saved_stderr, STDERR_FILENO);
	close(saved_stderr);
	xb_log_set_level(XB_LOG_INFO);
	assert_false(has_key_run(logbuf, loglen));
	assert_false(has_key_hex(logbuf));
	free(logbuf);

	xb_snapshot_free(&snap);
	xb_mirror_fini(&m);
	xb_publisher_fini(&pub);
	xb_maps_close(&maps);
}

static unsigned int map_count(const struct xb_maps *maps, int map)
{
	unsigned char key[64], next[64];
	unsigned int n = 0;
	void *prev = NULL;

	while (!bpf_map_get_next_key(maps->fd[map], prev, next)) {
		memcpy(key, next, sizeof(key));
		prev = key;
		n++;
	}
	return n;
}

/* Every field of a policy survives its published form (record and scope),
 * each field set to a value of its own: one left out of either would come
 * back 0. */
static void test_policy_rec_roundtrip(void **state)
{
	struct xb_policy pol, back;
	struct xb_policy_scope scope;
	struct xb_policy_rec rec;
	unsigned char *b = (unsigned char *)&pol;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(pol); i++)
		b[i] = (unsigned char)(i + 1);
	memset(pol.sel.pad, 0, sizeof(pol.sel.pad));
	pol.pad = 0;
	xb_policy_rec_of(&pol, &rec);
	assert_true(xb_policy_scope_of(&pol, &scope));
	xb_policy_from_rec(pol.id, &rec, &scope, &back);
	assert_memory_equal(&back, &pol, sizeof(pol));

	/* Without a scope: those fields 0, and none published. */
	pol.sel.ifindex = 0;
	pol.sel.user = 0;
	pol.mark_v = pol.mark_m = pol.if_id = 0;
	assert_false(xb_policy_scope_of(&pol, &scope));
	xb_policy_from_rec(pol.id, &rec, NULL, &back);
	assert_memory_equal(&back, &pol, sizeof(pol));
}

/* The first template lives in the policy's page of xb_tmpl_pages, the
 * others in xb_tmpls; a shrinking template list leaves no stale entry;
 * once published, the mirror compares against the maps, not its own
 * copy; a policy without templates takes no template page. */
static void test_publish_templates_and_readback(void **state)
{
	struct xb_tmpl tmpls[XB_MAX_TMPLS];
	struct xb_mirror_policy *mp;
	struct xb_publisher pub;
	struct xb_snapshot snap;
	struct xb_policy pol;
	struct xb_maps maps;
	struct xb_mirror m;
	struct nb_policy p, q;
	unsigned int i;

	(void)state;
	open_pinned_maps(&maps);
	open_publisher(&pub, &maps, &m);
	nb_policy_init(&p, AF_INET6, XFRM_POLICY_IN);
	nb_policy_add_tmpl(&p, false);
	nb_policy_add_tmpl(&p, true);
	nb_policy_add_tmpl(&p, false);
	apply_msg(&m, nb_policy_msg(buf, XFRM_MSG_NEWPOLICY, &p), false);
	assert_int_equal(xb_publish(&pub, &m), 0);
	assert_int_equal(map_count(&maps, XB_MAP_POLICIES), 1);
	assert_int_equal(map_count(&maps, XB_MAP_TMPL_PAGES), 1);
	assert_int_equal(map_count(&maps, XB_MAP_TMPLS), 2);
	mp = xb_mirror_policy_find(&m, p.info.index);
	assert_non_null(mp);
	assert_null(xb_mirror_policy_full(&m, xb_mirror_policy_id(&m, mp)));
	assert_int_equal(xb_mirror_policy_get(&m, 0, &pol, tmpls), 0);
	assert_int_equal(pol.n_tmpls, 3);
	assert_int_equal(pol.index, p.info.index);
	assert_int_equal(tmpls[0].optional, 0);
	assert_int_equal(tmpls[1].optional, 1);
	assert_int_equal(tmpls[2].optional, 0);
	assert_int_equal(xb_snapshot_read(&maps, &snap), 0);
	assert_int_equal(snap.n_policies, 1);
	assert_int_equal(snap.policies[0].pol.n_tmpls, 3);
	assert_int_equal(snap.policies[0].tmpls[1].optional, 1);
	xb_snapshot_free(&snap);

	/* The same policy again: equal to what the maps hold. */
	apply_msg(&m, nb_policy_msg(buf, XFRM_MSG_UPDPOLICY, &p), false);
	assert_false(xb_mirror_has_changes(&m));

	/* A different second template is seen as a change. */
	p.tmpls[1].optional = 0;
	apply_msg(&m, nb_policy_msg(buf, XFRM_MSG_UPDPOLICY, &p), false);
	assert_int_equal(m.dirty_policies.n, 1);
	assert_int_equal(xb_publish(&pub, &m), 0);

	/* One template left: xb_tmpls empties. */
	p.n_tmpls = 1;
	apply_msg(&m, nb_policy_msg(buf, XFRM_MSG_UPDPOLICY, &p), false);
	assert_int_equal(xb_publish(&pub, &m), 0);
	assert_int_equal(map_count(&maps, XB_MAP_TMPLS), 0);
	assert_int_equal(xb_snapshot_read(&maps, &snap), 0);
	assert_int_equal(snap.policies[0].pol.n_tmpls, 1);
	assert_int_equal(snap.policies[0].tmpls[0].optional, 0);
	xb_snapshot_free(&snap);

	/* A second policy, without templates, and a third with one (ids 1
	 * and 2): the third's template joins the first's page, which then
	 * keeps it when the first goes (read back from the map). */
	nb_policy_init(&q, AF_INET, XFRM_POLICY_FWD);
	q.info.index = p.info.index + 8;
	apply_msg(&m, nb_policy_msg(buf, XFRM_MSG_NEWPOLICY, &q), false);
	q.info.index += 8;
	nb_policy_add_tmpl(&q, true);
	apply_msg(&m, nb_policy_msg(buf, XFRM_MSG_NEWPOLICY, &q), false);
	assert_int_equal(xb_publish(&pub, &m), 0);
	assert_int_equal(map_count(&maps, XB_MAP_TMPL_PAGES), 1);
	apply_msg(&m, nb_delpolicy_msg(buf, &p, true, true), false);
	assert_int_equal(xb_publish(&pub, &m), 0);
	assert_int_equal(map_count(&maps, XB_MAP_POLICIES), 1);
	assert_int_equal(map_count(&maps, XB_MAP_TMPL_PAGES), 1);
	assert_int_equal(xb_snapshot_read(&maps, &snap), 0);
	assert_int_equal(snap.n_policies, 2);
	for (i = 0; i < 2; i++) {
		assert_int_equal(snap.policies[i].pol.n_tmpls, snap.policies[i].pol.id == 2);
		if (snap.policies[i].pol.n_tmpls)
			assert_int_equal(snap.policies[i].tmpls[0].optional, 1);
	}
	xb_snapshot_free(&snap);
	assert_int_equal(xb_mirror_policy_get(&m, 2, &pol, tmpls), 0);
	assert_int_equal(pol.n_tmpls, 1);
	assert_int_equal(tmpls[0].optional, 1);

	/* The first's slot reused by a policy with two templates. */
	p.info.index += 24;
	p.n_tmpls = 2;
	apply_msg(&m, nb_policy_msg(buf, XFRM_MSG_NEWPOLICY, &p), false);
	assert_int_equal(xb_publish(&pub, &m), 0);
	assert_int_equal(map_count(&maps, XB_MAP_POLICIES), 1);
	assert_int_equal(map_count(&maps, XB_MAP_TMPLS), 1);
	assert_int_equal(xb_mirror_policy_get(&m, 0, &pol, tmpls), 0);
	assert_int_equal(pol.index, p.info.index);
	assert_int_equal(pol.n_tmpls, 2);
	assert_int_equal(tmpls[0].optional, 0);

	/* Every policy with a template gone: so is the template page. */
	apply_msg(&m, nb_delpolicy_msg(buf, &p, true, true), false);
	apply_msg(&m, nb_delpolicy_msg(buf, &q, true, true), false);
	assert_int_equal(xb_publish(&pub, &m), 0);
	assert_int_equal(map_count(&maps, XB_MAP_POLICIES), 1);
	assert_int_equal(map_count(&maps, XB_MAP_TMPL_PAGES), 0);
	xb_mirror_fini(&m);
	xb_publisher_fini(&pub);
	xb_maps_close(&maps);
}

/* Policy i of test_publish_policy_pages: its own index and priority. */
static void page_policy(struct nb_policy *p, unsigned int i)
{
	nb_policy_init(p, AF_INET, XFRM_POLICY_FWD);
	p->info.index = 8 * (i + 1) + XFRM_POLICY_FWD;
	p->info.priority = 100 + i;
}

/* The records of the policies whose ids share a page of xb_policies are
 * written together: a change to one keeps the others (read back from the
 * map, as the mirror keeps no copy), an emptied page goes, and the
 * lowest free id is reused first, so new policies fill the holes. */
static void test_publish_policy_pages(void **state)
{
	const unsigned int n = 2 * XB_POLICY_PAGE_RECS + 2;
	struct xb_tmpl tmpls[XB_MAX_TMPLS];
	struct xb_publisher pub;
	struct xb_snapshot snap;
	struct xb_policy pol;
	struct xb_maps maps;
	struct xb_mirror m;
	struct nb_policy p;
	unsigned int i;

	(void)state;
	open_pinned_maps(&maps);
	open_publisher(&pub, &maps, &m);
	for (i = 0; i < n; i++) {
		page_policy(&p, i);
		apply_msg(&m, nb_policy_msg(buf, XFRM_MSG_NEWPOLICY, &p), false);
	}
	assert_int_equal(xb_publish(&pub, &m), 0);
	assert_int_equal(map_count(&maps, XB_MAP_POLICIES), 3);
	assert_int_equal(map_count(&maps, XB_MAP_TMPL_PAGES), 0);
	assert_int_equal(xb_snapshot_read(&maps, &snap), 0);
	assert_int_equal(snap.n_policies, n);
	xb_snapshot_free(&snap);

	/* Two of the second page go, and one of the third is updated. */
	page_policy(&p, XB_POLICY_PAGE_RECS + 5);
	apply_msg(&m, nb_delpolicy_msg(buf, &p, true, true), false);
	page_policy(&p, XB_POLICY_PAGE_RECS + 3);
	apply_msg(&m, nb_delpolicy_msg(buf, &p, true, true), false);
	page_policy(&p, n - 1);
	p.info.priority = 7;
	apply_msg(&m, nb_policy_msg(buf, XFRM_MSG_UPDPOLICY, &p), false);
	assert_int_equal(xb_publish(&pub, &m), 0);
	assert_int_equal(map_count(&maps, XB_MAP_POLICIES), 3);
	assert_int_equal(xb_snapshot_read(&maps, &snap), 0);
	assert_int_equal(snap.n_policies, n - 2);
	/* sorted by priority: the updated one first */
	assert_int_equal(snap.policies[0].pol.priority, 7);
	assert_int_equal(snap.policies[0].pol.id, n - 1);
	xb_snapshot_free(&snap);
	assert_int_equal(xb_mirror_policy_get(&m, XB_POLICY_PAGE_RECS + 4, &pol, tmpls), 0);
	assert_int_equal(pol.priority, 100 + XB_POLICY_PAGE_RECS + 4);
	assert_int_equal(xb_mirror_policy_get(&m, n - 2, &pol, tmpls), 0);
	assert_int_equal(pol.priority, 100 + n - 2);

	/* A new policy takes the lowest free id, in the second page, whose
	 * other records stay. */
	page_policy(&p, n);
	apply_msg(&m, nb_policy_msg(buf, XFRM_MSG_NEWPOLICY, &p), false);
	assert_int_equal(xb_mirror_policy_id(&m, xb_mirror_policy_find(&m, p.info.index)),
			 XB_POLICY_PAGE_RECS + 3);
	assert_int_equal(xb_publish(&pub, &m), 0);
	assert_int_equal(xb_snapshot_read(&maps, &snap), 0);
	assert_int_equal(snap.n_policies, n - 1);
	xb_snapshot_free(&snap);
	for (i = XB_POLICY_PAGE_RECS; i < 2 * XB_POLICY_PAGE_RECS; i++) {
		assert_int_equal(xb_mirror_policy_get(&m, i, &pol, tmpls),
				 i == XB_POLICY_PAGE_RECS + 5 ? -ENOENT : 0);
		if (i != XB_POLICY_PAGE_RECS + 5)
			assert_int_equal(pol.priority,
					 100 + (i == XB_POLICY_PAGE_RECS + 3 ? n : i));
	}

	/* The first page emptied: its element goes. */
	for (i = 0; i < XB_POLICY_PAGE_RECS; i++) {
		page_policy(&p, i);
		apply_msg(&m, nb_delpolicy_msg(buf, &p, true, true), false);
	}
	assert_int_equal(xb_publish(&pub, &m), 0);
	assert_int_equal(map_count(&maps, XB_MAP_POLICIES), 2);
	assert_int_equal(xb_snapshot_read(&maps, &snap), 0);
	assert_int_equal(snap.n_policies, n - 1 - XB_POLICY_PAGE_RECS);
	xb_snapshot_free(&snap);
	xb_mirror_fini(&m);
	xb_publisher_fini(&pub);
	xb_maps_close(&maps);
}

/* A map that refuses an entry because it is full: the publication fails,
 * names the map (the daemon survives that one), and the maps are left
 * unsynced; the next publication that fits clears the name. */
static void test_publish_full_map(void **state)
{
	struct xb_publisher pub;
	struct xb_maps maps;
	struct xb_mirror m;
	struct nb_policy p;
	int i;

	(void)state;
	if (!pin_root[0])
		skip();
	/* Four policies: xb_tmpls holds four templates past the first. */
	assert_int_equal(xb_maps_create(pin_dir, 4), 0);
	assert_int_equal(xb_maps_open(&maps, pin_dir, true), 0);
	assert_int_equal(maps.max_policies, 4);
	open_publisher(&pub, &maps, &m);
	assert_int_equal(pub.full_map, -1);
	xb_sync_set_synced(&maps, true);

	nb_policy_init(&p, AF_INET, XFRM_POLICY_OUT);
	for (i = 0; i < XB_MAX_TMPLS; i++)
		nb_policy_add_tmpl(&p, false);
	apply_msg(&m, nb_policy_msg(buf, XFRM_MSG_NEWPOLICY, &p), false);
	assert_int_equal(xb_publish(&pub, &m), -E2BIG);
	assert_int_equal(pub.full_map, XB_MAP_TMPLS);
	assert_int_equal(maps.sync->synced, 0);
	assert_int_equal(map_count(&maps, XB_MAP_TMPLS), 4);
	assert_false(xb_mirror_has_changes(&m));

	/* Deleted: nothing more to write, and nothing full. */
	apply_msg(&m, nb_delpolicy_msg(buf, &p, true, true), false);
	assert_int_equal(xb_publish(&pub, &m), 0);
	assert_int_equal(pub.full_map, -1);
	assert_int_equal(map_count(&maps, XB_MAP_TMPLS), 0);
	assert_int_equal(map_count(&maps, XB_MAP_POLICIES), 0);
	xb_mirror_fini(&m);
	xb_publisher_fini(&pub);
	xb_maps_close(&maps);
}

/* The publisher hands the builder the changed policy ids: xb_tss follows
 * inserts, updates and deletes, also when an id comes and goes between two
 * publications. */
static void test_publish_feeds_classifier(void **state)
{
	struct xb_publisher pub;
	struct xb_maps maps;
	struct xb_mirror m;
	struct nb_policy p, q;

	(void)state;
	open_pinned_maps(&maps);
	open_publisher(&pub, &maps, &m);
	nb_policy_init(&p, AF_INET, XFRM_POLICY_IN);
	apply_msg(&m, nb_policy_msg(buf, XFRM_MSG_NEWPOLICY, &p), false);
	assert_int_equal(xb_publish(&pub, &m), 0);
	/* a bucket of one policy: in xb_tss_pair */
	assert_int_equal(map_count(&maps, XB_MAP_TSS_PAIR), 1);
	assert_int_equal(map_count(&maps, XB_MAP_TSS), 0);

	/* Added and deleted before the next publication: never published. */
	q = p;
	q.info.index += 8;
	q.info.sel.prefixlen_d = 16;
	apply_msg(&m, nb_policy_msg(buf, XFRM_MSG_NEWPOLICY, &q), false);
	apply_msg(&m, nb_delpolicy_msg(buf, &q, true, true), false);
	assert_int_equal(xb_publish(&pub, &m), 0);
	assert_int_equal(map_count(&maps, XB_MAP_TSS_PAIR), 1);

	/* Another shape: the old bucket goes, the new one comes. */
	p.info.sel.prefixlen_s = 8;
	apply_msg(&m, nb_policy_msg(buf, XFRM_MSG_UPDPOLICY, &p), false);
	assert_int_equal(xb_publish(&pub, &m), 0);
	assert_int_equal(map_count(&maps, XB_MAP_TSS_PAIR), 1);
	assert_int_equal(maps.sync->shape_overflows, 0);

	apply_msg(&m, nb_delpolicy_msg(buf, &p, true, true), false);
	assert_int_equal(xb_publish(&pub, &m), 0);
	assert_int_equal(map_count(&maps, XB_MAP_TSS_PAIR), 0);
	xb_mirror_fini(&m);
	xb_publisher_fini(&pub);
	xb_maps_close(&maps);
}

/* A realistic acl rule set of n FWD IPv4 policies (n set to how many). */
static struct xb_policy *acl_rule_set(size_t *n)
{
	struct xb_rs_cfg cfg = { XB_RS_ACL, AF_INET, *n, XFRM_POLICY_FWD, false };
	struct xb_policy *pols = calloc(*n, sizeof(*pols));
	struct xb_rng rng;

	assert_non_null(pols);
	xb_rng_seed(&rng, 0x5eed0001);
	*n = xb_rs_gen(&rng, &cfg, pols, *n);
	return pols;
}

/* pols[0..n) into the mirror, the last rule first (as a dump lists an
 * SPD loaded in rule order); publish_each: a publication after each, as
 * the live events of an SPD that grows while the daemon runs. */
static void apply_last_rule_first(struct xb_mirror *m, struct xb_publisher *pub,
				  const struct xb_policy *pols, size_t n, bool publish_each)
{
	struct xb_event ev = { .kind = XB_EV_POLICY_UPSERT };
	size_t i;

	for (i = n; i-- > 0;) {
		ev.policy.pol = pols[i];
		ev.policy.pol.id = 0;
		ev.policy.pol.pos = 0;
		ev.policy.pol.index = (__u32)(i + 1) << 3 | XFRM_POLICY_FWD;
		assert_int_equal(xb_mirror_apply(m, &ev), 0);
		if (publish_each)
			assert_int_equal(xb_publish(pub, m), 0);
	}
}

/*
 * A bulk publish (start-up, re-dump) hands the builder the policies in the
 * kernel's order of precedence, whatever order they came in: here a
 * realistic SPD received newest first, as a dump lists it. The builder
 * opens a table for a policy no existing table takes, so in that order
 * each table is opened by the best policy it holds, and the tables' ids
 * (their order of opening) follow their positions (the order of their
 * best priorities) in the published list. Received as it came, 19-31 of
 * 41-61 neighbours were out of that order. A fixed SPD: the property is
 * exact only while no bucket overflows (make_room() moves policies).
 */
static void test_publish_builds_by_precedence(void **state)
{
	__u32 list = XB_SHAPE_LIST_IDX(XB_VIEW_FWD, XB_PTYPE_MAIN, XB_FAM_V4);
	static struct xb_shape_list published;
	struct xb_publisher pub;
	struct xb_policy *pols;
	struct xb_maps maps;
	struct xb_mirror m;
	size_t n = 4000, i;

	(void)state;
	pols = acl_rule_set(&n);
	open_pinned_maps(&maps);
	open_publisher(&pub, &maps, &m);
	apply_last_rule_first(&m, &pub, pols, n, false);
	assert_int_equal(xb_publish(&pub, &m), 0);
	assert_int_equal(bpf_map_lookup_elem(maps.fd[XB_MAP_SHAPE_LISTS], &list, &published), 0);
	assert_int_equal(published.n_policies, n);
	assert_true(published.count > 10);
	for (i = 0; i + 1 < published.count; i++)
		assert_true(published.shapes[i].id < published.shapes[i + 1].id);
	free(pols);
	xb_mirror_fini(&m);
	xb_publisher_fini(&pub);
	xb_maps_close(&maps);
}

/* Pairs of neighbours in a published list whose table ids (their order
 * of opening) are not in the order of their positions (best priorities). */
static size_t tables_opened_out_of_order(const struct xb_maps *maps, __u32 list,
					 __u32 n_policies)
{
	static struct xb_shape_list published;
	size_t i, n = 0;

	assert_int_equal(bpf_map_lookup_elem(maps->fd[XB_MAP_SHAPE_LISTS], &list, &published), 0);
	assert_int_equal(published.n_policies, n_policies);
	assert_true(published.count > 10);
	for (i = 0; i + 1 < published.count; i++)
		n += published.shapes[i].id > published.shapes[i + 1].id;
	return n;
}

/* Flows drawn from the SPD: the published classifier, read as the
 * datapath reads it, decides each as the reference classifier does. */
static void assert_decides_as_reference(struct xb_maps *maps, const struct xb_mirror *m)
{
	static const __u8 accept_all[4];
	struct xb_tss_maps tm = {
		.tss_fd = maps->fd[XB_MAP_TSS],
		.pair_fd = maps->fd[XB_MAP_TSS_PAIR],
		.lists_fd = maps->fd[XB_MAP_SHAPE_LISTS],
		.index_fd = maps->fd[XB_MAP_TSS_INDEX],
		.filter = maps->filter,
	};
	struct xb_ref_decision ref, got;
	struct xb_tss_source src;
	struct xb_policy *pols;
	struct xb_tmpl tmpls[XB_MAX_TMPLS];
	struct xb_flow fl;
	struct xb_rng rng;
	size_t n = 0, i;
	__u32 id;

	pols = calloc(m->policies.count, sizeof(*pols));
	assert_non_null(pols);
	for (id = 0; id < m->next_id; id++)
		if (!xb_mirror_policy_get(m, id, &pols[n], tmpls))
			n++;
	assert_int_equal(n, m->policies.count);
	xb_tss_maps_source(&tm, &src);
	xb_rng_seed(&rng, 0x5eed0002);
	for (i = 0; i < 4000; i++) {
		xb_rs_flow(&rng, pols, n, &fl);
		xb_ref_classify_input(pols, n, XFRM_POLICY_FWD, &fl, accept_all, &ref);
		assert_int_equal(xb_tss_lookup(&src, XFRM_POLICY_FWD, &fl, accept_all, &got), 0);
		assert_int_equal(got.reason, ref.reason);
		assert_int_equal(got.policy_id, ref.policy_id);
	}
	free(pols);
}

/*
 * Live adds are placed first come, and never moved: the same kind of SPD
 * added one publication a policy, the last rule first, leaves tables
 * whose best was raised after they opened, which the builder counts. A
 * relayout then publishes what a bulk build in order does: tables opened
 * in the order of their best priorities (test_publish_builds_by_precedence),
 * no drift counted, and every flow decided as the reference decides it,
 * before and after.
 */
static void test_relayout_undoes_live_drift(void **state)
{
	__u32 list = XB_SHAPE_LIST_IDX(XB_VIEW_FWD, XB_PTYPE_MAIN, XB_FAM_V4);
	struct xb_publisher pub;
	struct xb_policy *pols;
	struct xb_maps maps;
	struct xb_mirror m;
	size_t n = 2000;
	__u64 window_ns;
	bool published;

	(void)state;
	pols = acl_rule_set(&n);
	open_pinned_maps(&maps);
	open_publisher(&pub, &maps, &m);
	apply_last_rule_first(&m, &pub, pols, n, true);
	assert_true(xb_publish_relayout_due(&pub, &m));
	assert_true(tables_opened_out_of_order(&maps, list, n) > 0);
	assert_decides_as_reference(&maps, &m);

	assert_int_equal(xb_publish_relayout(&pub, &m, &window_ns, &published), 0);
	assert_true(published);
	assert_true(window_ns > 0);
	assert_false(xb_publish_relayout_due(&pub, &m));
	assert_int_equal(xb_tss_raised_tables(pub.tss), 0);
	assert_int_equal(tables_opened_out_of_order(&maps, list, n), 0);
	assert_int_equal(maps.sync->seq & 1, 0);	/* its window closed */
	assert_decides_as_reference(&maps, &m);
	free(pols);
	xb_mirror_fini(&m);
	xb_publisher_fini(&pub);
	xb_maps_close(&maps);
}

/* A restart on pins a previous daemon left must not keep its defaults: the
 * new mirror publishes only defaults that differ from "accept". */
static void test_clear_resets_defaults(void **state)
{
	struct xb_maps maps;

	(void)state;
	open_pinned_maps(&maps);
	maps.sync->default_action[XFRM_POLICY_IN] = XB_DEFAULT_BLOCK;
	maps.sync->default_action[XFRM_POLICY_FWD] = XB_DEFAULT_BLOCK;
	assert_int_equal(xb_publish_clear(&maps), 0);
	assert_int_equal(maps.sync->default_action[XFRM_POLICY_IN], XB_DEFAULT_ACCEPT);
	assert_int_equal(maps.sync->default_action[XFRM_POLICY_FWD], XB_DEFAULT_ACCEPT);
	assert_int_equal(maps.sync->seq % 2, 0);
	xb_maps_close(&maps);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_policy_lifecycle),
		cmocka_unit_test(test_policy_flush_by_type),
		cmocka_unit_test(test_policy_capacity),
		cmocka_unit_test(test_policy_ids_lowest_first),
		cmocka_unit_test(test_policy_rec_roundtrip),
		cmocka_unit_test(test_sa_spi_refcount_and_flush),
		cmocka_unit_test(test_mark_and_sweep),
		cmocka_unit_test(test_xfrm_links_follow_newlink_and_dellink),
		cmocka_unit_test_setup_teardown(test_publish_roundtrip_no_keys,
						maps_setup, maps_teardown),
		cmocka_unit_test_setup_teardown(test_publish_templates_and_readback,
						maps_setup, maps_teardown),
		cmocka_unit_test_setup_teardown(test_publish_policy_pages,
						maps_setup, maps_teardown),
		cmocka_unit_test_setup_teardown(test_publish_full_map,
						maps_setup, maps_teardown),
		cmocka_unit_test_setup_teardown(test_publish_builds_by_precedence,
						maps_setup, maps_teardown),
		cmocka_unit_test_setup_teardown(test_relayout_undoes_live_drift,
						maps_setup, maps_teardown),
		cmocka_unit_test_setup_teardown(test_publish_feeds_classifier,
						maps_setup, maps_teardown),
		cmocka_unit_test_setup_teardown(test_clear_resets_defaults,
						maps_setup, maps_teardown),
	};

	return cmocka_run_group_tests_name("mirror", tests, NULL, NULL);
}
