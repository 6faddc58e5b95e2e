#!/usr/bin/env bash
# Regenerates the certificate fixtures of tests/certificates.rs with the
# openssl CLI (3.x). Run from anywhere: it works in its own directory.
# Every key here is a throwaway test key, used nowhere else.
set -euo pipefail
cd "$(dirname "$0")"
o=openssl
days=36500
rm -f ./*.pem ./*.der ./*.srl ./*.cnf fingerprints.txt

cat > ca.cnf <<'CNF'
[ca]
basicConstraints = critical, CA:TRUE
keyUsage = critical, keyCertSign, cRLSign
subjectKeyIdentifier = hash
[leaf]
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature
extendedKeyUsage = clientAuth
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
CNF

# A root and an intermediate CA (P-256).
$o genpkey -algorithm EC -pkeyopt ec_paramgen_curve:prime256v1 -out root.key.pem
$o req -new -x509 -key root.key.pem -subj "/CN=client-assertion test root" -days $days \
  -extensions ca -config ca.cnf -out root.cert.pem 2>/dev/null
$o genpkey -algorithm EC -pkeyopt ec_paramgen_curve:prime256v1 -out intermediate.key.pem
$o req -new -key intermediate.key.pem -subj "/CN=client-assertion test intermediate" -out intermediate.csr.pem
$o x509 -req -in intermediate.csr.pem -CA root.cert.pem -CAkey root.key.pem -CAcreateserial \
  -days $days -extfile ca.cnf -extensions ca -out intermediate.cert.pem 2>/dev/null

# Leaf client certificates, one per key type, issued by the intermediate.
$o genpkey -algorithm EC -pkeyopt ec_paramgen_curve:prime256v1 -out ec.key.pem
$o genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -quiet -out rsa.key.pem
$o genpkey -algorithm ED25519 -out ed25519.key.pem
for k in ec rsa ed25519; do
  $o req -new -key $k.key.pem -subj "/CN=client-assertion test $k client" -out $k.csr.pem
  $o x509 -req -in $k.csr.pem -CA intermediate.cert.pem -CAkey intermediate.key.pem -CAcreateserial \
    -days $days -extfile ca.cnf -extensions leaf -out $k.cert.pem 2>/dev/null
  $o x509 -in $k.cert.pem -outform DER -out $k.cert.der
  # The chain as served: leaf first, then the intermediate.
  cat $k.cert.pem intermediate.cert.pem > $k.chain.pem
done
$o x509 -in intermediate.cert.pem -outform DER -out intermediate.cert.der
# A self-signed RSA certificate, as uploaded to an Entra ID app registration.
$o genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -quiet -out entra.key.pem
$o req -new -x509 -key entra.key.pem -subj "/CN=client-assertion test entra app" -days $days -out entra.cert.pem

# Expected thumbprints, computed by openssl (hex, colon separated), one line each:
# <file> <sha256|sha1> <hex>
for c in ec rsa ed25519 intermediate root entra; do
  for h in sha256 sha1; do
    fp=$($o x509 -in $c.cert.pem -noout -fingerprint -$h | sed 's/^.*=//')
    echo "$c.cert.pem $h $fp" >> fingerprints.txt
  done
done
rm -f ./*.csr.pem ./*.srl ca.cnf root.key.pem intermediate.key.pem
