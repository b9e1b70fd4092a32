module github.com/signet-dev/signet

go 1.26.0
