/*
 * control_dialog.c - the protocol dialogue of the agent's control
 * channel (control.h): waiting for a reply while the loop runs, the
 * reflector's error frames (a policy code, or busy with the delay
 * before the caller tries again), the request/reply pairs, hello and
 * its welcome, and ping.  The channel under it is control.c
 * (control_int.h).
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "clock.h"
#include "control_int.h"
#include "err.h"
#include "log.h"

/* Error codes that mean "the reflector's policy refused this request":
 * the user can fix them by changing options, so they exit as usage. */
static const char *const control_policy_codes[] = {
	"port-not-allowed", "too-many-ports", "active-done", "bad-request",
};

static int
control_is_policy(const char *code)
{
	size_t i;

	for (i = 0; i < sizeof(control_policy_codes) /
	    sizeof(control_policy_codes[0]); i++)
		if (strcmp(code, control_policy_codes[i]) == 0)
			return 1;
	return 0;
}

/* Take the first inbox message of type or type2 (NULL: none) or an
 * error; 1 if found. */
static int
control_take(struct control *c, const char *type, const char *type2,
    json_t **msg)
{
	size_t i;
	json_t *m;

	json_array_foreach(c->inbox, i, m) {
		const char *t = proto_type(m);

		if (strcmp(t, type) == 0 || strcmp(t, "error") == 0 ||
		    (type2 != NULL && strcmp(t, type2) == 0)) {
			*msg = json_incref(m);
			json_array_remove(c->inbox, i);
			return 1;
		}
	}
	return 0;
}

static int
control_error_frame(struct control *c, json_t *m)
{
	const char *code = json_string_value(json_object_get(m, "code"));
	const char *text = json_string_value(json_object_get(m, "message"));

	snprintf(c->errmsg, sizeof(c->errmsg), "reflector refused: %s%s%s",
	    code ? code : "error", text ? ": " : "", text ? text : "");
	if (code != NULL && strcmp(code, "busy") == 0) {
		json_int_t ms = json_integer_value(json_object_get(m,
		    "retry_after_ms"));

		/* Bounded whatever it says: a reflector cannot park us. */
		c->busy_ms = ms < CONTROL_BUSY_MIN_MS ? CONTROL_BUSY_MIN_MS :
		    ms > CONTROL_BUSY_MAX_MS ? CONTROL_BUSY_MAX_MS :
		    (unsigned)ms;
	}
	return code != NULL && control_is_policy(code) ? FTP_ERR_DENIED :
	    FTP_ERR_PROTO;
}

unsigned
control_busy_ms(const struct control *c)
{
	return c->busy_ms;
}

int
control_closed_early(const struct control *c)
{
	return c->closed_early;
}

int
control_wait(struct control *c, const char *type, unsigned timeout_ms,
    json_t **msg)
{
	return control_wait_either(c, type, NULL, timeout_ms, msg);
}

int
control_wait_either(struct control *c, const char *type, const char *type2,
    unsigned timeout_ms, json_t **msg)
{
	struct timespec t0, t1;
	json_t *m = NULL;
	int r = 0;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	/* Frames may arrive together with a failure (bye, then EOF), so the
	 * inbox is always looked at before the channel state. */
	while (!control_take(c, type, type2, &m)) {
		long spent;

		if (c->failed) {
			r = FTP_ERR_PROTO;
			goto fail;
		}
		clock_gettime(CLOCK_MONOTONIC, &t1);
		spent = (t1.tv_sec - t0.tv_sec) * 1000 +
		    (t1.tv_nsec - t0.tv_nsec) / 1000000;
		if (r == FTP_ERR_SYSTEM || spent >= (long)timeout_ms) {
			errno = ETIMEDOUT;
			r = FTP_ERR_SYSTEM;
			goto fail;
		}
		c->new_frame = 0;
		r = control_pump(c, &c->new_frame,
		    timeout_ms - (unsigned)spent);
	}
	if (strcmp(proto_type(m), "error") == 0) {
		r = control_error_frame(c, m);
		json_decref(m);
		return r;
	}
	*msg = m;
	return 0;
fail:
	if (r == FTP_ERR_SYSTEM || c->errmsg[0] == '\0')
		snprintf(c->errmsg, sizeof(c->errmsg),
		    "no %s from the reflector: %s", type,
		    r == FTP_ERR_SYSTEM ? "timed out" : "connection lost");
	return r;
}

int
control_request(struct control *c, const json_t *req, const char *type,
    unsigned timeout_ms, json_t **reply)
{
	int r;

	if ((r = control_send(c, req)) != 0)
		return r;
	return control_wait(c, type, timeout_ms, reply);
}

const json_t *
control_welcome_msg(const struct control *c)
{
	return c->welcome;
}

int
control_hello(struct control *c, struct control_welcome *w)
{
	json_t *req, *rep = NULL;
	int r = FTP_ERR_NOMEM;

	if ((req = proto_msg_new("hello")) == NULL)
		goto out;
	json_object_set_new(req, "token", json_string(c->token));
	json_object_set_new(req, "agent", json_string("ftpath-agent "
	    FTPATH_VERSION));
	json_object_set_new(req, "time_ms", json_integer(clock_wall_ms()));
	if ((r = control_request(c, req, "welcome", CONTROL_REPLY_TIMEOUT_MS,
	    &rep)) != 0) {
		/* With TLS 1.3 the server checks our certificate after our
		 * handshake is done, so a rejection shows up here. */
		log_debug("hello: %s", c->errmsg[0] != '\0' ? c->errmsg :
		    ftp_strerror(r));
		if (r == FTP_ERR_PROTO && c->failed && c->cert_refusal != NULL)
			snprintf(c->errmsg, sizeof(c->errmsg), "%s: the "
			    "reflector refused the agent certificate (--cert): "
			    "%s", c->target, c->cert_refusal);
		else if (r == FTP_ERR_PROTO && c->failed && (c->closed_early =
		    1))
			snprintf(c->errmsg, sizeof(c->errmsg), "%s: the "
			    "reflector closed the session before welcome: "
			    "was the agent certificate (--cert) signed by the "
			    "CA the reflector trusts?", c->target);
		goto out;
	}
	control_welcome_parse(rep, w);
	w->recv_ms = clock_wall_ms();
	json_decref(c->welcome);
	c->welcome = json_incref(rep);
	r = 0;
out:
	json_decref(req);
	json_decref(rep);
	return r;
}

static double
control_now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e6 + (double)ts.tv_nsec / 1e3;
}

/* One ping; its RTT in ms into *ms. */
static int
control_ping_one(struct control *c, unsigned seq, double *ms)
{
	json_t *req, *rep = NULL;
	double t0 = control_now_us(), t;
	int r = FTP_ERR_NOMEM;

	if ((req = proto_msg_new("ping")) == NULL)
		goto out;
	json_object_set_new(req, "seq", json_integer(seq));
	/* t is echoed unchanged; we use it to pair the pong with the ping. */
	json_object_set_new(req, "t", json_real(t0));
	if ((r = control_request(c, req, "pong", CONTROL_REPLY_TIMEOUT_MS,
	    &rep)) != 0)
		goto out;
	t = json_number_value(json_object_get(rep, "t"));
	if (t <= 0 || t > control_now_us())
		t = t0;
	*ms = (control_now_us() - t) / 1000.0;
	r = 0;
out:
	json_decref(req);
	json_decref(rep);
	return r;
}

int
control_ping(struct control *c, unsigned n, struct control_rtt *rtt)
{
	double sum = 0, ms = 0;
	unsigned i;
	int r;

	memset(rtt, 0, sizeof(*rtt));
	for (i = 0; i < n; i++) {
		if ((r = control_ping_one(c, i + 1, &ms)) != 0)
			return r;
		if (i == 0 || ms < rtt->min_ms)
			rtt->min_ms = ms;
		if (ms > rtt->max_ms)
			rtt->max_ms = ms;
		sum += ms;
		rtt->n++;
	}
	if (rtt->n > 0)
		rtt->avg_ms = sum / rtt->n;
	return 0;
}
