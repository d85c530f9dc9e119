<?php
// Flowtriq's reference PHP verifier, wrapped in a command line.
//
// usage: php verify.php BODY_FILE [SECRET] [SIGNATURE_HEADER]
//
// SECRET defaults to $FLOWTRIQ_WEBHOOK_SECRET; SIGNATURE_HEADER to $FLOWTRIQ_SIGNATURE, else to
// $HTTP_X_FLOWTRIQ_SIGNATURE as a web server would pass it. Prints this verifier's own
// `sha256=<hex>` for the body, then exits 0 when SIGNATURE_HEADER verifies with the vendor's
// exact comparison and 1 otherwise (2 on bad usage).

if ($argc < 2) {
    fwrite(STDERR, "usage: php verify.php BODY_FILE [SECRET] [SIGNATURE_HEADER]\n");
    exit(2);
}
$secret = $argc > 2 ? $argv[2] : getenv('FLOWTRIQ_WEBHOOK_SECRET');
if ($secret === false) {
    fwrite(STDERR, "verify.php: no secret (argument or FLOWTRIQ_WEBHOOK_SECRET)\n");
    exit(2);
}
if ($argc > 3) {
    $_SERVER['HTTP_X_FLOWTRIQ_SIGNATURE'] = $argv[3];
} elseif (getenv('FLOWTRIQ_SIGNATURE') !== false) {
    $_SERVER['HTTP_X_FLOWTRIQ_SIGNATURE'] = getenv('FLOWTRIQ_SIGNATURE');
} elseif (!isset($_SERVER['HTTP_X_FLOWTRIQ_SIGNATURE'])) {
    $_SERVER['HTTP_X_FLOWTRIQ_SIGNATURE'] = '';
}
$payload_body = file_get_contents($argv[1]);
if ($payload_body === false) {
    fwrite(STDERR, "verify.php: cannot read {$argv[1]}\n");
    exit(2);
}

// --- Vendor reference (Flowtriq webhook reference, "PHP"), verbatim -------------------------
$expected = 'sha256=' . hash_hmac('sha256', $payload_body, $secret);
$valid = hash_equals($expected, $_SERVER['HTTP_X_FLOWTRIQ_SIGNATURE']);
// --- End of vendor reference ----------------------------------------------------------------

echo $expected, "\n";
exit($valid ? 0 : 1);
