package closing

import "github.com/wiresleuth/wiresleuth/tcp"

const retransmission = tcp.Retransmission
