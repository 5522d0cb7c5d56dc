import { BerthError } from '@berth/domain';
import { newSshKeyPair } from '@berth/enroll';
import { createHash } from 'node:crypto';
import { utils, type ParsedKey } from 'ssh2';

/** An OpenSSH public key line, checked and reduced to its type and key (a comment is dropped); its MD5 fingerprint. */
export function readPublicKey(line: string, field: string): { publicKey: string; fingerprint: string } {
  const key: ParsedKey | Error = line.length <= 16_384 ? utils.parseKey(line) : new Error('too long');
  if (key instanceof Error || key.isPrivateKey()) {
    throw BerthError.invalid([{ field, rule: 'sshPublicKey', message: `${field} must be an OpenSSH public key line` }]);
  }
  const blob = key.getPublicSSH();
  const fingerprint = (createHash('md5').update(blob).digest('hex').match(/../g) ?? []).join(':');
  return { publicKey: `${key.type} ${blob.toString('base64')}`, fingerprint };
}

/** A new Ed25519 pair: its public key read as any given one, and its private key (OpenSSH format) for the caller. */
export function newKeypair(field: string): { key: { publicKey: string; fingerprint: string }; privateKey: string } {
  const made = newSshKeyPair();
  return { key: readPublicKey(made.publicKey, field), privateKey: made.privateKey };
}
