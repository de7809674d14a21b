#!/bin/sh
# gen-keys DIR: a throwaway PKI for one test run — a CA, a server and a client certificate
# (EC P-256, valid 2 days, proper key usages for `remote-cert-tls server`) and a tls-auth key.
set -eu
out=${1:?usage: gen-keys DIR}
cd "$out"
cat > ext.cnf <<'CNF'
[server]
basicConstraints = CA:FALSE
keyUsage = critical, digitalSignature, keyAgreement
extendedKeyUsage = serverAuth
[client]
basicConstraints = CA:FALSE
keyUsage = critical, digitalSignature, keyAgreement
extendedKeyUsage = clientAuth
CNF
ec="-newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes"
openssl req -x509 $ec -keyout ca.key -out ca.crt -days 2 -subj /CN=docker-worker-test-vpn-ca 2>/dev/null
for n in server client; do
  openssl req $ec -keyout "$n.key" -out "$n.csr" -subj "/CN=docker-worker-test-vpn-$n" 2>/dev/null
  openssl x509 -req -in "$n.csr" -CA ca.crt -CAkey ca.key -CAcreateserial -out "$n.crt" -days 2 \
    -extfile ext.cnf -extensions "$n" 2>/dev/null
done
openvpn --genkey secret ta.key
rm -f ./*.csr ext.cnf ca.srl
# Readable by the test process that copies them into the server and client directories.
chmod 644 ./*
ls
