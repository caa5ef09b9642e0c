#!/usr/bin/env python3
"""tests/netns/ftps_client.py HOST PORT PATH active|passive - an explicit
FTPS download (AUTH TLS, PROT P) with the standard library's ftplib, written
to stdout; the certificate is not verified.  Each data connection resumes
the control connection's TLS session (vsftpd's require_ssl_reuse=YES).
lib.sh uses it for FTPS active mode: curl 7.88 fails there by itself
("sa_addr inet_ntop() failed with errno 97").
"""
import ftplib, ssl, sys
host, port, path, active = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4] == "active"
class Reuse(ftplib.FTP_TLS):
    def ntransfercmd(self, cmd, rest=None):
        conn, size = ftplib.FTP.ntransfercmd(self, cmd, rest)
        if self._prot_p:
            conn = self.context.wrap_socket(conn, server_hostname=self.host,
                                            session=self.sock.session)
        return conn, size
ctx = ssl.create_default_context()
ctx.check_hostname = False
ctx.verify_mode = ssl.CERT_NONE
f = Reuse(context=ctx, timeout=5)
f.connect(host, port)
f.auth()
f.login()
f.prot_p()
f.set_pasv(not active)
buf = []
f.retrbinary("RETR " + path, buf.append)
sys.stdout.buffer.write(b"".join(buf))
f.quit()
