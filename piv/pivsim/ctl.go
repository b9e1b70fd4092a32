package pivsim

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"time"
)

// CardStatus is what the control server reports about one card.
type CardStatus struct {
	Serial    uint32      `json:"serial"`
	VPCD      string      `json:"vpcd"`      // vpcd address the card dials
	Inserted  bool        `json:"inserted"`  // false after Remove
	Connected bool        `json:"connected"` // connected to vpcd now
	Touch     TouchConfig `json:"touch"`
	Counters  Counters    `json:"counters"`
	KeepPower bool        `json:"keep_power"` // Card.KeepPower
}

func statusOf(r *Reader) CardStatus {
	in, conn := r.Status()
	return CardStatus{
		Serial:    r.card.Serial(),
		VPCD:      r.addr,
		Inserted:  in,
		Connected: conn,
		Touch:     r.card.TouchConfig(),
		Counters:  r.card.Counters(),
		KeepPower: r.card.PowerKept(),
	}
}

// insertWait bounds how long an insert request waits for vpcd.
const insertWait = 10 * time.Second

// NewControlHandler serves the control API for the readers' cards:
//
//	GET  /v1/cards                          []CardStatus
//	GET  /v1/cards/{serial}                 CardStatus
//	GET  /v1/cards/{serial}/counters        Counters
//	POST /v1/cards/{serial}/counters/reset  zero the counters
//	POST /v1/cards/{serial}/touch           TouchConfig (zero fields kept) -> TouchConfig
//	POST /v1/cards/{serial}/press           press the button -> {"accepted": bool}
//	POST /v1/cards/{serial}/power           {"keep": bool}: Card.KeepPower -> CardStatus
//	POST /v1/cards/{serial}/factory-reset   Card.FactoryReset
//	POST /v1/cards/{serial}/remove          pull the card out of the reader
//	POST /v1/cards/{serial}/insert          put it back, wait until vpcd has it
//	GET  /v1/cards/{serial}/ca              attestation CA certificate (PEM)
//
// Serve it on loopback only: it can wipe the cards.
func NewControlHandler(readers ...*Reader) http.Handler {
	mux := http.NewServeMux()
	lookup := func(w http.ResponseWriter, req *http.Request) *Reader {
		n, err := strconv.ParseUint(req.PathValue("serial"), 10, 32)
		if err == nil {
			for _, r := range readers {
				if r.card.Serial() == uint32(n) {
					return r
				}
			}
		}
		http.Error(w, fmt.Sprintf("no card with serial %q", req.PathValue("serial")), http.StatusNotFound)
		return nil
	}
	card := func(method, path string, h func(http.ResponseWriter, *http.Request, *Reader)) {
		mux.HandleFunc(method+" /v1/cards/{serial}"+path, func(w http.ResponseWriter, req *http.Request) {
			if r := lookup(w, req); r != nil {
				h(w, req, r)
			}
		})
	}
	mux.HandleFunc("GET /v1/cards", func(w http.ResponseWriter, _ *http.Request) {
		out := make([]CardStatus, 0, len(readers))
		for _, r := range readers {
			out = append(out, statusOf(r))
		}
		writeJSON(w, out)
	})
	card("GET", "", func(w http.ResponseWriter, _ *http.Request, r *Reader) { writeJSON(w, statusOf(r)) })
	card("GET", "/counters", func(w http.ResponseWriter, _ *http.Request, r *Reader) {
		writeJSON(w, r.card.Counters())
	})
	card("POST", "/counters/reset", func(w http.ResponseWriter, _ *http.Request, r *Reader) {
		r.card.ResetCounters()
		writeJSON(w, r.card.Counters())
	})
	card("POST", "/touch", func(w http.ResponseWriter, req *http.Request, r *Reader) {
		var cfg TouchConfig
		if err := json.NewDecoder(http.MaxBytesReader(w, req.Body, 1<<12)).Decode(&cfg); err != nil {
			http.Error(w, "bad touch config: "+err.Error(), http.StatusBadRequest)
			return
		}
		if err := r.card.SetTouch(cfg); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		writeJSON(w, r.card.TouchConfig())
	})
	card("POST", "/press", func(w http.ResponseWriter, _ *http.Request, r *Reader) {
		writeJSON(w, map[string]bool{"accepted": r.card.Touch()})
	})
	card("POST", "/power", func(w http.ResponseWriter, req *http.Request, r *Reader) {
		var p struct {
			Keep bool `json:"keep"`
		}
		if err := json.NewDecoder(http.MaxBytesReader(w, req.Body, 1<<12)).Decode(&p); err != nil {
			http.Error(w, "bad power request: "+err.Error(), http.StatusBadRequest)
			return
		}
		r.card.KeepPower(p.Keep)
		writeJSON(w, statusOf(r))
	})
	card("POST", "/factory-reset", func(w http.ResponseWriter, _ *http.Request, r *Reader) {
		if err := r.card.FactoryReset(); err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		writeJSON(w, statusOf(r))
	})
	card("POST", "/remove", func(w http.ResponseWriter, _ *http.Request, r *Reader) {
		r.Remove()
		writeJSON(w, statusOf(r))
	})
	card("POST", "/insert", func(w http.ResponseWriter, req *http.Request, r *Reader) {
		r.Insert()
		ctx, cancel := context.WithTimeout(req.Context(), insertWait)
		defer cancel()
		if err := r.WaitConnected(ctx); err != nil {
			http.Error(w, "card inserted but vpcd did not take it: "+err.Error(), http.StatusGatewayTimeout)
			return
		}
		writeJSON(w, statusOf(r))
	})
	card("GET", "/ca", func(w http.ResponseWriter, _ *http.Request, r *Reader) {
		w.Header().Set("Content-Type", "application/x-pem-file")
		_, _ = w.Write(r.card.AttestationCAPEM())
	})
	return mux
}

func writeJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(v)
}
