/*
 * proto.c - the control-protocol codec (see proto.h, PROTOCOL.md).
 *
 * Pure: the decoder only looks at the bytes it is given, so it is safe to
 * feed it anything a peer (or a fuzzer) can send.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "err.h"
#include "proto.h"

#define PROTO_PROBE_MAGIC	"FTPATH/1"
#define PROTO_PROBE_ID_MAX	40

int
proto_encode(const json_t *msg, uint8_t **frame, size_t *len)
{
	json_t *copy = NULL;
	char *payload = NULL;
	uint8_t *buf = NULL;
	size_t plen;
	int r = FTP_ERR_INVAL;

	if (msg == NULL || !json_is_object(msg) || frame == NULL ||
	    len == NULL)
		goto out;
	if (!json_is_string(json_object_get(msg, "type")))
		goto out;
	/* Shallow copy: "v" is forced without modifying the caller's msg. */
	r = FTP_ERR_NOMEM;
	if ((copy = json_copy((json_t *)msg)) == NULL)
		goto out;
	if (json_object_set_new(copy, "v", json_integer(PROTO_VERSION)) != 0)
		goto out;
	if ((payload = json_dumps(copy, JSON_COMPACT)) == NULL)
		goto out;
	plen = strlen(payload);
	if (plen > PROTO_MAX_PAYLOAD) {
		r = FTP_ERR_TOOBIG;
		goto out;
	}
	if ((buf = malloc(PROTO_HDR_LEN + plen)) == NULL)
		goto out;
	buf[0] = (uint8_t)(plen >> 24);
	buf[1] = (uint8_t)(plen >> 16);
	buf[2] = (uint8_t)(plen >> 8);
	buf[3] = (uint8_t)plen;
	memcpy(buf + PROTO_HDR_LEN, payload, plen);
	*frame = buf;
	*len = PROTO_HDR_LEN + plen;
	buf = NULL;
	r = 0;
out:
	free(buf);
	free(payload);
	json_decref(copy);
	return r;
}

int
proto_decode(const uint8_t *buf, size_t len, json_t **msg,
    size_t *consumed)
{
	json_t *obj = NULL, *v, *type;
	json_error_t jerr;
	uint32_t plen;
	int r = FTP_ERR_AGAIN;

	if (buf == NULL || len < PROTO_HDR_LEN)
		goto out;
	plen = (uint32_t)buf[0] << 24 | (uint32_t)buf[1] << 16 |
	    (uint32_t)buf[2] << 8 | (uint32_t)buf[3];
	/* Judge the announced length before waiting for the body, so a
	 * peer cannot make us buffer a huge frame. */
	if (plen > PROTO_MAX_PAYLOAD) {
		r = FTP_ERR_TOOBIG;
		goto out;
	}
	if (len - PROTO_HDR_LEN < plen)
		goto out;
	r = FTP_ERR_PROTO;
	if (plen == 0)
		goto out;
	/*
	 * json_loadb with an explicit length: the payload is not
	 * NUL-terminated, and an embedded NUL must be an error rather than
	 * silently truncate the text (jansson rejects "\0" in input unless
	 * JSON_ALLOW_NUL, which we do not pass).  JSON_REJECT_DUPLICATES:
	 * two "type" keys would make the message mean two things.
	 */
	obj = json_loadb((const char *)buf + PROTO_HDR_LEN, plen,
	    JSON_REJECT_DUPLICATES, &jerr);
	if (obj == NULL || !json_is_object(obj))
		goto out;
	v = json_object_get(obj, "v");
	if (!json_is_integer(v) || json_integer_value(v) != PROTO_VERSION)
		goto out;
	type = json_object_get(obj, "type");
	if (!json_is_string(type) || json_string_length(type) == 0 ||
	    json_string_length(type) != strlen(json_string_value(type)))
		goto out;
	*msg = obj;
	*consumed = PROTO_HDR_LEN + (size_t)plen;
	obj = NULL;
	r = 0;
out:
	json_decref(obj);
	return r;
}

const char *
proto_type(const json_t *msg)
{
	const char *t = json_string_value(json_object_get(msg, "type"));

	return t != NULL ? t : "";
}

json_t *
proto_msg_new(const char *type)
{
	if (type == NULL)
		return NULL;
	return json_pack("{s:i, s:s}", "v", PROTO_VERSION, "type", type);
}

json_t *
proto_error_new(const char *code, const char *message)
{
	if (code == NULL)
		return NULL;
	return json_pack("{s:i, s:s, s:s, s:s}", "v", PROTO_VERSION,
	    "type", "error", "code", code, "message",
	    message != NULL ? message : "");
}

static int
proto_token_valid(const char *s, size_t n)
{
	size_t i;

	if (n != PROTO_TOKEN_HEXLEN)
		return 0;
	for (i = 0; i < n; i++)
		if (!((s[i] >= '0' && s[i] <= '9') ||
		    (s[i] >= 'a' && s[i] <= 'f')))
			return 0;
	return 1;
}

static int
proto_id_valid(const char *s, size_t n)
{
	size_t i;

	if (n < 1 || n > PROTO_PROBE_ID_MAX)
		return 0;
	for (i = 0; i < n; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') ||
		    (s[i] >= '0' && s[i] <= '9') || s[i] == '-'))
			return 0;
	return 1;
}

int
proto_probe_line(char *buf, size_t len, const char *token,
    const char *probe_id)
{
	int n;

	if (buf == NULL || token == NULL || probe_id == NULL ||
	    !proto_token_valid(token, strlen(token)) ||
	    !proto_id_valid(probe_id, strlen(probe_id)))
		return FTP_ERR_INVAL;
	n = snprintf(buf, len, PROTO_PROBE_MAGIC " %s %s\r\n", token,
	    probe_id);
	if (n < 0 || (size_t)n >= len)
		return FTP_ERR_TOOBIG;
	return 0;
}

/*
 * Find the end of the first line in buf: the length of its text without
 * the terminator.  A lone '\n' is accepted as well as "\r\n" (the line is
 * "with or without CRLF"); a '\r' anywhere else is left in the text and
 * fails the field checks.  FTP_ERR_AGAIN while no newline is in sight
 * and the limit is not yet reached.
 */
static int
proto_line_end(const char *buf, size_t len, size_t *textlen)
{
	const char *nl;
	size_t scan = len < PROTO_PROBE_LINE_MAX ? len : PROTO_PROBE_LINE_MAX;

	if (buf == NULL)
		return FTP_ERR_INVAL;
	nl = memchr(buf, '\n', scan);
	if (nl == NULL)
		return len >= PROTO_PROBE_LINE_MAX ? FTP_ERR_PROTO :
		    FTP_ERR_AGAIN;
	*textlen = (size_t)(nl - buf);
	if (*textlen > 0 && buf[*textlen - 1] == '\r')
		(*textlen)--;
	return 0;
}

/* Split "FTPATH/1 A B" (exactly two fields after the magic). */
static int
proto_split_line(const char *buf, size_t n, const char **a, size_t *alen,
    const char **b, size_t *blen)
{
	const size_t mlen = sizeof(PROTO_PROBE_MAGIC) - 1;
	const char *p, *end = buf + n, *sp;

	if (n < mlen + 1 || memcmp(buf, PROTO_PROBE_MAGIC, mlen) != 0 ||
	    buf[mlen] != ' ')
		return FTP_ERR_PROTO;
	p = buf + mlen + 1;
	sp = memchr(p, ' ', (size_t)(end - p));
	if (sp == NULL)
		return FTP_ERR_PROTO;
	*a = p;
	*alen = (size_t)(sp - p);
	*b = sp + 1;
	*blen = (size_t)(end - (sp + 1));
	/* A further space is caught by the character checks on b. */
	return 0;
}

static int
proto_copy_field(const char *s, size_t n, char *out, size_t outlen)
{
	if (out == NULL || n >= outlen)
		return FTP_ERR_TOOBIG;
	memcpy(out, s, n);
	out[n] = '\0';
	return 0;
}

int
proto_probe_parse(const char *buf, size_t len, char *token,
    size_t tokenlen, char *probe_id, size_t idlen)
{
	const char *a, *b;
	size_t n, alen, blen;
	int r;

	if ((r = proto_line_end(buf, len, &n)) != 0)
		return r;
	if (proto_split_line(buf, n, &a, &alen, &b, &blen) != 0 ||
	    !proto_token_valid(a, alen) || !proto_id_valid(b, blen))
		return FTP_ERR_PROTO;
	/* Check both sizes before writing either (out-params on success). */
	if (token == NULL || probe_id == NULL || alen >= tokenlen ||
	    blen >= idlen)
		return FTP_ERR_TOOBIG;
	/* Both sizes were checked above: neither copy can fail. */
	(void)proto_copy_field(a, alen, token, tokenlen);
	(void)proto_copy_field(b, blen, probe_id, idlen);
	return 0;
}

int
proto_probe_ack(char *buf, size_t len, const char *probe_id)
{
	int n;

	if (buf == NULL || probe_id == NULL ||
	    !proto_id_valid(probe_id, strlen(probe_id)))
		return FTP_ERR_INVAL;
	n = snprintf(buf, len, PROTO_PROBE_MAGIC " OK %s\r\n", probe_id);
	if (n < 0 || (size_t)n >= len)
		return FTP_ERR_TOOBIG;
	return 0;
}

int
proto_probe_ack_parse(const char *buf, size_t len, char *probe_id,
    size_t idlen)
{
	const char *a, *b;
	size_t n, alen, blen;
	int r;

	if ((r = proto_line_end(buf, len, &n)) != 0)
		return r;
	if (proto_split_line(buf, n, &a, &alen, &b, &blen) != 0 ||
	    alen != 2 || memcmp(a, "OK", 2) != 0 || !proto_id_valid(b, blen))
		return FTP_ERR_PROTO;
	return proto_copy_field(b, blen, probe_id, idlen);
}
