package report

import "github.com/wiresleuth/wiresleuth/detect"

type (
	detectFinding  = detect.Finding
	detectConn     = detect.Conn
	detectEvidence = detect.Evidence
)
