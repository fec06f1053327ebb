// Package closing recognises how connections end badly or wastefully: a
// peer's FIN that never arrives after a complete response, so that the
// other side idles until its own timeout (close.fin-missing), and
// connections used for a single request although reuse was asked for
// (conn.no-reuse).
package closing
