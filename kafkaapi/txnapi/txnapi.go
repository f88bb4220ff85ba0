package txnapi

import (
	"samsa/internal/apierr"
)

func codeOf(err error) int16 { return apierr.Code(err) }

func msgOf(err error) *string { return apierr.Message(err) }
