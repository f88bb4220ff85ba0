module samsa

go 1.26.0

require golang.org/x/sys v0.49.0

require github.com/twmb/franz-go/pkg/kmsg v1.15.0
