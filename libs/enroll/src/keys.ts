import { type SshKeyPair } from '@berth/domain';
import { utils } from 'ssh2';

/**
 * Makes a new Ed25519 key pair. ssh2's generator drops a leading zero byte of the public key about one
 * time in 256 (mscdex/ssh2#1513), and the pair it answers then is one that neither ssh2 nor OpenSSH reads:
 * such a draw is discarded and another made. Sixteen bad draws in a row (odds 2^-128) mean a broken generator.
 */
export function newSshKeyPair(comment = ''): SshKeyPair {
  for (let draw = 0; draw < 16; draw++) {
    const pair = utils.generateKeyPairSync('ed25519', { comment });
    if (readable(pair.public) && readable(pair.private)) return { publicKey: pair.public, privateKey: pair.private };
  }
  throw new Error('ssh2 made 16 unreadable Ed25519 key pairs in a row');
}

function readable(key: string): boolean {
  const parsed = utils.parseKey(key);
  return !(parsed instanceof Error) && !Array.isArray(parsed);
}
