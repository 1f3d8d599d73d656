package oracle

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"testing"

	"istio.io/istio/pkg/log"
)

// TestOracle is the program's entry point: `oracle.test -test.run '^TestOracle$'` with
// MESHMEDIC_ORACLE_INPUT (a request file, or "-" for stdin) and MESHMEDIC_ORACLE_OUTPUT (where the
// response is written). Without MESHMEDIC_ORACLE_INPUT it is skipped, so `go test ./...` stays quiet.
func TestOracle(t *testing.T) {
	input := os.Getenv("MESHMEDIC_ORACLE_INPUT")
	if input == "" {
		t.Skip("MESHMEDIC_ORACLE_INPUT not set")
	}
	silenceIstio()
	req, err := readRequest(input)
	if err != nil {
		t.Fatal(err)
	}
	resp := Response{Istio: istioVersion(), Cases: make([]CaseResult, 0, len(req.Cases))}
	for i, c := range req.Cases {
		if c.ID == "" {
			c.ID = fmt.Sprintf("case-%d", i)
		}
		var res CaseResult
		ok := t.Run(fmt.Sprintf("case-%d", i), func(t *testing.T) {
			res = judgeCase(t, c)
		})
		if !ok && res.Error == "" {
			res = CaseResult{ID: c.ID, Error: "Istio's config generator failed on this case (see stderr)", Queries: []QueryResult{}}
		}
		resp.Cases = append(resp.Cases, res)
	}
	if err := writeResponse(os.Getenv("MESHMEDIC_ORACLE_OUTPUT"), resp); err != nil {
		t.Fatal(err)
	}
}

func readRequest(input string) (Request, error) {
	var data []byte
	var err error
	if input == "-" {
		data, err = io.ReadAll(os.Stdin)
	} else {
		data, err = os.ReadFile(input)
	}
	if err != nil {
		return Request{}, err
	}
	var req Request
	if err := json.Unmarshal(data, &req); err != nil {
		return Request{}, fmt.Errorf("the request is not valid JSON: %v", err)
	}
	return req, nil
}

func writeResponse(path string, resp Response) error {
	data, err := json.Marshal(resp)
	if err != nil {
		return err
	}
	if path == "" || path == "-" {
		_, err = os.Stdout.Write(append(data, '\n'))
		return err
	}
	return os.WriteFile(path, data, 0o644)
}

// silenceIstio turns Istio's info-level logging off: it would print hundreds of lines a case.
func silenceIstio() {
	for _, s := range log.Scopes() {
		s.SetOutputLevel(log.NoneLevel)
		s.SetStackTraceLevel(log.NoneLevel)
	}
}
