package rollout

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"net"
	"strings"
	"syscall"
)

// unreachableCause says why a node did not answer, in the terms the operator acts on: nothing
// listening, a timeout (firewall, hung node), a name that does not resolve, a certificate.
func unreachableCause(err error) string {
	var (
		dns      *net.DNSError
		unknown  x509.UnknownAuthorityError
		hostname x509.HostnameError
		invalid  x509.CertificateInvalidError
		verify   *tls.CertificateVerificationError
		record   tls.RecordHeaderError
		nerr     net.Error
	)
	switch {
	case err == nil:
		return ""
	case errors.Is(err, syscall.ECONNREFUSED):
		return "connection refused: nothing listens there (the node or its proxy is down)"
	case errors.As(err, &dns):
		return "DNS: " + dns.Name + " does not resolve"
	case errors.As(err, &unknown), errors.As(err, &hostname), errors.As(err, &invalid), errors.As(err, &verify):
		return "TLS: the certificate is not trusted for this URL (" + err.Error() + ")"
	case errors.As(err, &record), strings.Contains(err.Error(), "server gave HTTP response to HTTPS client"):
		return "TLS: the node answered plain HTTP to https:// (use http:// in the node's url)"
	case errors.Is(err, context.DeadlineExceeded), errors.As(err, &nerr) && nerr.Timeout():
		return "timed out: no answer (a firewall drops the packets, or the node hangs)"
	case errors.Is(err, syscall.EHOSTUNREACH), errors.Is(err, syscall.ENETUNREACH):
		return "no route to the host"
	}
	return err.Error()
}
