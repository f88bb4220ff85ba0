package reqcheck

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"reflect"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kmsg"
)

// decode is kmsg's verdict on body. A decode still running after a second
// crashes the test binary: that is the spin Check exists to prevent. A panic
// is reported as an error.
func decode(key, version int16, body []byte) (err error) {
	req := kmsg.RequestForKey(key)
	req.SetVersion(version)
	watchdog := time.AfterFunc(time.Second, func() {
		panic(fmt.Sprintf("kmsg decode of key %d v%d still running after 1s: body %x", key, version, body))
	})
	defer watchdog.Stop()
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("kmsg panicked: %v", r)
		}
	}()
	return req.ReadFrom(body)
}

// agree fails t unless Check and kmsg agree on body, and returns Check's
// error. A tag count Check rejects is not given to kmsg: n tags need 2n
// bytes, so kmsg fails too, but may take minutes to.
func agree(t testing.TB, key, version int16, body []byte) error {
	t.Helper()
	err := Check(key, version, body)
	if errors.Is(err, errTagCount) {
		return err
	}
	if kerr := decode(key, version, body); (err == nil) != (kerr == nil) {
		t.Fatalf("key %d v%d body %x: Check: %v; kmsg: %v", key, version, body, err, kerr)
	}
	return err
}

var tagsType = reflect.TypeFor[kmsg.Tags]()

// filler fills kmsg requests with random contents.
type filler struct{ rng *rand.Rand }

// request is a random request of key at version.
func (g filler) request(key, version int16) kmsg.Request {
	req := kmsg.RequestForKey(key)
	v := reflect.ValueOf(req).Elem()
	for i := range v.NumField() {
		if v.Type().Field(i).Name != "Version" {
			g.fill(v.Field(i))
		}
	}
	req.SetVersion(version)
	return req
}

func (g filler) bytes() []byte {
	n := g.rng.IntN(9)
	if g.rng.IntN(8) == 0 {
		n = 100 + g.rng.IntN(200) // a two-byte length
	}
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(g.rng.Uint32())
	}
	return b
}

func (g filler) fill(v reflect.Value) {
	switch t := v.Type(); t.Kind() {
	case reflect.Bool:
		v.SetBool(g.rng.IntN(2) == 0)
	case reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		v.SetInt(int64(g.rng.Uint64()))
	case reflect.String:
		v.SetString(string(g.bytes()))
	case reflect.Array:
		for i := range v.Len() {
			g.fill(v.Index(i))
		}
	case reflect.Uint8:
		v.SetUint(uint64(g.rng.Uint32()))
	case reflect.Pointer: // a nullable string
		if g.rng.IntN(4) != 0 {
			v.Set(reflect.New(t.Elem()))
			g.fill(v.Elem())
		} else {
			v.SetZero()
		}
	case reflect.Slice:
		switch {
		case g.rng.IntN(5) == 0:
			v.SetZero() // null, where nullable
		case t.Elem().Kind() == reflect.Uint8:
			v.SetBytes(g.bytes())
		default:
			v.Set(reflect.MakeSlice(t, g.rng.IntN(4), 3))
			for i := range v.Len() {
				g.fill(v.Index(i))
			}
		}
	case reflect.Struct:
		if t == tagsType {
			tags := v.Addr().Interface().(*kmsg.Tags)
			for range g.rng.IntN(3) * g.rng.IntN(2) {
				tags.Set(2+g.rng.Uint32N(300), g.bytes()) // 0 and 1 are known in Fetch
			}
			return
		}
		for i := range v.NumField() {
			g.fill(v.Field(i))
		}
	default:
		panic("unfilled kind " + t.String())
	}
}
