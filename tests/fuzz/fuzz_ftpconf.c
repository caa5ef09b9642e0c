/*
 * fuzz_ftpconf.c - libFuzzer harness for the FTP server configuration
 * reader (common/ftpconf.c).
 *
 * The first input byte picks the server kind (auto, vsftpd, proftpd,
 * pure-ftpd) so that each line handler and the detector get coverage;
 * the rest is the file.  Every query is run on the result, so the
 * evidence/summary renderers see whatever the parser stored.
 *
 *   make fuzz && build/fuzz/fuzz/fuzz_ftpconf -max_total_time=60 \
 *       tests/fuzz/corpus/fuzz_ftpconf
 *
 * make check runs it briefly (fuzz-smoke), as every tests/fuzz target.
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "err.h"
#include "ftpconf.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char *const fuzz_names[] = {
	"ftp.conf", "vsftpd.conf", "proftpd.conf", "pure-ftpd.conf",
};

static void
fuzz_query(const struct ftpconf *cf)
{
	struct ftpconf_fact fa;
	struct portrange pr;
	char buf[512];
	int f;

	for (f = 0; f < FTPCONF_NFIELDS; f++) {
		if (ftpconf_get(cf, (enum ftpconf_field)f, &fa) != 0)
			__builtin_trap();
		/* Set facts always carry evidence; string facts a value
		 * only when set. */
		if (fa.set && fa.text == NULL)
			__builtin_trap();
		(void)ftpconf_evidence(cf, (enum ftpconf_field)f, buf,
		    sizeof(buf));
	}
	(void)ftpconf_passive_range(cf, &pr);
	if (pr.lo > pr.hi)
		__builtin_trap();
	(void)ftpconf_summary(cf, buf, sizeof(buf));
	(void)ftpconf_summary(cf, buf, 7);	/* truncation path */
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct ftpconf *cf;
	char err[256], advice[128];
	enum ftpconf_kind kind;
	unsigned sel;

	if (size < 1)
		return 0;
	if (cf == NULL && (cf = ftpconf_new()) == NULL)
		return 0;
	sel = data[0] & 3;
	kind = (enum ftpconf_kind)sel;
	/* Reusing one struct checks that a parse replaces all old state. */
	(void)ftpconf_parse(cf, kind, fuzz_names[sel], (const char *)data + 1,
	    size - 1, err, sizeof(err));
	fuzz_query(cf);
	/* Advice with a value taken from the input (bounded, NUL-ended). */
	if (size > 2 && sel != FTPCONF_AUTO) {
		char value[64];
		size_t n = size - 2 < sizeof(value) - 1 ? size - 2 :
		    sizeof(value) - 1;

		memcpy(value, data + 2, n);
		value[n] = '\0';
		(void)ftpconf_advice(kind, (enum ftpconf_advice)(data[1] % 7),
		    value, advice, sizeof(advice));
	}
	return 0;
}
