module github.com/wiresleuth/wiresleuth

go 1.26

require github.com/klauspost/compress v1.20.3

require (
	github.com/gopacket/gopacket v1.7.7
	golang.org/x/net v0.55.0 // indirect
	golang.org/x/sys v0.45.0 // indirect
)
