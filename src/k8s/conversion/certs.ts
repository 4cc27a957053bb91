// Self-managed TLS for the conversion webhook: a CA and a serving certificate made in-process
// (node:crypto keys, node-forge X.509). The CA goes into the CRDs' caBundle.
import { generateKeyPairSync } from 'node:crypto';
import forge from 'node-forge';

export interface WebhookCerts { caPem: string; certPem: string; keyPem: string }

function keyPair() {
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const keyPem = privateKey.export({ type: 'pkcs1', format: 'pem' }).toString();
  return {
    keyPem,
    priv: forge.pki.privateKeyFromPem(keyPem),
    pub: forge.pki.publicKeyFromPem(publicKey.export({ type: 'spki', format: 'pem' }).toString()),
  };
}

function serial(): string {
  return forge.util.bytesToHex(forge.random.getBytesSync(16)).replace(/^[89a-f]/, '1');
}

function newCertificate(publicKey: forge.pki.PublicKey, notBefore: Date, notAfter: Date): forge.pki.Certificate {
  const cert = forge.pki.createCertificate();
  cert.publicKey = publicKey;
  cert.serialNumber = serial();
  cert.validity.notBefore = notBefore;
  cert.validity.notAfter = notAfter;
  return cert;
}

/** A fresh CA and a server certificate for `dnsNames` and `ips`, valid for `days`. */
export function generateWebhookCerts(dnsNames: string[], ips: string[] = ['127.0.0.1'], days = 365): WebhookCerts {
  const now = new Date(Date.now() - 60_000);
  const until = new Date(now.getTime() + days * 86_400_000);
  const ca = keyPair();
  const caCert = newCertificate(ca.pub, now, until);
  const caName = [{ name: 'commonName', value: 'agentbox-operator-webhook-ca' }];
  caCert.setSubject(caName);
  caCert.setIssuer(caName);
  caCert.setExtensions([
    { name: 'basicConstraints', cA: true, critical: true },
    { name: 'keyUsage', keyCertSign: true, cRLSign: true, critical: true },
  ]);
  caCert.sign(ca.priv, forge.md.sha256.create());

  const srv = keyPair();
  const cert = newCertificate(srv.pub, now, until);
  cert.setSubject([{ name: 'commonName', value: dnsNames[0] ?? 'agentbox-webhook' }]);
  cert.setIssuer(caName);
  cert.setExtensions([
    { name: 'basicConstraints', cA: false },
    { name: 'keyUsage', digitalSignature: true, keyEncipherment: true, critical: true },
    { name: 'extKeyUsage', serverAuth: true },
    { name: 'subjectAltName', altNames: [...dnsNames.map((value) => ({ type: 2, value })), ...ips.map((ip) => ({ type: 7, ip }))] },
  ]);
  cert.sign(ca.priv, forge.md.sha256.create());
  return { caPem: forge.pki.certificateToPem(caCert), certPem: forge.pki.certificateToPem(cert), keyPem: srv.keyPem };
}
