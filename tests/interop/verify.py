#!/usr/bin/env python3
"""Flowtriq's reference Python verifier, wrapped in a command line.

usage: verify.py BODY_FILE [SECRET] [SIGNATURE_HEADER]

SECRET defaults to $FLOWTRIQ_WEBHOOK_SECRET and SIGNATURE_HEADER to $FLOWTRIQ_SIGNATURE.
Prints this verifier's own `sha256=<hex>` for the body, then exits 0 when SIGNATURE_HEADER
verifies with the vendor's exact comparison and 1 otherwise (2 on bad usage).
"""
import os
import sys

# --- Vendor reference (Flowtriq webhook reference, "Python"), verbatim ---------------------
import hmac, hashlib
def verify_signature(payload_body, signature_header, secret):
    expected = 'sha256=' + hmac.new(
        secret.encode(), payload_body, hashlib.sha256
    ).hexdigest()
    return hmac.compare_digest(expected, signature_header)
# --- End of vendor reference ----------------------------------------------------------------


def own_signature(payload_body, secret):
    """The `expected` value of the reference function, computed the same way."""
    return 'sha256=' + hmac.new(secret.encode(), payload_body, hashlib.sha256).hexdigest()


def main(argv):
    if len(argv) < 2:
        print(__doc__.strip(), file=sys.stderr)
        return 2
    secret = argv[2] if len(argv) > 2 else os.environ.get('FLOWTRIQ_WEBHOOK_SECRET')
    header = argv[3] if len(argv) > 3 else os.environ.get('FLOWTRIQ_SIGNATURE', '')
    if secret is None:
        print('verify.py: no secret (argument or FLOWTRIQ_WEBHOOK_SECRET)', file=sys.stderr)
        return 2
    with open(argv[1], 'rb') as f:
        payload_body = f.read()
    print(own_signature(payload_body, secret))
    try:
        valid = verify_signature(payload_body, header, secret)
    except TypeError as e:  # compare_digest refuses non-ASCII text
        print(f'verify.py: {e}', file=sys.stderr)
        valid = False
    return 0 if valid else 1


if __name__ == '__main__':
    sys.exit(main(sys.argv))
