// Flowtriq's reference Go verifier, wrapped in a command line.
//
// usage: go run verify.go BODY_FILE [SECRET] [SIGNATURE_HEADER]
//
// SECRET defaults to $FLOWTRIQ_WEBHOOK_SECRET and SIGNATURE_HEADER to $FLOWTRIQ_SIGNATURE.
// Prints this verifier's own `sha256=<hex>` for the body, then exits 0 when SIGNATURE_HEADER
// verifies with the vendor's exact comparison and 1 otherwise (2 on bad usage).
package main

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
)

// verify is the vendor's reference snippet, verbatim, as a function: it returns the
// `expected` value it computed and whether the header is valid.
func verify(payloadBody, signatureHeader, secret string) (string, bool) {
	// --- Vendor reference (Flowtriq webhook reference, "Go"), verbatim ---------------------
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write([]byte(payloadBody))
	expected := "sha256=" + hex.EncodeToString(mac.Sum(nil))
	valid := hmac.Equal([]byte(expected), []byte(signatureHeader))
	// --- End of vendor reference ------------------------------------------------------------
	return expected, valid
}

func main() {
	if len(os.Args) < 2 {
		fmt.Fprintln(os.Stderr, "usage: go run verify.go BODY_FILE [SECRET] [SIGNATURE_HEADER]")
		os.Exit(2)
	}
	secret, ok := os.LookupEnv("FLOWTRIQ_WEBHOOK_SECRET")
	if len(os.Args) > 2 {
		secret, ok = os.Args[2], true
	}
	if !ok {
		fmt.Fprintln(os.Stderr, "verify.go: no secret (argument or FLOWTRIQ_WEBHOOK_SECRET)")
		os.Exit(2)
	}
	header := os.Getenv("FLOWTRIQ_SIGNATURE")
	if len(os.Args) > 3 {
		header = os.Args[3]
	}
	data, err := os.ReadFile(os.Args[1])
	if err != nil {
		fmt.Fprintln(os.Stderr, "verify.go:", err)
		os.Exit(2)
	}
	// The reference takes the body as a string; the conversion keeps every byte.
	payloadBody := string(data)
	expected, valid := verify(payloadBody, header, secret)
	fmt.Println(expected)
	if !valid {
		os.Exit(1)
	}
}
