package lab

func stub(n string) Scenario {
	return Scenario{Name: n, run: nil}
}
func healthy() Scenario         { return stub("healthy") }
func httpKeepalive() Scenario   { return stub("http-keepalive") }
func httpNoKeepalive() Scenario { return stub("http-no-keepalive") }
func oncrpc() Scenario          { return stub("oncrpc") }
