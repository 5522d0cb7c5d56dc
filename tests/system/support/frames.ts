/**
 * Ethernet frames as a tenant's raw socket would send them, in hex for rawsend (rawsend/rawsend.c): the
 * port security tests forge a source MAC, a source address or an ARP claim with these.
 */
const mac = (m: string) => m.split(':').join('');
const ip4 = (a: string) =>
  a
    .split('.')
    .map((o) => Number(o).toString(16).padStart(2, '0'))
    .join('');
const u16 = (n: number) => n.toString(16).padStart(4, '0');

/** An ARP reply: "senderIp is at senderMac", sent from ethernet source `from` to `to` (broadcast: gratuitous). */
export function arpReply(a: {
  from: string;
  to: string;
  senderMac: string;
  senderIp: string;
  targetIp: string;
}): string {
  const targetMac = a.to === 'ff:ff:ff:ff:ff:ff' ? '00:00:00:00:00:00' : a.to;
  return (
    mac(a.to) +
    mac(a.from) +
    '0806' + // ARP
    '0001' +
    '0800' +
    '06' +
    '04' +
    '0002' + // Ethernet/IPv4, reply
    mac(a.senderMac) +
    ip4(a.senderIp) +
    mac(targetMac) +
    ip4(a.targetIp)
  );
}

function ipChecksum(header: string): string {
  let sum = 0;
  for (let i = 0; i < header.length; i += 4) sum += parseInt(header.slice(i, i + 4), 16);
  while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
  return u16(~sum & 0xffff);
}

/** A UDP datagram (no UDP checksum, which IPv4 allows) from `srcIp`/`from` to `dstIp`/`to`. */
export function udpFrame(f: {
  from: string;
  to: string;
  srcIp: string;
  dstIp: string;
  srcPort: number;
  dstPort: number;
  payload: string;
}): string {
  const data = Buffer.from(f.payload).toString('hex');
  const udpLength = 8 + data.length / 2;
  const udp = u16(f.srcPort) + u16(f.dstPort) + u16(udpLength) + '0000' + data;
  const header = (checksum: string) =>
    '45' + '00' + u16(20 + udpLength) + '0000' + '4000' + '40' + '11' + checksum + ip4(f.srcIp) + ip4(f.dstIp);
  return mac(f.to) + mac(f.from) + '0800' + header(ipChecksum(header('0000'))) + udp;
}
