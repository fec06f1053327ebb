package synth

import "slices"

// CaptureIndexed is Capture that also says, for each frame, which packet
// of Packets() it shows (a duplicated packet's copies share the index):
// the ground truth for tests that match packets across vantage points.
func (c *Conn) CaptureIndexed(v Vantage) ([]Frame, []int) {
	var out []Frame
	var idx []int
	for i := range c.log {
		n := len(out)
		out = c.render(&v, &c.log[i], out, false)
		for range len(out) - n {
			idx = append(idx, i)
		}
	}
	order := make([]int, len(out))
	for i := range order {
		order[i] = i
	}
	slices.SortStableFunc(order, func(a, b int) int { return out[a].Time.Compare(out[b].Time) })
	frames := make([]Frame, len(out))
	ids := make([]int, len(out))
	for i, o := range order {
		frames[i], ids[i] = out[o], idx[o]
	}
	return frames, ids
}
