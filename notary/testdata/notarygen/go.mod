module github.com/signet-dev/signet/notary/testdata/notarygen

go 1.26.0

require github.com/theupdateframework/notary v0.7.0

require (
	github.com/docker/go v1.5.1-1.0.20160303222718-d30aec9fd63c // indirect
	github.com/konsorten/go-windows-terminal-sequences v1.0.2 // indirect
	github.com/sirupsen/logrus v1.4.1 // indirect
	golang.org/x/crypto v0.0.0-20201117144127-c1f2f97bffc9 // indirect
	golang.org/x/sys v0.0.0-20191120155948-bd437916bb0e // indirect
	golang.org/x/term v0.0.0-20201117132131-f5c789dd3221 // indirect
)
