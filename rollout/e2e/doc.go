// Package e2e holds the rolling restart's end-to-end tests: sandbox clusters of real node
// processes restarted through the inventory the sandbox writes, with exec and over the real sshd.
package e2e
