/*
 * fuzz_config.c - libFuzzer target for the reflector's configuration
 * parser (common/config.c, config_parse_buffer): defaults, the bytes as
 * a file, validation, and the normalised print of what was accepted.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "config.h"
#include "err.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static FILE *sink;
	struct reflector_config cfg;
	char err[512];

	if (sink == NULL && (sink = fopen("/dev/null", "w")) == NULL)
		return 0;
	if (config_defaults(&cfg) != 0)
		return 0;
	if (config_parse_buffer(&cfg, (const char *)data, size, "fuzz", err,
	    sizeof(err)) == 0 && config_validate(&cfg, err, sizeof(err)) == 0)
		config_print(&cfg, sink);
	config_release(&cfg);
	return 0;
}
