package kafkaapi

import (
	"testing"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"samsa/netpoll"
)

// TestRegisterServesAKey: a handler registered with Register, as the API
// packages above this one register theirs, is served its key at the
// versions registered (and only those), sees the request as it came (its
// version, client id, the client's host, the Handler serving it), and
// answers at the request's version; ApiVersions advertises the key.
// Registering a key already served panics.
func TestRegisterServesAKey(t *testing.T) {
	const key = 47 // OffsetDelete: groupapi's, lent to this test
	serve := func(*Request, kmsg.Request) *netpoll.Response { return nil }
	func() {
		defer func() {
			if recover() == nil {
				t.Error("registering a key a second time did not panic")
			}
		}()
		Register(key, 0, 0, serve)
	}()
	saved, ok := apis[key]
	if !ok {
		t.Fatalf("key %d is not served: the test binary links the API packages (link_test.go)", key)
	}
	delete(apis, key)
	t.Cleanup(func() { apis[key] = saved })

	type seen struct {
		version      int16
		client, host string
		handler      *Handler
		ctxErr       error
	}
	got := make(chan seen, 1)
	Register(key, 0, 0, func(r *Request, req kmsg.Request) *netpoll.Response {
		got <- seen{r.Version(), r.ClientID(), r.ClientHost(), r.Handler(), r.Context().Err()}
		resp := kmsg.NewPtrOffsetDeleteResponse()
		resp.ErrorCode = kerr.GroupIDNotFound.Code
		return r.Respond(resp)
	})

	b := newTestBroker(t, nil)
	req := kmsg.NewPtrOffsetDeleteRequest()
	req.Group = "g"
	resp := do[*kmsg.OffsetDeleteResponse](b, 0, req)
	wantCode(t, "the registered handler's answer", resp.ErrorCode, kerr.GroupIDNotFound)
	s := <-got
	if s.version != 0 || s.client != "fuzz" || s.host != "/pipe" || s.handler != b.h || s.ctxErr != nil {
		t.Errorf("the handler saw version %d, client id %q, host %q, handler %p (want %p), context error %v",
			s.version, s.client, s.host, s.handler, b.h, s.ctxErr)
	}
	advertised := false
	for _, k := range do[*kmsg.ApiVersionsResponse](b, 3, apiVersionsRequest()).ApiKeys {
		advertised = advertised || k.ApiKey == key && k.MinVersion == 0 && k.MaxVersion == 0
	}
	if !advertised {
		t.Errorf("ApiVersions does not advertise key %d at v0", key)
	}
	if !b.closes(1, kmsg.NewPtrOffsetDeleteRequest()) {
		t.Error("a version above the registered range was answered")
	}
}
