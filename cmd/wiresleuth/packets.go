package main

import (
	"bufio"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/wiresleuth/wiresleuth/app/track"
	"github.com/wiresleuth/wiresleuth/capture"
	"github.com/wiresleuth/wiresleuth/dfilter"
	"github.com/wiresleuth/wiresleuth/fields"
	"github.com/wiresleuth/wiresleuth/pipeline"
	"github.com/wiresleuth/wiresleuth/pktline"
)

type multiFlag []string

func (m *multiFlag) String() string     { return strings.Join(*m, ",") }
func (m *multiFlag) Set(v string) error { *m = append(*m, v); return nil }

func runPackets(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("packets", flag.ContinueOnError)
	filter := fs.String("Y", "", "display filter, e.g. 'tcp.analysis.retransmission and ip.addr == 10.0.0.0/8'")
	mode := fs.String("T", "text", "output: text (tcpdump-style lines) or fields (tab-separated -e fields, as tshark)")
	var fieldNames, opts multiFlag
	fs.Var(&fieldNames, "e", "field to print with -T fields (repeatable; tshark's names, see `wiresleuth fields`)")
	fs.Var(&opts, "E", "fields option as tshark's -E: header=y, separator=/t|/s|C, aggregator=C")
	count := fs.Int64("c", 0, "stop after this many packets are printed (0: all)")
	timeFmt := fs.String("time", "tod", "timestamps in text mode: tod (time of day, UTC), date, epoch or relative")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "Usage: wiresleuth packets [-Y FILTER] [-T text|fields -e FIELD ...] FILE...")
		fs.PrintDefaults()
	}
	if code := parse(fs, args, stderr); code >= 0 {
		return code
	}
	if !checkFormat(*mode, stderr, "text", "fields") {
		return 2
	}
	var tf pktline.TimeFormat
	switch *timeFmt {
	case "tod":
		tf = pktline.TimeOfDay
	case "date":
		tf = pktline.DateTime
	case "epoch":
		tf = pktline.Epoch
	case "relative":
		tf = pktline.Relative
	default:
		fmt.Fprintf(stderr, "wiresleuth: unknown --time %q\n", *timeFmt)
		return 2
	}
	var flt *dfilter.Filter
	if *filter != "" {
		var err error
		if flt, err = dfilter.Compile(*filter); err != nil {
			fmt.Fprintln(stderr, "wiresleuth:", err)
			return 2
		}
	}
	sep, agg, header := byte('\t'), byte(','), false
	for _, o := range opts {
		k, v, _ := strings.Cut(o, "=")
		switch {
		case k == "header":
			header = v == "y"
		case k == "separator" && v == "/t":
			sep = '\t'
		case k == "separator" && v == "/s":
			sep = ' '
		case k == "separator" && len(v) == 1:
			sep = v[0]
		case k == "aggregator" && len(v) == 1:
			agg = v[0]
		case k == "occurrence" && v == "a":
		default:
			fmt.Fprintf(stderr, "wiresleuth: unsupported -E %q\n", o)
			return 2
		}
	}
	var fl []*fields.Field
	if *mode == "fields" {
		if len(fieldNames) == 0 {
			fmt.Fprintln(stderr, "wiresleuth: -T fields needs at least one -e FIELD")
			return 2
		}
		for _, n := range fieldNames {
			f, ok := fields.Lookup(n)
			if !ok {
				fmt.Fprintf(stderr, "wiresleuth: unknown field %q (run `wiresleuth fields` for the list)\n", n)
				return 2
			}
			fl = append(fl, f)
		}
	}
	// Application fields need a decoding pass before the frames are shown:
	// a message belongs to the frame carrying its last byte, which the
	// decoders know only once reassembly and dispatch have run.
	want := map[string]bool{}
	for _, f := range fl {
		if f.App {
			want[f.Name] = true
		}
	}
	if flt != nil {
		for _, f := range flt.Fields() {
			if f.App {
				want[f.Name] = true
			}
		}
	}
	files, ok := inputs(fs.Args(), stderr)
	if !ok {
		return 2
	}
	w := bufio.NewWriterSize(stdout, 64<<10)
	defer w.Flush()
	if header && *mode == "fields" {
		w.WriteString(strings.Join(fieldNames, string(sep)) + "\n")
	}
	var (
		line    []byte
		vals    []fields.Value
		printed int64
	)
	for _, file := range files {
		var appFields track.FrameFields
		if len(want) > 0 {
			var cleanup func()
			var err error
			if file, cleanup, err = rereadable(file); err != nil {
				fmt.Fprintln(stderr, "wiresleuth:", err)
				return 2
			}
			defer cleanup()
			appFields, _, err = track.Fields(file, pipeline.Options{}, func(name string) bool { return want[name] })
			if err != nil {
				w.Flush()
				fmt.Fprintln(stderr, "wiresleuth:", err)
				return 2
			}
		}
		pcapng := false
		s, err := pipeline.Run(file, pipeline.Options{}, func(p *pipeline.Packet) error {
			if p.Frame == 1 {
				pcapng = isPcapng(file)
			}
			c := fields.Context{P: p.Packet, A: p.TCP, First: p.First, Prev: p.Prev, Pcapng: pcapng, App: appFields[p.Frame]}
			if flt != nil && !flt.Match(&c) {
				return nil
			}
			line = line[:0]
			if *mode == "fields" {
				for i, f := range fl {
					if i > 0 {
						line = append(line, sep)
					}
					vals = f.Values(&c, vals[:0])
					line = fields.AppendAll(line, vals, agg)
				}
			} else {
				line = pktline.Append(line, p.Packet, p.TCP, pktline.Options{Time: tf, First: p.First})
			}
			line = append(line, '\n')
			w.Write(line)
			printed++
			if *count > 0 && printed >= *count {
				return pipeline.ErrStop
			}
			return nil
		})
		if err != nil {
			w.Flush()
			fmt.Fprintln(stderr, "wiresleuth:", err)
			return 2
		}
		if s.Damage != nil {
			w.Flush()
			fmt.Fprintf(stderr, "wiresleuth: warning: %v (analysed the %d frames before it)\n", s.Damage, s.Frames)
		}
		if *count > 0 && printed >= *count {
			break
		}
	}
	return 0
}

// rereadable returns a name under which file can be read twice: file
// itself, or for standard input a temporary copy that cleanup removes.
func rereadable(file string) (name string, cleanup func(), err error) {
	if file != "-" {
		return file, func() {}, nil
	}
	f, err := os.CreateTemp("", "wiresleuth-stdin-*")
	if err != nil {
		return "", nil, err
	}
	cleanup = func() { os.Remove(f.Name()) }
	if _, err := io.Copy(f, os.Stdin); err != nil {
		f.Close()
		cleanup()
		return "", nil, fmt.Errorf("standard input: %w", err)
	}
	if err := f.Close(); err != nil {
		cleanup()
		return "", nil, err
	}
	return f.Name(), cleanup, nil
}

// isPcapng reports whether file is pcapng (frame.interface_id exists only
// there); standard input is not reopened.
func isPcapng(file string) bool {
	if file == "-" {
		return false
	}
	r, err := capture.Open(file)
	if err != nil {
		return false
	}
	defer r.Close()
	return r.Format() == capture.FormatPcapng
}

func runFields(args []string, stdout, stderr io.Writer) int {
	for _, n := range fields.Names() {
		fmt.Fprintln(stdout, n)
	}
	return 0
}
