/*
 * fuzz_proto.c - libFuzzer target for the control frame codec
 * (common/proto.c): proto_decode on any bytes, every frame it accepts
 * encoded again and decoded to the same type; the probe line and ack
 * parsers on the same bytes.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "err.h"
#include "proto.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* What was accepted must survive its own encoder. */
static void
fuzz_round_trip(const json_t *msg)
{
	uint8_t *frame = NULL;
	size_t len = 0, used = 0;
	json_t *again = NULL;

	if (proto_encode(msg, &frame, &len) != 0)
		return;		/* re-encoding may grow past the limit */
	if (proto_decode(frame, len, &again, &used) != 0 || used != len ||
	    strcmp(proto_type(msg), proto_type(again)) != 0)
		__builtin_trap();
	json_decref(again);
	free(frame);
}

static void
fuzz_frames(const uint8_t *data, size_t size)
{
	size_t off = 0, used;
	json_t *msg;
	int r;

	/* Frames back to back, as a stream delivers them. */
	while (off < size) {
		used = 0;
		r = proto_decode(data + off, size - off, &msg, &used);
		if (r != 0)
			break;
		if (used == 0 || used > size - off)
			__builtin_trap();
		fuzz_round_trip(msg);
		json_decref(msg);
		off += used;
	}
}

static void
fuzz_probe_lines(const uint8_t *data, size_t size)
{
	char token[PROTO_TOKEN_HEXLEN + 1], id[PROTO_PROBE_LINE_MAX];

	(void)proto_probe_parse((const char *)data, size, token,
	    sizeof(token), id, sizeof(id));
	(void)proto_probe_ack_parse((const char *)data, size, id, sizeof(id));
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	fuzz_frames(data, size);
	fuzz_probe_lines(data, size);
	return 0;
}
