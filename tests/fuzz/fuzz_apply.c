/*
 * fuzz_apply.c - libFuzzer harness for the pure half of nft/apply
 * (nft/apply_plan.h): the script screen, the echo reader, the plan file
 * decoder and the listing readers, on the same bytes.
 *
 * The first input byte picks what the rest is: a script (screened, its
 * provisional plan encoded, decoded and resolved against itself), an
 * echo, a plan file or a listing.  Whatever is accepted is encoded,
 * decoded again and turned into its undo, so the writers see whatever
 * the readers stored.
 *
 *   clang -g -O1 -D_GNU_SOURCE -fsanitize=fuzzer,address,undefined \
 *       -Icommon -Inft tests/fuzz/fuzz_apply.c nft/apply_plan.c \
 *       nft/apply_screen.c nft/apply_live.c common/err.c -ljansson \
 *       -o build/fuzz_apply
 *   ./build/fuzz_apply -max_total_time=60
 *
 * make check runs it briefly (fuzz-smoke), as every tests/fuzz target.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "apply_plan.h"
#include "err.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Encode, decode, undo: the round trip every accepted plan must take. */
static void
fuzz_plan(struct apply_plan *p, const char *text)
{
	struct apply_plan *q = NULL, *r = NULL;
	char *enc = NULL, *json = NULL, *undo = NULL;
	int loaded;

	if (apply_plan_encode(p, &enc) == 0 &&
	    apply_plan_decode(enc, &q, NULL, 0) == 0) {
		if (apply_plan_provisional(q) &&
		    apply_plan_resolve(q, text, &r, &loaded, NULL, 0) == 0)
			apply_plan_free(r);
		(void)apply_plan_keep_live(q, text, NULL);
		(void)apply_plan_drop_existing(q, text);
		if (apply_plan_undo(q, -1, &json, &undo) == 0) {
			free(json);
			free(undo);
		}
		apply_plan_free(q);
	}
	free(enc);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct apply_plan *p = NULL;
	char *text, *batch = NULL;
	int r = -1;

	if (size < 1 || size > 65536 || (text = malloc(size)) == NULL)
		return 0;
	memcpy(text, data + 1, size - 1);
	text[size - 1] = '\0';
	switch (data[0] % 4) {
	case 0:
		if ((r = apply_screen(text, &batch, &p, NULL, 0)) == 0) {
			(void)apply_plan_watermarks(p, text);
			free(batch);
		}
		break;
	case 1:
		r = apply_plan_from_echo(text, &p, NULL, 0);
		break;
	case 2:
		r = apply_plan_decode(text, &p, NULL, 0);
		break;
	default:
		if ((p = NULL, r = apply_screen("add rule inet filter input "
		    "accept\n", &batch, &p, NULL, 0)) == 0) {
			(void)apply_plan_watermarks(p, text);
			free(batch);
		}
		break;
	}
	if (r == 0)
		fuzz_plan(p, text);
	apply_plan_free(p);
	free(text);
	return 0;
}
