package conn

import (
	"testing"
	"unsafe"
)

func TestPrintSizes(t *testing.T) {
	var c connState
	t.Logf("connState %d tcpConn %d tcpEndpoint %d extras %d sideState %d ttl %d ipid %d sums %d hs %d", unsafe.Sizeof(c), unsafe.Sizeof(c.tcp), unsafe.Sizeof(c.tcp.ep[0]), unsafe.Sizeof(c.x), unsafe.Sizeof(c.x.side[0]), unsafe.Sizeof(c.x.side[0].ttl), unsafe.Sizeof(c.x.side[0].ipid), unsafe.Sizeof(c.x.side[0].sums), unsafe.Sizeof(c.x.hs[0]))
}
