package saslauth

import (
	"bytes"
	"errors"
	"testing"

	"github.com/twmb/franz-go/pkg/kmsg"

	"samsa/netpoll"
	"samsa/security/sasl"
)

// FuzzAuthenticate drives one connection's authenticator with the frames
// of the input (each prefixed by a length byte): it never panics, an
// error ends the connection (nothing after it is looked at), and a
// connection authenticates only as alice, and only if her password is in
// the input.
func FuzzAuthenticate(f *testing.F) {
	plain := sized(requestFrame(func() kmsg.Request {
		r := handshakeRequest(sasl.Plain)
		r.SetVersion(0)
		return r
	}(), 1))
	f.Add(append(append([]byte{byte(len(plain) - 4)}, plain[4:]...), append([]byte{15}, "\x00alice\x00alice-pw"...)...))
	hs := handshakeRequest(sasl.ScramSHA256)
	hs.SetVersion(1)
	fr := requestFrame(hs, 1)
	au := authenticateRequest([]byte("n,,n=alice,r=abc"))
	au.SetVersion(2)
	fr2 := requestFrame(au, 2)
	f.Add(append(append([]byte{byte(len(fr))}, fr...), append([]byte{byte(len(fr2))}, fr2...)...))
	f.Add([]byte{3, 0, 18, 0})

	fx := newSASLFixture(f, 0)
	f.Fuzz(func(t *testing.T, in []byte) {
		a := New(Config{Mechanisms: allMechanisms, NewServer: func(m string) sasl.Server {
			if m == sasl.Plain {
				return sasl.NewPlain(func(u string) (string, bool) { return "alice-pw", u == "alice" })
			}
			return sasl.NewScram(sasl.Scram(m), fx.cache.Lookup)
		}, APIVersions: fx.h})(nil)
		c := &netpoll.Conn{}
		for len(in) > 0 {
			n := min(int(in[0]), len(in)-1)
			frame := in[1 : 1+n]
			in = in[1+n:]
			_, done, err := a.Authenticate(c, frame)
			if err != nil {
				if !errors.Is(err, sasl.ErrFailed) && !errors.Is(err, netpoll.ErrNotSASL) {
					t.Fatalf("error %v is neither a failure nor ErrNotSASL", err)
				}
				return
			}
			if done {
				if p := c.Principal().String(); p != "User:alice" {
					t.Fatalf("authenticated as %s", p)
				}
				if !bytes.Contains(frame, []byte("alice-pw")) && !bytes.Contains(frame, []byte("p=")) {
					t.Fatalf("authenticated without a password or proof: %q", frame)
				}
				return
			}
		}
	})
}
