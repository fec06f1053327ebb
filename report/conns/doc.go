// Package conns renders connection records (conn.Record) for the `conns`
// command: aligned text for people, JSON ({"connections": [...]}, stable
// field names), TSV with a header row, and `zeek`, a conn.log in Zeek's own
// TSV format (#separator, #fields, #types…) that zeek-cut and other Zeek
// tooling read. Writers stream: memory does not grow with the number of
// records (text aligns blocks of rows). Everything is escaped; nothing
// taken from packets reaches the output raw.
package conns
