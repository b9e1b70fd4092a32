package bench

import "fmt"

// Goal is one measurable promise of issue 7, checked against a report.
type Goal struct {
	Goal     string `json:"goal"`
	Measured string `json:"measured"`
	Met      bool   `json:"met"`
}

// Goals checks the report against issue 7, at the smallest and largest
// sizes measured; a goal whose numbers are missing is left out.
func (r *Report) Goals() []Goal {
	if len(r.Sizes) == 0 {
		return nil
	}
	lo, hi := r.Sizes[0], r.Sizes[len(r.Sizes)-1]
	var gs []Goal
	ratio := func(op, what string) {
		a, ok1 := r.Find("signet", op, lo)
		b, ok2 := r.Find("signet", op, hi)
		if !ok1 || !ok2 || lo == hi || a.Wall == 0 {
			return
		}
		k := float64(b.Wall) / float64(a.Wall)
		gs = append(gs, Goal{
			Goal:     fmt.Sprintf("%s at %d tags within 1.5x of %d tags", what, hi, lo),
			Measured: fmt.Sprintf("%s vs %s (%.2fx)", fmtDuration(b.Wall), fmtDuration(a.Wall), k),
			Met:      k <= 1.5,
		})
	}
	ratio(OpSign, "signet sign wall time")
	ratio(OpVerifyCold, "signet cold verify wall time")
	ratio(OpVerifyWarm, "signet warm verify wall time")
	if x, ok := r.Find("signet", OpVerifyCold, hi); ok {
		gs = append(gs, Goal{fmt.Sprintf("cold verify at %d tags downloads under 300 KB", hi), fmtBytes(float64(x.Bytes)) + " transferred", x.Bytes < 300_000})
	}
	if x, ok := r.Find("signet", OpVerifyWarm, hi); ok {
		gs = append(gs, Goal{fmt.Sprintf("warm verify at %d tags makes at most 2 requests", hi), fmt.Sprintf("%d requests", x.Requests), x.Requests <= 2})
	}
	peer := func(tool string, factor float64, sign, verify bool) {
		for _, op := range []struct{ mine, theirs, what string }{{OpSign, OpSign, "sign"}, {OpVerifyCold, OpVerify, "cold verify"}, {OpVerifyWarm, OpVerify, "warm verify"}} {
			if (op.mine == OpSign && !sign) || (op.mine != OpSign && !verify) {
				continue
			}
			a, ok1 := r.Find("signet", op.mine, hi)
			b, ok2 := r.Find(tool, op.theirs, hi)
			if !ok1 || !ok2 || b.Wall == 0 {
				continue
			}
			k := float64(a.Wall) / float64(b.Wall)
			want := fmt.Sprintf("faster than %s", tool)
			met := k < factor
			if factor != 1 {
				want = fmt.Sprintf("within %.1fx of %s", factor, tool)
				met = k <= factor
			}
			gs = append(gs, Goal{
				Goal:     fmt.Sprintf("signet %s at %d tags %s", op.what, hi, want),
				Measured: fmt.Sprintf("%s vs %s (%.2fx)", fmtDuration(a.Wall), fmtDuration(b.Wall), k),
				Met:      met,
			})
			if tool == "notation" {
				gs = append(gs, Goal{
					Goal:     fmt.Sprintf("signet %s at %d tags makes no more requests than notation", op.what, hi),
					Measured: fmt.Sprintf("%d vs %d", a.Requests, b.Requests),
					Met:      a.Requests <= b.Requests,
				})
			}
		}
	}
	peer("cosign", 1, true, true)
	peer("notation", 1.2, true, true)
	return gs
}
