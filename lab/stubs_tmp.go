package lab

func stub(n string) Scenario {
	return Scenario{Name: n, run: nil}
}
func healthy() Scenario             { return stub("healthy") }
func pmtuBlackhole() Scenario       { return stub("pmtu-blackhole") }
func burstDrop() Scenario           { return stub("burst-drop") }
func bulkRandomLoss() Scenario      { return stub("bulk-random-loss") }
func snatMSSClamp() Scenario        { return stub("snat-mss-clamp") }
func httpKeepalive() Scenario       { return stub("http-keepalive") }
func httpNoKeepalive() Scenario     { return stub("http-no-keepalive") }
func oncrpc() Scenario              { return stub("oncrpc") }
func duplicateForwarding() Scenario { return stub("duplicate-forwarding") }
