package agent

import (
	"fmt"
	"runtime"
	"syscall"
	"unsafe"
)

// Legacy ethtool commands (linux/ethtool.h) that switch one offload each.
const (
	siocEthtool    = 0x8946
	ethtoolSTXCSUM = 0x17 // transmit checksum offload
	ethtoolSSG     = 0x19 // scatter-gather
	ethtoolSTSO    = 0x1f // TCP segmentation offload
	ethtoolSGSO    = 0x24 // generic segmentation offload
	ethtoolSGRO    = 0x2c // generic receive offload
)

type ethtoolValue struct {
	cmd  uint32
	data uint32
}

// ifreq is struct ifreq with the ifr_data member of the union.
type ifreq struct {
	name [16]byte
	data unsafe.Pointer
	_    [16]byte
}

// offload switches off checksum and segmentation offloads on the named
// interfaces of the current network namespace, as `ethtool -K DEV tx off sg
// off tso off gso off gro off` would. On veth the kernel otherwise hands
// tcpdump 64 KB super-segments with unfinished checksums, which is not what
// a wire carries.
func offload(e *env, args []string) error {
	fs, _ := e.flags()
	if err := fs.Parse(args); err != nil {
		return err
	}
	fd, err := syscall.Socket(syscall.AF_INET, syscall.SOCK_DGRAM, 0)
	if err != nil {
		return fmt.Errorf("socket: %w", err)
	}
	defer syscall.Close(fd)
	for _, dev := range fs.Args() {
		if len(dev) >= 16 {
			return fmt.Errorf("%s: interface name too long", dev)
		}
		for _, cmd := range []uint32{ethtoolSTXCSUM, ethtoolSSG, ethtoolSTSO, ethtoolSGSO, ethtoolSGRO} {
			v := &ethtoolValue{cmd: cmd}
			ifr := &ifreq{data: unsafe.Pointer(v)}
			copy(ifr.name[:], dev)
			_, _, errno := syscall.Syscall(syscall.SYS_IOCTL, uintptr(fd), siocEthtool, uintptr(unsafe.Pointer(ifr)))
			runtime.KeepAlive(v)
			if errno != 0 {
				return fmt.Errorf("%s: ethtool command %#x: %w", dev, cmd, errno)
			}
		}
		e.say("%s: tx checksum, sg, tso, gso, gro off", dev)
	}
	return nil
}
