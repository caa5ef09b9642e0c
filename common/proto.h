/*
 * proto.h - the control-protocol codec (see common/PROTOCOL.md).
 *
 * Pure: no I/O, so unit tests and fuzzers call it directly.  A frame is a
 * 4-byte big-endian payload length followed by one JSON object that has
 * "v" (PROTO_VERSION) and "type" (a short string).
 */
#ifndef FTPATH_PROTO_H
#define FTPATH_PROTO_H

#include <stddef.h>
#include <stdint.h>
#include <jansson.h>

#define PROTO_VERSION	1
#define PROTO_HDR_LEN	4
#define PROTO_MAX_PAYLOAD	(256 * 1024)

/*
 * Serialise msg (which must have a "type") into a newly allocated frame;
 * "v" is set to PROTO_VERSION in the output.  On success *frame is owned
 * by the caller (free()).  FTP_ERR_TOOBIG if the payload exceeds the limit.
 */
int proto_encode(const json_t *msg, uint8_t **frame, size_t *len);

/*
 * Decode one frame from the front of buf.  Returns 0 with *msg (a new
 * reference, caller json_decref()s) and *consumed; FTP_ERR_AGAIN when buf
 * holds only part of a frame; FTP_ERR_TOOBIG when the announced length
 * exceeds PROTO_MAX_PAYLOAD; FTP_ERR_PROTO for a payload that is not a JSON
 * object with an integer "v" equal to PROTO_VERSION and a string "type".
 * Out-parameters are untouched on failure.
 */
int proto_decode(const uint8_t *buf, size_t len, json_t **msg,
    size_t *consumed);

/* The "type" of a decoded message (never NULL for a decoded frame). */
const char *proto_type(const json_t *msg);

/* {"v":1,"type":type}; NULL on allocation failure. */
json_t *proto_msg_new(const char *type);
/* {"v":1,"type":"error","code":code,"message":message} */
json_t *proto_error_new(const char *code, const char *message);

/* Probe line sent first on every probe connection (both directions):
 * "FTPATH/1 <token> <probe-id>\r\n", at most PROTO_PROBE_LINE_MAX bytes. */
#define PROTO_PROBE_LINE_MAX	128
#define PROTO_TOKEN_HEXLEN	32
int proto_probe_line(char *buf, size_t len, const char *token,
    const char *probe_id);
/* Parse a received probe line (with or without CRLF); copies the token and
 * probe id.  FTP_ERR_AGAIN if no line end yet, FTP_ERR_PROTO if malformed. */
int proto_probe_parse(const char *buf, size_t len, char *token,
    size_t tokenlen, char *probe_id, size_t idlen);
/* "FTPATH/1 OK <probe-id>\r\n" written by the receiving side. */
int proto_probe_ack(char *buf, size_t len, const char *probe_id);
int proto_probe_ack_parse(const char *buf, size_t len, char *probe_id,
    size_t idlen);

#endif
