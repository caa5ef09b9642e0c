/*
 * fuzz_sg.c - libFuzzer harness for the cloud security-group readers,
 * evaluator and fix writer (agent/sg*.c).
 *
 * The first input byte picks the client (public v4, private v4, v6,
 * v4-mapped), whether the server's own address is known, the client's
 * ephemeral range and what was measured, so that every branch of the
 * evaluator is reachable; the rest is the provider's JSON.  Whatever
 * parses is evaluated, every view is read and checked, the JSON is
 * built, and every script line must be a comment or a provider command.
 *
 *   clang -g -O1 -D_GNU_SOURCE -fsanitize=fuzzer,address,undefined \
 *       -Icommon -Iagent tests/fuzz/fuzz_sg.c agent/sg.c agent/sg_*.c \
 *       common/addr.c common/err.c common/readfile.c -ljansson \
 *       -o build/fuzz_sg
 *   ./build/fuzz_sg -max_total_time=60 tests/fuzz/corpus/sg
 *
 * Seeds in tests/fuzz/corpus/sg are the unit fixtures with a selector
 * byte in front.  make check runs it briefly (fuzz-smoke), as every
 * tests/fuzz target.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "addr.h"
#include "err.h"
#include "sg.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char *const fuzz_clients[] = {
	"198.51.100.7", "192.0.2.3", "2001:db8:100::7", "::ffff:198.51.100.7",
};

static const char *const fuzz_causes[] = {
	NULL, "path-silent-drop", "return-path", "routing-gap",
};

/* Runs of a path are in order, inside the path and never empty. */
static void
fuzz_check(const struct sg_group_view *v)
{
	size_t i;

	if (v->provider == NULL || v->group == NULL || v->file == NULL ||
	    v->kind == NULL || (v->nfix > 0 && v->fix == NULL))
		__builtin_trap();
	for (i = 0; i < v->npaths; i++) {
		const struct sg_path_view *p = &v->paths[i];

		if (p->rule == NULL || p->name == NULL ||
		    p->ports.lo > p->ports.hi || (unsigned)p->allowed > 2 ||
		    (p->explains != 0 && p->explains != 1))
			__builtin_trap();
		if (i > 0 && strcmp(v->paths[i - 1].name, p->name) == 0 &&
		    v->paths[i - 1].ports.hi + 1u != p->ports.lo)
			__builtin_trap();
	}
	for (i = 0; i < v->nfix; i++)
		if (v->fix[i] == NULL || strchr(v->fix[i], '\n') != NULL)
			__builtin_trap();
}

/* Every line of a script is a comment, `set -eu` or one command of the
 * provider's CLI: nothing from the file may start a line of its own. */
static void
fuzz_script(const char *text)
{
	static const char *const starts[] = {
		"#", "set -eu", "aws ec2 ", "az network nsg rule create ",
		"gcloud compute firewall-rules create ",
	};
	const char *line = text, *nl;
	size_t k;

	for (; *line != '\0'; line = nl + 1) {
		for (k = 0; k < sizeof(starts) / sizeof(starts[0]); k++)
			if (strncmp(line, starts[k], strlen(starts[k])) == 0)
				break;
		if (k == sizeof(starts) / sizeof(starts[0]) ||
		    (nl = strchr(line, '\n')) == NULL)
			__builtin_trap();
	}
}

static void
fuzz_input(struct sg_input *in, struct sockaddr_storage *local,
    struct sg_measure m[2], uint8_t sel)
{
	socklen_t l;

	memset(in, 0, sizeof(*in));
	(void)addr_parse_ip(fuzz_clients[sel & 3], &in->client, &l);
	(void)addr_parse_ip("203.0.113.10", &in->server, &l);
	(void)addr_parse_ip("192.0.2.4", local, &l);
	if (sel & 4) {
		in->server_local = local;
		in->nserver_local = 1;
	}
	in->control_port = 21;
	in->passive = (struct portrange){ 30000, 30099 };
	in->active_sport = 20;
	in->active_dports = (struct portrange){ 40000, 40009 };
	in->channel_port = 7021;
	if (sel & 8)
		in->client_ephemeral = (struct portrange){ 32768, 60999 };
	m[0] = (struct sg_measure){ { 30000, 30049 }, SG_PASSED, NULL };
	m[1] = (struct sg_measure){ { 30050, 30099 },
	    (enum sg_measured)((sel >> 4) % 3), fuzz_causes[sel >> 6] };
	in->measure[SG_PATH_PASSIVE] = m;
	in->nmeasure[SG_PATH_PASSIVE] = 2;
	in->measure[SG_PATH_CONTROL] = &m[1];
	in->nmeasure[SG_PATH_CONTROL] = 1;
	in->measure[SG_PATH_ACTIVE] = &m[1];
	in->nmeasure[SG_PATH_ACTIVE] = 1;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct sockaddr_storage local;
	struct sg_measure m[2];
	struct sg_group_view v;
	struct sg_input in;
	const struct sg *sgs[1];
	struct sg *sg = NULL;
	char err[512], *text;
	json_t *j;
	size_t i;
	int p;

	if (size < 1)
		return 0;
	if (sg_parse("fuzz.json", (const char *)data + 1, size - 1, &sg, err,
	    sizeof(err)) != 0)
		return 0;
	fuzz_input(&in, &local, m, data[0]);
	if (sg_eval(sg, &in, err, sizeof(err)) == 0) {
		for (i = 0; sg_group(sg, i, &v) == 0; i++)
			fuzz_check(&v);
		if (i != sg_count(sg))
			__builtin_trap();
		j = sg_json(sg);
		json_decref(j);
		sgs[0] = sg;
		for (p = 0; p < SG_NPROVIDERS; p++) {
			text = NULL;
			if (sg_script(sgs, 1, (enum sg_provider)p, &text) == 0) {
				fuzz_script(text);
				free(text);
			}
		}
	}
	sg_free(sg);
	return 0;
}
