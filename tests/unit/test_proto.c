/*
 * test_proto.c - the control-protocol codec: framing, decoder robustness,
 * probe lines.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "err.h"
#include "proto.h"

#define TOKEN	"0123456789abcdef0123456789abcdef"

/* Build a frame around arbitrary payload bytes (may hold NULs). */
static uint8_t *
make_frame(const void *payload, size_t plen, size_t *flen)
{
	uint8_t *f = malloc(PROTO_HDR_LEN + plen + 1);

	assert_non_null(f);
	f[0] = (uint8_t)(plen >> 24);
	f[1] = (uint8_t)(plen >> 16);
	f[2] = (uint8_t)(plen >> 8);
	f[3] = (uint8_t)plen;
	memcpy(f + PROTO_HDR_LEN, payload, plen);
	*flen = PROTO_HDR_LEN + plen;
	return f;
}

static int
decode_text(const char *payload)
{
	size_t flen, consumed = 12345;
	uint8_t *f = make_frame(payload, strlen(payload), &flen);
	json_t *msg = (json_t *)0x1;
	int r = proto_decode(f, flen, &msg, &consumed);

	if (r == 0)
		json_decref(msg);
	else {
		/* Out-parameters stay untouched on failure. */
		assert_ptr_equal(msg, (json_t *)0x1);
		assert_int_equal(consumed, 12345);
	}
	free(f);
	return r;
}

static void
test_round_trip(void **state)
{
	json_t *msg, *out = NULL;
	uint8_t *frame = NULL;
	size_t len, consumed;
	uint32_t plen;

	(void)state;
	msg = proto_msg_new("hello");
	assert_non_null(msg);
	assert_int_equal(json_object_set_new(msg, "token",
	    json_string(TOKEN)), 0);
	assert_int_equal(json_object_set_new(msg, "time_ms",
	    json_integer(1700000000123LL)), 0);
	assert_int_equal(proto_encode(msg, &frame, &len), 0);
	plen = (uint32_t)frame[0] << 24 | (uint32_t)frame[1] << 16 |
	    (uint32_t)frame[2] << 8 | frame[3];
	assert_int_equal(plen + PROTO_HDR_LEN, len);
	/* Compact encoding: no blanks after separators. */
	assert_null(memchr(frame + PROTO_HDR_LEN, ' ', plen));

	assert_int_equal(proto_decode(frame, len, &out, &consumed), 0);
	assert_int_equal(consumed, len);
	assert_string_equal(proto_type(out), "hello");
	assert_true(json_equal(msg, out));
	assert_int_equal(json_integer_value(json_object_get(out, "time_ms")),
	    1700000000123LL);
	json_decref(out);
	free(frame);
	json_decref(msg);
}

static void
test_encode_sets_version(void **state)
{
	json_t *msg, *out = NULL;
	uint8_t *frame = NULL;
	size_t len, consumed;

	(void)state;
	/* A caller-supplied wrong "v" is overridden, the input untouched. */
	msg = json_pack("{s:s, s:i}", "type", "ping", "v", 7);
	assert_non_null(msg);
	assert_int_equal(proto_encode(msg, &frame, &len), 0);
	assert_int_equal(json_integer_value(json_object_get(msg, "v")), 7);
	assert_int_equal(proto_decode(frame, len, &out, &consumed), 0);
	assert_int_equal(json_integer_value(json_object_get(out, "v")),
	    PROTO_VERSION);
	json_decref(out);
	free(frame);
	json_decref(msg);

	/* No type, or not an object: refused. */
	msg = json_pack("{s:i}", "seq", 1);
	frame = NULL;
	assert_int_equal(proto_encode(msg, &frame, &len), FTP_ERR_INVAL);
	assert_null(frame);
	json_decref(msg);
	msg = json_array();
	assert_int_equal(proto_encode(msg, &frame, &len), FTP_ERR_INVAL);
	json_decref(msg);
}

static void
test_encode_too_big(void **state)
{
	json_t *msg;
	char *big;
	uint8_t *frame = NULL;
	size_t len = 0;

	(void)state;
	big = malloc(PROTO_MAX_PAYLOAD + 1);
	assert_non_null(big);
	memset(big, 'a', PROTO_MAX_PAYLOAD);
	big[PROTO_MAX_PAYLOAD] = '\0';
	msg = proto_msg_new("x");
	json_object_set_new(msg, "blob", json_string(big));
	assert_int_equal(proto_encode(msg, &frame, &len), FTP_ERR_TOOBIG);
	assert_null(frame);
	json_decref(msg);
	free(big);
}

static void
test_partial_byte_by_byte(void **state)
{
	json_t *msg, *out = NULL;
	uint8_t *frame = NULL;
	size_t len, i, consumed = 0;

	(void)state;
	msg = proto_error_new("port-not-allowed", "port 22 is not allowed");
	assert_non_null(msg);
	assert_int_equal(proto_encode(msg, &frame, &len), 0);
	for (i = 0; i < len; i++)
		assert_int_equal(proto_decode(frame, i, &out, &consumed),
		    FTP_ERR_AGAIN);
	assert_null(out);
	assert_int_equal(proto_decode(frame, len, &out, &consumed), 0);
	assert_int_equal(consumed, len);
	assert_string_equal(proto_type(out), "error");
	assert_string_equal(json_string_value(json_object_get(out, "code")),
	    "port-not-allowed");
	json_decref(out);
	free(frame);
	json_decref(msg);
}

static void
test_oversized_announce(void **state)
{
	uint8_t hdr[4] = { 0x00, 0x04, 0x00, 0x01 };	/* 256 KiB + 1 */
	uint8_t max[4] = { 0xff, 0xff, 0xff, 0xff };
	json_t *out = NULL;
	size_t consumed = 0;

	(void)state;
	/* Refused from the header alone, without waiting for the body. */
	assert_int_equal(proto_decode(hdr, sizeof(hdr), &out, &consumed),
	    FTP_ERR_TOOBIG);
	assert_int_equal(proto_decode(max, sizeof(max), &out, &consumed),
	    FTP_ERR_TOOBIG);
	assert_null(out);
	assert_int_equal(consumed, 0);
	/* Exactly the limit is still only "incomplete". */
	hdr[3] = 0;
	assert_int_equal(proto_decode(hdr, sizeof(hdr), &out, &consumed),
	    FTP_ERR_AGAIN);
}

static void
test_garbage(void **state)
{
	static const uint8_t nul_payload[] =
	    "{\"v\":1,\"type\":\"hel\0lo\"}";
	static const uint8_t nul_after[] = "{\"v\":1,\"type\":\"a\"}\0junk";
	uint8_t *f;
	size_t flen;
	json_t *out = NULL;
	size_t consumed;

	(void)state;
	assert_int_equal(decode_text("not json at all"), FTP_ERR_PROTO);
	assert_int_equal(decode_text("{\"v\":1,\"type\":\"x\""),
	    FTP_ERR_PROTO);
	assert_int_equal(decode_text("{\"v\":1,\"type\":\"x\"} trailing"),
	    FTP_ERR_PROTO);
	assert_int_equal(decode_text("\xff\xfe\x00"), FTP_ERR_PROTO);
	assert_int_equal(decode_text(""), FTP_ERR_PROTO);
	/* Duplicate keys would make one message mean two things. */
	assert_int_equal(decode_text(
	    "{\"v\":1,\"type\":\"a\",\"type\":\"b\"}"), FTP_ERR_PROTO);

	/* Embedded NULs, inside a string and after the object. */
	f = make_frame(nul_payload, sizeof(nul_payload) - 1, &flen);
	assert_int_equal(proto_decode(f, flen, &out, &consumed),
	    FTP_ERR_PROTO);
	free(f);
	f = make_frame(nul_after, sizeof(nul_after) - 1, &flen);
	assert_int_equal(proto_decode(f, flen, &out, &consumed),
	    FTP_ERR_PROTO);
	free(f);
	/* Escaped NUL in the type is refused as well. */
	assert_int_equal(decode_text("{\"v\":1,\"type\":\"a\\u0000b\"}"),
	    FTP_ERR_PROTO);
	assert_null(out);
}

static void
test_non_object(void **state)
{
	(void)state;
	assert_int_equal(decode_text("[1,2,3]"), FTP_ERR_PROTO);
	assert_int_equal(decode_text("\"hello\""), FTP_ERR_PROTO);
	assert_int_equal(decode_text("42"), FTP_ERR_PROTO);
	assert_int_equal(decode_text("null"), FTP_ERR_PROTO);
}

static void
test_version(void **state)
{
	(void)state;
	assert_int_equal(decode_text("{\"v\":1,\"type\":\"ping\"}"), 0);
	assert_int_equal(decode_text("{\"v\":2,\"type\":\"ping\"}"),
	    FTP_ERR_PROTO);
	assert_int_equal(decode_text("{\"v\":0,\"type\":\"ping\"}"),
	    FTP_ERR_PROTO);
	assert_int_equal(decode_text("{\"v\":\"1\",\"type\":\"ping\"}"),
	    FTP_ERR_PROTO);
	assert_int_equal(decode_text("{\"v\":1.0,\"type\":\"ping\"}"),
	    FTP_ERR_PROTO);
	assert_int_equal(decode_text("{\"type\":\"ping\"}"), FTP_ERR_PROTO);
}

static void
test_missing_type(void **state)
{
	(void)state;
	assert_int_equal(decode_text("{\"v\":1}"), FTP_ERR_PROTO);
	assert_int_equal(decode_text("{\"v\":1,\"type\":5}"), FTP_ERR_PROTO);
	assert_int_equal(decode_text("{\"v\":1,\"type\":null}"),
	    FTP_ERR_PROTO);
	assert_int_equal(decode_text("{\"v\":1,\"type\":\"\"}"),
	    FTP_ERR_PROTO);
	assert_int_equal(decode_text("{\"v\":1,\"type\":{}}"), FTP_ERR_PROTO);
}

static void
test_two_frames(void **state)
{
	json_t *a = proto_msg_new("ping"), *b = proto_msg_new("pong");
	json_t *out = NULL;
	uint8_t *fa = NULL, *fb = NULL, *both;
	size_t la, lb, consumed;

	(void)state;
	json_object_set_new(a, "seq", json_integer(1));
	json_object_set_new(b, "seq", json_integer(2));
	assert_int_equal(proto_encode(a, &fa, &la), 0);
	assert_int_equal(proto_encode(b, &fb, &lb), 0);
	both = malloc(la + lb);
	assert_non_null(both);
	memcpy(both, fa, la);
	memcpy(both + la, fb, lb);

	assert_int_equal(proto_decode(both, la + lb, &out, &consumed), 0);
	assert_int_equal(consumed, la);
	assert_string_equal(proto_type(out), "ping");
	assert_int_equal(json_integer_value(json_object_get(out, "seq")), 1);
	json_decref(out);
	assert_int_equal(proto_decode(both + consumed, la + lb - consumed,
	    &out, &consumed), 0);
	assert_int_equal(consumed, lb);
	assert_string_equal(proto_type(out), "pong");
	assert_int_equal(json_integer_value(json_object_get(out, "seq")), 2);
	json_decref(out);

	free(both);
	free(fa);
	free(fb);
	json_decref(a);
	json_decref(b);
}

static void
test_probe_line(void **state)
{
	char buf[PROTO_PROBE_LINE_MAX], tok[64], id[64];

	(void)state;
	assert_int_equal(proto_probe_line(buf, sizeof(buf), TOKEN,
	    "passive-30000"), 0);
	assert_string_equal(buf, "FTPATH/1 " TOKEN " passive-30000\r\n");
	assert_int_equal(proto_probe_parse(buf, strlen(buf), tok, sizeof(tok),
	    id, sizeof(id)), 0);
	assert_string_equal(tok, TOKEN);
	assert_string_equal(id, "passive-30000");

	/* LF only, and bytes after the line end, are fine. */
	assert_int_equal(proto_probe_parse("FTPATH/1 " TOKEN " active-20\nX",
	    strlen("FTPATH/1 " TOKEN " active-20\nX"), tok, sizeof(tok), id,
	    sizeof(id)), 0);
	assert_string_equal(id, "active-20");

	/* Generators refuse what the parser would refuse. */
	assert_int_equal(proto_probe_line(buf, sizeof(buf), "ABC",
	    "control-21"), FTP_ERR_INVAL);
	assert_int_equal(proto_probe_line(buf, sizeof(buf), TOKEN,
	    "Control 21"), FTP_ERR_INVAL);
	assert_int_equal(proto_probe_line(buf, 20, TOKEN, "control-21"),
	    FTP_ERR_TOOBIG);

	assert_int_equal(proto_probe_ack(buf, sizeof(buf), "control-21"), 0);
	assert_string_equal(buf, "FTPATH/1 OK control-21\r\n");
	assert_int_equal(proto_probe_ack_parse(buf, strlen(buf), id,
	    sizeof(id)), 0);
	assert_string_equal(id, "control-21");
}

static void
test_probe_line_bad(void **state)
{
	static const char *const bad[] = {
		"FTPATH/2 " TOKEN " control-21\r\n",
		"FTPATH/1 " TOKEN "\r\n",
		"FTPATH/1 " TOKEN " \r\n",
		"FTPATH/1  " TOKEN " control-21\r\n",
		"FTPATH/1 " TOKEN "  control-21\r\n",
		"FTPATH/1 " TOKEN " control-21 extra\r\n",
		"FTPATH/1 0123456789ABCDEF0123456789abcdef control-21\r\n",
		"FTPATH/1 0123456789abcdef0123456789abcde control-21\r\n",
		"FTPATH/1 0123456789abcdef0123456789abcdef0 control-21\r\n",
		"FTPATH/1 0123456789abcdeg0123456789abcdef control-21\r\n",
		"FTPATH/1 " TOKEN " Control-21\r\n",
		"FTPATH/1 " TOKEN " control_21\r\n",
		"FTPATH/1 " TOKEN " control-21\r\r\n",
		"FTPATH/1 " TOKEN
		    " aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\r\n", /* 41 */
		"ftpath/1 " TOKEN " control-21\r\n",
		"\r\n",
		"GET / HTTP/1.0\r\n",
	};
	static const char nul_line[] = "FTPATH/1 " TOKEN " con\0trol\r\n";
	char tok[64] = "untouched", id[64] = "untouched", longline[300];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		int r = proto_probe_parse(bad[i], strlen(bad[i]), tok,
		    sizeof(tok), id, sizeof(id));

		if (r != FTP_ERR_PROTO)
			fail_msg("case %zu \"%s\": got %d", i, bad[i], r);
	}
	assert_string_equal(tok, "untouched");
	assert_string_equal(id, "untouched");

	/* 40 chars of id is the maximum and accepted. */
	assert_int_equal(proto_probe_parse("FTPATH/1 " TOKEN
	    " aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\r\n", 84, tok,
	    sizeof(tok), id, sizeof(id)), 0);
	assert_int_equal(strlen(id), 40);

	/* Embedded NUL in the line. */
	assert_int_equal(proto_probe_parse(nul_line, sizeof(nul_line) - 1,
	    tok, sizeof(tok), id, sizeof(id)), FTP_ERR_PROTO);

	/* No line end: wait, until the limit is reached. */
	assert_int_equal(proto_probe_parse("FTPATH/1 " TOKEN, 41, tok,
	    sizeof(tok), id, sizeof(id)), FTP_ERR_AGAIN);
	memset(longline, 'a', sizeof(longline));
	assert_int_equal(proto_probe_parse(longline, PROTO_PROBE_LINE_MAX - 1,
	    tok, sizeof(tok), id, sizeof(id)), FTP_ERR_AGAIN);
	assert_int_equal(proto_probe_parse(longline, PROTO_PROBE_LINE_MAX,
	    tok, sizeof(tok), id, sizeof(id)), FTP_ERR_PROTO);
	longline[200] = '\n';
	assert_int_equal(proto_probe_parse(longline, sizeof(longline), tok,
	    sizeof(tok), id, sizeof(id)), FTP_ERR_PROTO);

	/* Output buffers too small. */
	assert_int_equal(proto_probe_parse("FTPATH/1 " TOKEN " control-21\n",
	    53, tok, 32, id, sizeof(id)), FTP_ERR_TOOBIG);

	/* Ack lines. */
	assert_int_equal(proto_probe_ack_parse("FTPATH/1 KO control-21\r\n",
	    24, id, sizeof(id)), FTP_ERR_PROTO);
	assert_int_equal(proto_probe_ack_parse("FTPATH/1 OK\r\n", 13, id,
	    sizeof(id)), FTP_ERR_PROTO);
	assert_int_equal(proto_probe_ack_parse("FTPATH/1 OK x y\r\n", 17, id,
	    sizeof(id)), FTP_ERR_PROTO);
	assert_int_equal(proto_probe_ack_parse("FTPATH/1 OK cont", 16, id,
	    sizeof(id)), FTP_ERR_AGAIN);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_round_trip),
		cmocka_unit_test(test_encode_sets_version),
		cmocka_unit_test(test_encode_too_big),
		cmocka_unit_test(test_partial_byte_by_byte),
		cmocka_unit_test(test_oversized_announce),
		cmocka_unit_test(test_garbage),
		cmocka_unit_test(test_non_object),
		cmocka_unit_test(test_version),
		cmocka_unit_test(test_missing_type),
		cmocka_unit_test(test_two_frames),
		cmocka_unit_test(test_probe_line),
		cmocka_unit_test(test_probe_line_bad),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
