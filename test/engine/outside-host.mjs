// The "outside world" for egress tests, run by the test inside a network namespace it created
// (never reachable beyond this machine): an HTTP server on :8080 that answers with the address
// it was reached on, and an authoritative DNS server on :53 for a few names under `.test`.
import { createServer } from 'node:http';
import { createSocket } from 'node:dgram';
import dnsPacket from 'dns-packet';

const names = JSON.parse(process.argv[2]);
createServer((req, res) => res.end(`outside ${req.socket.localAddress}`)).listen(8080, '0.0.0.0');
const dns = createSocket('udp4');
dns.on('message', (msg, rinfo) => {
  const q = dnsPacket.decode(msg);
  const name = q.questions?.[0]?.name ?? '';
  const ip = names[name];
  const answer = dnsPacket.encode({
    type: 'response', id: q.id, flags: dnsPacket.AUTHORITATIVE_ANSWER | (ip ? 0 : 3), questions: q.questions,
    answers: ip && q.questions[0].type === 'A' ? [{ type: 'A', name, ttl: 300, data: ip }] : [],
  });
  dns.send(answer, rinfo.port, rinfo.address);
});
dns.bind(53, '0.0.0.0', () => console.log('ready'));
