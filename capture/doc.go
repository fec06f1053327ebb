// Package capture reads packet capture files: pcap (microsecond and
// nanosecond, either byte order, and the Kuznetzov variant) and pcapng
// (several sections and interfaces, SHB/IDB/EPB/SPB/PB/ISB, comments and
// interface statistics), plain or compressed with gzip or zstd, detected by
// magic bytes rather than by file name.
//
// Reading is streaming and allocation-free per frame: a Frame's Data points
// into the reader's buffer and is valid only until the next frame is read
// (use Frame.Clone to keep one). Nothing a file claims is allocated on trust:
// snap lengths and block lengths are checked against hard caps and against
// what remains, so a hostile header cannot make the reader allocate
// gigabytes. A damaged file yields every frame before the damage and then an
// error (ErrTruncated or ErrCorrupt) saying where it stopped.
package capture
