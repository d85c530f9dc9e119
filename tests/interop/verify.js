#!/usr/bin/env node
// Flowtriq's reference Node.js verifier, wrapped in a command line.
//
// usage: verify.js BODY_FILE [SECRET] [SIGNATURE_HEADER]
//
// SECRET defaults to $FLOWTRIQ_WEBHOOK_SECRET and SIGNATURE_HEADER to $FLOWTRIQ_SIGNATURE.
// Prints this verifier's own `sha256=<hex>` for the body, then exits 0 when SIGNATURE_HEADER
// verifies with the vendor's exact comparison and 1 otherwise (2 on bad usage).
'use strict';
const fs = require('fs');

// --- Vendor reference (Flowtriq webhook reference, "Node.js"), verbatim ---------------------
const crypto = require('crypto');
function verifySignature(body, signatureHeader, secret) {
  const expected = 'sha256=' + crypto
    .createHmac('sha256', secret)
    .update(body)
    .digest('hex');
  return crypto.timingSafeEqual(
    Buffer.from(expected),
    Buffer.from(signatureHeader)
  );
}
// --- End of vendor reference ----------------------------------------------------------------

// The `expected` value of the reference function, computed the same way.
function ownSignature(body, secret) {
  return 'sha256=' + crypto.createHmac('sha256', secret).update(body).digest('hex');
}

function main(argv) {
  if (argv.length < 1) {
    process.stderr.write('usage: verify.js BODY_FILE [SECRET] [SIGNATURE_HEADER]\n');
    return 2;
  }
  const secret = argv.length > 1 ? argv[1] : process.env.FLOWTRIQ_WEBHOOK_SECRET;
  const header = argv.length > 2 ? argv[2] : (process.env.FLOWTRIQ_SIGNATURE || '');
  if (secret === undefined) {
    process.stderr.write('verify.js: no secret (argument or FLOWTRIQ_WEBHOOK_SECRET)\n');
    return 2;
  }
  const body = fs.readFileSync(argv[0]); // a Buffer: the raw bytes
  process.stdout.write(ownSignature(body, secret) + '\n');
  let valid;
  try {
    valid = verifySignature(body, header, secret);
  } catch (e) {
    // timingSafeEqual throws when the lengths differ.
    process.stderr.write('verify.js: ' + e.message + '\n');
    valid = false;
  }
  return valid ? 0 : 1;
}

process.exitCode = main(process.argv.slice(2));
