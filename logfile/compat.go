package logfile

import "samsa/record"

// Aliases of package record kept for cmd/samsa/dumplog.go, which moves to
// record when its pending changes land; nothing else may use them.

// Deprecated: use record.Header.
type Header = record.Header

// Deprecated: use record.HeaderSize.
const HeaderSize = record.HeaderSize

// Deprecated: use the record.Attr constants.
const (
	AttrLogAppendTime = record.AttrLogAppendTime
	AttrTransactional = record.AttrTransactional
	AttrControl       = record.AttrControl
)

// Deprecated: use record.ErrTornTail.
var ErrTornTail = record.ErrTornTail

// Deprecated: use record.ParseHeader.
func ParseHeader(b []byte) (Header, error) { return record.ParseHeader(b) }

// Deprecated: use record.CheckCRC.
func CheckCRC(batch []byte, h *Header) error { return record.CheckCRC(batch, h) }
