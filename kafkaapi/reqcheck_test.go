package kafkaapi

import (
	"errors"
	"testing"

	"samsa/kafkaapi/reqcheck"
)

// TestReqcheckKnowsServedAPIs: reqcheck has the layout of every flexible
// version the broker serves (an empty body runs out there) and lets every
// other served version through unwalked.
func TestReqcheckKnowsServedAPIs(t *testing.T) {
	for key, h := range apis {
		for v := h.min; v <= h.max; v++ {
			err := reqcheck.Check(key, v, nil)
			switch {
			case errors.Is(err, reqcheck.ErrUnknown):
				t.Errorf("key %d v%d: reqcheck has no layout: %v", key, v, err)
			case flexibleVersion(key, v) && !errors.Is(err, reqcheck.ErrMalformed):
				t.Errorf("key %d v%d is flexible but an empty body is not walked: %v", key, v, err)
			case !flexibleVersion(key, v) && err != nil:
				t.Errorf("key %d v%d is not flexible: %v", key, v, err)
			}
		}
	}
}
