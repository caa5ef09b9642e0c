/*
 * ftpcheck_mode.h - the data modes of the real FTP client: what the
 * control dialogue (ftpcheck.c) calls to run EPSV, PASV, EPRT and PORT
 * in turn, each with its data connection and transfer (not for other
 * modules; the interface is ftpcheck.h).
 *
 * Ownership: the data socket, its event and the active listener live in
 * struct ftpcheck (ftpcheck_int.h) and belong to this part while a mode
 * runs; ftpcheck_data_close() releases them, and the session calls it
 * whenever it ends a control connection.  The results go into the
 * current mode's struct ftpcheck_data (ftpcheck_cur()).
 *
 * Every call here either leaves the session waiting (ftpcheck_wait()) or
 * moves it on: a mode that is over starts the next one, and after the
 * last QUIT is sent (FC_QUIT).  None ends the session: a mode that fails
 * is recorded and the next one runs, since the control stream is still
 * in step.
 */
#ifndef FTPATH_AGENT_FTPCHECK_MODE_H
#define FTPATH_AGENT_FTPCHECK_MODE_H

#include "ftpcheck.h"

/* After TYPE I or the end of a mode: start the next selected mode after
 * fc->cur that can run, or send QUIT when none is left. */
void ftpcheck_next_mode(struct ftpcheck *fc);

/* The final reply to the mode's command (FC_MODE), r: passive, dial the
 * address it advertises; active, ask for the transfer; a refusal or an
 * address that does not parse ends the mode. */
void ftpcheck_mode_reply(struct ftpcheck *fc, const struct ftpcheck_reply *r);

/* In FC_XFER, after a reply to RETR/LIST was recorded: end the mode once
 * the final reply and (if it says the data went out) the server's close
 * of the data connection are both in. */
void ftpcheck_xfer_check(struct ftpcheck *fc);

/* The wait timed out in FC_DATA_CONNECT or FC_XFER (recorded in the
 * mode).  0 when the mode was ended and the session goes on; -1 when the
 * server still owes the final reply: the control stream is out of step
 * and the caller must end the session. */
int ftpcheck_mode_timeout(struct ftpcheck *fc);

/* Close the data socket (its TLS too) and the active listener, if any.
 * Safe to call when there is none. */
void ftpcheck_data_close(struct ftpcheck *fc);

#endif
