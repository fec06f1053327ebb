package http1

// intern returns a constant string for common values so that decoding the
// usual messages does not allocate for them; other bytes are copied.
func intern(b []byte) string {
	switch string(b) {
	case "GET":
		return "GET"
	case "POST":
		return "POST"
	case "HEAD":
		return "HEAD"
	case "PUT":
		return "PUT"
	case "DELETE":
		return "DELETE"
	case "OPTIONS":
		return "OPTIONS"
	case "CONNECT":
		return "CONNECT"
	case "OK":
		return "OK"
	case "Not Found":
		return "Not Found"
	case "No Content":
		return "No Content"
	case "Not Modified":
		return "Not Modified"
	case "Found":
		return "Found"
	case "Moved Permanently":
		return "Moved Permanently"
	case "Continue":
		return "Continue"
	case "keep-alive":
		return "keep-alive"
	case "Keep-Alive":
		return "Keep-Alive"
	case "close":
		return "close"
	case "chunked":
		return "chunked"
	}
	return string(b)
}

// statusText renders "200 OK" in one allocation.
func statusText(code int, reason string) string {
	b := make([]byte, 0, 4+len(reason))
	b = append(b, byte('0'+code/100%10), byte('0'+code/10%10), byte('0'+code%10), ' ')
	return string(append(b, reason...))
}
